"""Human-Art, 21 joints: COCO's 17 plus left/right finger and left/right toe.

Source: the Human-Art release (Ju et al., CVPR 2023): the ``keypoints_21`` field of its
annotation files (COCO's 17 joints in COCO's order, then left_finger, right_finger, left_toe,
right_toe). The extra joints get the ankles' OKS sigma 0.089 and weight 1, as in MMPose's
humanart21 dataset info; fingers hang off the wrists and toes off the ankles in the skeleton.
``annotation_rules.keypoints_field`` makes CocoDataset and CocoMetric read ``keypoints_21``.
"""
from sbplugins.datasets.dataset_info import (LEFT, RIGHT, keypoint_table, read_dataset_info,
                                             skeleton_table)

_coco = read_dataset_info('coco')

dataset_info = dict(
    dataset_name='humanart21',
    paper_info=read_dataset_info('humanart')['paper_info'],
    keypoint_info={**_coco['keypoint_info'], **keypoint_table(
        (17, 'left_finger', LEFT, 'upper', 'right_finger'),
        (18, 'right_finger', RIGHT, 'upper', 'left_finger'),
        (19, 'left_toe', LEFT, 'lower', 'right_toe'),
        (20, 'right_toe', RIGHT, 'lower', 'left_toe'),
    )},
    skeleton_info={**_coco['skeleton_info'], **skeleton_table(
        ('left_ankle', 'left_toe', LEFT),
        ('right_ankle', 'right_toe', RIGHT),
        ('left_wrist', 'left_finger', LEFT),
        ('right_wrist', 'right_finger', RIGHT),
        first_id=len(_coco['skeleton_info']),
    )},
    joint_weights=list(_coco['joint_weights']) + [1.0] * 4,
    sigmas=list(_coco['sigmas']) + [0.089] * 4,
    evaluation=dict(iou_type='keypoints', use_area=True, max_dets=20),
    annotation_rules=dict(keypoints_field='keypoints_21'),
)
