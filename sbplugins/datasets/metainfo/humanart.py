"""Human-Art (17 joints, COCO layout): natural and artificial humans in COCO format.

Source: the Human-Art release (Ju et al., CVPR 2023; idea-research.github.io/HumanArt): the
``keypoints`` field of its annotation files holds COCO's 17 joints in COCO's order, so names,
swaps, skeleton, joint weights and OKS sigmas are COCO's (read from coco.py here). The 21-joint
layout (``keypoints_21``) is humanart21.py. Protocol: COCO's (``area`` present).
"""
from sbplugins.datasets.dataset_info import read_dataset_info

dataset_info = dict(
    read_dataset_info('coco'),
    dataset_name='humanart',
    paper_info=dict(
        author='Ju, Xuan and Zeng, Ailing and Wang, Jianan and Xu, Qiang and Zhang, Lei',
        title='Human-Art: A Versatile Human-Centric Dataset Bridging Natural and Artificial Scenes',
        container='CVPR',
        year='2023',
        homepage='https://idea-research.github.io/HumanArt/',
    ),
    evaluation=dict(iou_type='keypoints', use_area=True, max_dets=20),
)
