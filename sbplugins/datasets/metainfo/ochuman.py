"""OCHuman (17 joints, COCO layout): evaluation only (val and test splits, no training split).

Source: the OCHuman release (Zhang et al., "Pose2Seg", CVPR 2019;
github.com/liruilong940607/OCHumanApi), whose COCO-format files
``ochuman_coco_format_{val,test}_range_0.00_1.00.json`` hold COCO's 17 joints in COCO's order,
so names, swaps, skeleton, joint weights and OKS sigmas are COCO's (read from coco.py here).
(MMPose's ochuman dataset info names itself 'macaque', a copy-paste slip not repeated here.)
Protocol: COCO's (segmentation area present).
"""
from sbplugins.datasets.dataset_info import read_dataset_info

dataset_info = dict(
    read_dataset_info('coco'),
    dataset_name='ochuman',
    paper_info=dict(
        author='Zhang, Song-Hai and Li, Ruilong and Dong, Xin and Rosin, Paul and Cai, Zixi and '
        'Han, Xi and Yang, Dingcheng and Huang, Haozhi and Hu, Shi-Min',
        title='Pose2Seg: Detection Free Human Instance Segmentation',
        container='CVPR',
        year='2019',
        homepage='https://github.com/liruilong940607/OCHumanApi',
    ),
    evaluation=dict(iou_type='keypoints', use_area=True, max_dets=20),
)
