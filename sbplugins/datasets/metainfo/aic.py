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
_CENTRE, _LEFT, _RIGHT = [51, 153, 255], [0, 255, 0], [255, 128, 0]


def _joint(idx, name, color, part, swap=''):
    return dict(name=name, id=idx, color=color, type=part, swap=swap)


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
    keypoint_info={
        0: _joint(0, 'right_shoulder', _RIGHT, 'upper', 'left_shoulder'),
        1: _joint(1, 'right_elbow', _RIGHT, 'upper', 'left_elbow'),
        2: _joint(2, 'right_wrist', _RIGHT, 'upper', 'left_wrist'),
        3: _joint(3, 'left_shoulder', _LEFT, 'upper', 'right_shoulder'),
        4: _joint(4, 'left_elbow', _LEFT, 'upper', 'right_elbow'),
        5: _joint(5, 'left_wrist', _LEFT, 'upper', 'right_wrist'),
        6: _joint(6, 'right_hip', _RIGHT, 'lower', 'left_hip'),
        7: _joint(7, 'right_knee', _RIGHT, 'lower', 'left_knee'),
        8: _joint(8, 'right_ankle', _RIGHT, 'lower', 'left_ankle'),
        9: _joint(9, 'left_hip', _LEFT, 'lower', 'right_hip'),
        10: _joint(10, 'left_knee', _LEFT, 'lower', 'right_knee'),
        11: _joint(11, 'left_ankle', _LEFT, 'lower', 'right_ankle'),
        12: _joint(12, 'head_top', _CENTRE, 'upper'),
        13: _joint(13, 'neck', _CENTRE, 'upper'),
    },
    skeleton_info={
        0: dict(link=('right_wrist', 'right_elbow'), id=0, color=_RIGHT),
        1: dict(link=('right_elbow', 'right_shoulder'), id=1, color=_RIGHT),
        2: dict(link=('right_shoulder', 'neck'), id=2, color=_CENTRE),
        3: dict(link=('neck', 'left_shoulder'), id=3, color=_CENTRE),
        4: dict(link=('left_shoulder', 'left_elbow'), id=4, color=_LEFT),
        5: dict(link=('left_elbow', 'left_wrist'), id=5, color=_LEFT),
        6: dict(link=('right_ankle', 'right_knee'), id=6, color=_RIGHT),
        7: dict(link=('right_knee', 'right_hip'), id=7, color=_RIGHT),
        8: dict(link=('right_hip', 'left_hip'), id=8, color=_CENTRE),
        9: dict(link=('left_hip', 'left_knee'), id=9, color=_LEFT),
        10: dict(link=('left_knee', 'left_ankle'), id=10, color=_LEFT),
        11: dict(link=('head_top', 'neck'), id=11, color=_CENTRE),
        12: dict(link=('right_shoulder', 'right_hip'), id=12, color=_CENTRE),
        13: dict(link=('left_shoulder', 'left_hip'), id=13, color=_CENTRE),
    },
    joint_weights=[1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.2, 1.5, 1., 1.],
    # keypoint_eval.py: delta = 2 * [these]
    sigmas=[
        0.01388152, 0.01515228, 0.01057665, 0.01417709, 0.01497891, 0.01402144, 0.03909642,
        0.03686941, 0.01981803, 0.03843971, 0.03412318, 0.02415081, 0.01291456, 0.01236173
    ],
    evaluation=dict(iou_type='keypoints', use_area=False, max_dets=20),
    annotation_rules=dict(area='bbox'),
)
