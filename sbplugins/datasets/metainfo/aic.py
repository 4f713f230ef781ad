"""AI Challenger keypoints (14 joints): names, colours, left/right swaps, skeleton, weights, sigmas.

Source: the AI Challenger 2017 release (Wu et al., arXiv 1711.06475;
github.com/AIChallenger/AI_Challenger_2017): joint order of its ``keypoint_annotations``
(right arm, left arm, right leg, left leg, head top, neck); the sigmas are half the ``delta``
constants of its ``keypoint_eval.py`` (delta = 2 sigma, so COCOeval's (2 sigma)^2 matches);
the joint weights are MMPose's. Colours follow coco.py's convention.

Protocol (``evaluation``): no segmentation area, OKS on the box area (xtcocotools
``use_area=False``, which scales the box area by 0.53 like CrowdPose; AI Challenger's own
evaluator uses the unscaled box area and reports one mAP, so numbers differ from its leaderboard).
A missing ``area`` is the box's w * h. Both the published JSON (``AicDataset``) and MMPose's
COCO-style conversion (``CocoDataset``) load with this file.
"""
from sbplugins.datasets.dataset_info import CENTRE, LEFT, RIGHT, keypoint_table, skeleton_table

dataset_info = dict(
    dataset_name='aic',
    paper_info=dict(
        author='Wu, Jiahong and Zheng, He and Zhao, Bo and Li, Yixin and Yan, Baoming and '
        'Liang, Rui and Wang, Wenjia and Zhou, Shipei and Lin, Guosen and Fu, Yanwei and others',
        title='AI Challenger: A Large-scale Dataset for Going Deeper in Image Understanding',
        container='arXiv',
        year='2017',
        homepage='https://github.com/AIChallenger/AI_Challenger_2017',
    ),
    keypoint_info=keypoint_table(
        (0, 'right_shoulder', RIGHT, 'upper', 'left_shoulder'),
        (1, 'right_elbow', RIGHT, 'upper', 'left_elbow'),
        (2, 'right_wrist', RIGHT, 'upper', 'left_wrist'),
        (3, 'left_shoulder', LEFT, 'upper', 'right_shoulder'),
        (4, 'left_elbow', LEFT, 'upper', 'right_elbow'),
        (5, 'left_wrist', LEFT, 'upper', 'right_wrist'),
        (6, 'right_hip', RIGHT, 'lower', 'left_hip'),
        (7, 'right_knee', RIGHT, 'lower', 'left_knee'),
        (8, 'right_ankle', RIGHT, 'lower', 'left_ankle'),
        (9, 'left_hip', LEFT, 'lower', 'right_hip'),
        (10, 'left_knee', LEFT, 'lower', 'right_knee'),
        (11, 'left_ankle', LEFT, 'lower', 'right_ankle'),
        (12, 'head_top', CENTRE, 'upper'),
        (13, 'neck', CENTRE, 'upper'),
    ),
    skeleton_info=skeleton_table(
        ('right_wrist', 'right_elbow', RIGHT),
        ('right_elbow', 'right_shoulder', RIGHT),
        ('right_shoulder', 'neck', CENTRE),
        ('neck', 'left_shoulder', CENTRE),
        ('left_shoulder', 'left_elbow', LEFT),
        ('left_elbow', 'left_wrist', LEFT),
        ('right_ankle', 'right_knee', RIGHT),
        ('right_knee', 'right_hip', RIGHT),
        ('right_hip', 'left_hip', CENTRE),
        ('left_hip', 'left_knee', LEFT),
        ('left_knee', 'left_ankle', LEFT),
        ('head_top', 'neck', CENTRE),
        ('right_shoulder', 'right_hip', CENTRE),
        ('left_shoulder', 'left_hip', CENTRE),
    ),
    joint_weights=[1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.],
    # keypoint_eval.py: delta = 2 * [these]
    sigmas=[
        0.01388152, 0.01515228, 0.01057665, 0.01417709, 0.01497891, 0.01402144, 0.03909642,
        0.03686941, 0.01981803, 0.03843971, 0.03412318, 0.02415081, 0.01291456, 0.01236173
    ],
    evaluation=dict(iou_type='keypoints', use_area=False, max_dets=20),
    annotation_rules=dict(area='bbox'),
)
