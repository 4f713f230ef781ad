"""MPII Human Pose (16 joints): names, colours, left/right swaps, skeleton, weights, sigmas.

Joint order is the MPII / SimpleBaseline JSON order (0 right ankle ... 15 left wrist).
The swaps give the reference doc's flip pairs (0,5) (1,4) (2,3) (10,15) (11,14) (12,13).
MPII is scored with PCKh, not OKS; ``sigmas`` are provided only so OKS-based tools can run on it.
"""
_CENTRE, _LEFT, _RIGHT = [51, 153, 255], [0, 255, 0], [255, 128, 0]


def _joint(idx, name, color, part, swap=''):
    return dict(name=name, id=idx, color=color, type=part, swap=swap)


dataset_info = dict(
    dataset_name='mpii',
    paper_info=dict(
        author='Andriluka, Mykhaylo and Pishchulin, Leonid and Gehler, Peter and Schiele, Bernt',
        title='2D Human Pose Estimation: New Benchmark and State of the Art Analysis',
        container='CVPR',
        year='2014',
        homepage='http://human-pose.mpi-inf.mpg.de/',
    ),
    keypoint_info={
        0: _joint(0, 'right_ankle', _RIGHT, 'lower', 'left_ankle'),
        1: _joint(1, 'right_knee', _RIGHT, 'lower', 'left_knee'),
        2: _joint(2, 'right_hip', _RIGHT, 'lower', 'left_hip'),
        3: _joint(3, 'left_hip', _LEFT, 'lower', 'right_hip'),
        4: _joint(4, 'left_knee', _LEFT, 'lower', 'right_knee'),
        5: _joint(5, 'left_ankle', _LEFT, 'lower', 'right_ankle'),
        6: _joint(6, 'pelvis', _CENTRE, 'lower'),
        7: _joint(7, 'thorax', _CENTRE, 'upper'),
        8: _joint(8, 'upper_neck', _CENTRE, 'upper'),
        9: _joint(9, 'head_top', _CENTRE, 'upper'),
        10: _joint(10, 'right_wrist', _RIGHT, 'upper', 'left_wrist'),
        11: _joint(11, 'right_elbow', _RIGHT, 'upper', 'left_elbow'),
        12: _joint(12, 'right_shoulder', _RIGHT, 'upper', 'left_shoulder'),
        13: _joint(13, 'left_shoulder', _LEFT, 'upper', 'right_shoulder'),
        14: _joint(14, 'left_elbow', _LEFT, 'upper', 'right_elbow'),
        15: _joint(15, 'left_wrist', _LEFT, 'upper', 'right_wrist'),
    },
    skeleton_info={
        0: dict(link=('right_ankle', 'right_knee'), id=0, color=_RIGHT),
        1: dict(link=('right_knee', 'right_hip'), id=1, color=_RIGHT),
        2: dict(link=('right_hip', 'pelvis'), id=2, color=_RIGHT),
        3: dict(link=('pelvis', 'left_hip'), id=3, color=_LEFT),
        4: dict(link=('left_hip', 'left_knee'), id=4, color=_LEFT),
        5: dict(link=('left_knee', 'left_ankle'), id=5, color=_LEFT),
        6: dict(link=('pelvis', 'thorax'), id=6, color=_CENTRE),
        7: dict(link=('thorax', 'upper_neck'), id=7, color=_CENTRE),
        8: dict(link=('upper_neck', 'head_top'), id=8, color=_CENTRE),
        9: dict(link=('upper_neck', 'right_shoulder'), id=9, color=_RIGHT),
        10: dict(link=('right_shoulder', 'right_elbow'), id=10, color=_RIGHT),
        11: dict(link=('right_elbow', 'right_wrist'), id=11, color=_RIGHT),
        12: dict(link=('upper_neck', 'left_shoulder'), id=12, color=_LEFT),
        13: dict(link=('left_shoulder', 'left_elbow'), id=13, color=_LEFT),
        14: dict(link=('left_elbow', 'left_wrist'), id=14, color=_LEFT),
    },
    joint_weights=[1.5, 1.2, 1.0, 1.0, 1.2, 1.5, 1.0, 1.0, 1.0, 1.0, 1.5, 1.2, 1.0, 1.0, 1.2, 1.5],
    # OKS-style falloffs per joint (only for OKS-based tools; MPII's own metric is PCKh).
    sigmas=[
        0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062, 0.072, 0.179,
        0.179, 0.072, 0.062
    ],
)
