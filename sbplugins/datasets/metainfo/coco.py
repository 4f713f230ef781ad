"""COCO person keypoints (17 joints): names, colours, left/right swaps, skeleton, weights, OKS sigmas.

Joint order is the order of ``categories[0]['keypoints']`` in the COCO annotation files.
Colours (RGB) follow the usual convention: left limbs green, right limbs orange, centre blue.
``joint_weights`` are the per-joint target weights MMPose-style recipes may use; ``sigmas`` are the
per-joint OKS falloff constants of the COCO keypoint benchmark (see the reference doc).
"""
_CENTRE, _LEFT, _RIGHT = [51, 153, 255], [0, 255, 0], [255, 128, 0]


def _joint(idx, name, color, part, swap=''):
    return dict(name=name, id=idx, color=color, type=part, swap=swap)


dataset_info = dict(
    dataset_name='coco',
    paper_info=dict(
        author='Lin, Tsung-Yi and others',
        title='Microsoft COCO: Common Objects in Context',
        container='ECCV',
        year='2014',
        homepage='http://cocodataset.org/',
    ),
    keypoint_info={
        0: _joint(0, 'nose', _CENTRE, 'upper'),
        1: _joint(1, 'left_eye', _CENTRE, 'upper', 'right_eye'),
        2: _joint(2, 'right_eye', _CENTRE, 'upper', 'left_eye'),
        3: _joint(3, 'left_ear', _CENTRE, 'upper', 'right_ear'),
        4: _joint(4, 'right_ear', _CENTRE, 'upper', 'left_ear'),
        5: _joint(5, 'left_shoulder', _LEFT, 'upper', 'right_shoulder'),
        6: _joint(6, 'right_shoulder', _RIGHT, 'upper', 'left_shoulder'),
        7: _joint(7, 'left_elbow', _LEFT, 'upper', 'right_elbow'),
        8: _joint(8, 'right_elbow', _RIGHT, 'upper', 'left_elbow'),
        9: _joint(9, 'left_wrist', _LEFT, 'upper', 'right_wrist'),
        10: _joint(10, 'right_wrist', _RIGHT, 'upper', 'left_wrist'),
        11: _joint(11, 'left_hip', _LEFT, 'lower', 'right_hip'),
        12: _joint(12, 'right_hip', _RIGHT, 'lower', 'left_hip'),
        13: _joint(13, 'left_knee', _LEFT, 'lower', 'right_knee'),
        14: _joint(14, 'right_knee', _RIGHT, 'lower', 'left_knee'),
        15: _joint(15, 'left_ankle', _LEFT, 'lower', 'right_ankle'),
        16: _joint(16, 'right_ankle', _RIGHT, 'lower', 'left_ankle'),
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
        12: dict(link=('left_eye', 'right_eye'), id=12, color=_CENTRE),
        13: dict(link=('nose', 'left_eye'), id=13, color=_CENTRE),
        14: dict(link=('nose', 'right_eye'), id=14, color=_CENTRE),
        15: dict(link=('left_eye', 'left_ear'), id=15, color=_CENTRE),
        16: dict(link=('right_eye', 'right_ear'), id=16, color=_CENTRE),
        17: dict(link=('left_ear', 'left_shoulder'), id=17, color=_CENTRE),
        18: dict(link=('right_ear', 'right_shoulder'), id=18, color=_CENTRE),
    },
    # Elbows/knees and wrists/ankles are harder; weighted up when a recipe enables joint weights.
    joint_weights=[
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5, 1.0, 1.0, 1.2, 1.2, 1.5, 1.5
    ],
    # COCO OKS sigmas (reference doc, "COCO evaluation"): the published per-joint values / 10.
    sigmas=[
        0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
        0.087, 0.087, 0.089, 0.089
    ],
)
