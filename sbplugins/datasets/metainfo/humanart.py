"""Human-Art (17 joints, COCO layout): natural and artificial humans in COCO format.

Source: the Human-Art release (Ju et al., CVPR 2023; idea-research.github.io/HumanArt): the
``keypoints`` field of its annotation files holds COCO's 17 joints in COCO's order, so names,
swaps, skeleton, joint weights and OKS sigmas are COCO's (read from coco.py here). The 21-joint
layout (``keypoints_21``) is humanart21.py. Protocol: COCO's (``area`` present).
"""
import os
import runpy

_coco = runpy.run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'coco.py'))

HUMANART_PAPER = dict(
    author='Ju, Xuan and Zeng, Ailing and Wang, Jianan and Xu, Qiang and Zhang, Lei',
    title='Human-Art: A Versatile Human-Centric Dataset Bridging Natural and Artificial Scenes',
    container='CVPR',
    year='2023',
    homepage='https://idea-research.github.io/HumanArt/',
)

dataset_info = dict(
    _coco['dataset_info'],
    dataset_name='humanart',
    paper_info=HUMANART_PAPER,
    evaluation=dict(iou_type='keypoints', use_area=True, max_dets=20),
)
