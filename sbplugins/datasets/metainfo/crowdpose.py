"""CrowdPose (14 joints): names, colours, left/right swaps, skeleton, weights, OKS sigmas.

Source: the CrowdPose release (Li et al., CVPR 2019; github.com/Jeff-sjtu/CrowdPose): joint order
of its annotation files (12 COCO body joints, then head top and neck); sigmas are COCO's for the
body joints and 0.079 for head top and neck, as its crowdposetools evaluation uses; the joint
weights are the ones MMPose's crowdpose dataset info ships. Colours follow coco.py's convention.

Protocol (``evaluation``): CrowdPose has no segmentation area, so OKS uses the box area
(x 0.53, xtcocotools ``use_area=False``) and AP is also reported per crowd-index level
(easy < 0.2 <= medium < 0.8 <= hard, xtcocotools' ``keypoints_crowd``), 20 detections per image.
A missing ``area`` is the box's w * h (``annotation_rules``).
"""
_CENTRE, _LEFT, _RIGHT = [51, 153, 255], [0, 255, 0], [255, 128, 0]


def _joint(idx, name, color, part, swap=''):
    return dict(name=name, id=idx, color=color, type=part, swap=swap)


dataset_info = dict(
    dataset_name='crowdpose',
    paper_info=dict(
        author='Li, Jiefeng and Wang, Can and Zhu, Hao and Mao, Yihuan and Fang, Hao-Shu and '
        'Lu, Cewu',
        title='CrowdPose: Efficient Crowded Scenes Pose Estimation and A New Benchmark',
        container='CVPR',
        year='2019',
        homepage='https://github.com/Jeff-sjtu/CrowdPose',
    ),
    keypoint_info={
        0: _joint(0, 'left_shoulder', _LEFT, 'upper', 'right_shoulder'),
        1: _joint(1, 'right_shoulder', _RIGHT, 'upper', 'left_shoulder'),
        2: _joint(2, 'left_elbow', _LEFT, 'upper', 'right_elbow'),
        3: _joint(3, 'right_elbow', _RIGHT, 'upper', 'left_elbow'),
        4: _joint(4, 'left_wrist', _LEFT, 'upper', 'right_wrist'),
        5: _joint(5, 'right_wrist', _RIGHT, 'upper', 'left_wrist'),
        6: _joint(6, 'left_hip', _LEFT, 'lower', 'right_hip'),
        7: _joint(7, 'right_hip', _RIGHT, 'lower', 'left_hip'),
        8: _joint(8, 'left_knee', _LEFT, 'lower', 'right_knee'),
        9: _joint(9, 'right_knee', _RIGHT, 'lower', 'left_knee'),
        10: _joint(10, 'left_ankle', _LEFT, 'lower', 'right_ankle'),
        11: _joint(11, 'right_ankle', _RIGHT, 'lower', 'left_ankle'),
        12: _joint(12, 'top_head', _CENTRE, 'upper'),
        13: _joint(13, 'neck', _CENTRE, 'upper'),
    },
    skeleton_info={
        0: dict(link=('left_ankle', 'left_knee'), id=0, color=_LEFT),
        1: dict(link=('left_knee', 'left_hip'), id=1, color=_LEFT),
        2: dict(link=('right_ankle', 'right_knee'), id=2, color=_RIGHT),
        3: dict(link=('right_knee', 'right_hip'), id=3, color=_RIGHT),
        4: dict(link=('left_hip', 'right_hip'), id=4, color=_CENTRE),
        5: dict(link=('left_shoulder', 'left_hip'), id=5, color=_CENTRE),
        6: dict(link=('right_shoulder', 'right_hip'), id=6, color=_CENTRE),
        7: dict(link=('left_shoulder', 'right_shoulder'), id=7, color=_CENTRE),
        8: dict(link=('left_shoulder', 'left_elbow'), id=8, color=_LEFT),
        9: dict(link=('right_shoulder', 'right_elbow'), id=9, color=_RIGHT),
        10: dict(link=('left_elbow', 'left_wrist'), id=10, color=_LEFT),
        11: dict(link=('right_elbow', 'right_wrist'), id=11, color=_RIGHT),
        12: dict(link=('top_head', 'neck'), id=12, color=_CENTRE),
        13: dict(link=('right_shoulder', 'neck'), id=13, color=_CENTRE),
        14: dict(link=('left_shoulder', 'neck'), id=14, color=_CENTRE),
    },
    joint_weights=[0.2, 0.2, 0.2, 1.3, 1.5, 0.2, 1.3, 1.5, 0.2, 0.2, 0.5, 0.2, 0.2, 0.5],
    sigmas=[
        0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089, 0.079,
        0.079
    ],
    evaluation=dict(iou_type='keypoints_crowd', use_area=False, max_dets=20),
    annotation_rules=dict(area='bbox'),
)
