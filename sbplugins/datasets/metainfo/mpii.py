"""MPII Human Pose (16 joints): names, colours, left/right swaps, skeleton, weights, sigmas.

Joint order is the MPII / SimpleBaseline JSON order (0 right ankle ... 15 left wrist).
The swaps give the reference doc's flip pairs (0,5) (1,4) (2,3) (10,15) (11,14) (12,13).
MPII is scored with PCKh, not OKS; ``sigmas`` are provided only so OKS-based tools can run on it.
"""
from sbplugins.datasets.dataset_info import CENTRE, LEFT, RIGHT, keypoint_table, skeleton_table

dataset_info = dict(
    dataset_name='mpii',
    paper_info=dict(
        author='Andriluka, Mykhaylo and Pishchulin, Leonid and Gehler, Peter and Schiele, Bernt',
        title='2D Human Pose Estimation: New Benchmark and State of the Art Analysis',
        container='CVPR',
        year='2014',
        homepage='http://human-pose.mpi-inf.mpg.de/',
    ),
    keypoint_info=keypoint_table(
        (0, 'right_ankle', RIGHT, 'lower', 'left_ankle'),
        (1, 'right_knee', RIGHT, 'lower', 'left_knee'),
        (2, 'right_hip', RIGHT, 'lower', 'left_hip'),
        (3, 'left_hip', LEFT, 'lower', 'right_hip'),
        (4, 'left_knee', LEFT, 'lower', 'right_knee'),
        (5, 'left_ankle', LEFT, 'lower', 'right_ankle'),
        (6, 'pelvis', CENTRE, 'lower'),
        (7, 'thorax', CENTRE, 'upper'),
        (8, 'upper_neck', CENTRE, 'upper'),
        (9, 'head_top', CENTRE, 'upper'),
        (10, 'right_wrist', RIGHT, 'upper', 'left_wrist'),
        (11, 'right_elbow', RIGHT, 'upper', 'left_elbow'),
        (12, 'right_shoulder', RIGHT, 'upper', 'left_shoulder'),
        (13, 'left_shoulder', LEFT, 'upper', 'right_shoulder'),
        (14, 'left_elbow', LEFT, 'upper', 'right_elbow'),
        (15, 'left_wrist', LEFT, 'upper', 'right_wrist'),
    ),
    skeleton_info=skeleton_table(
        ('right_ankle', 'right_knee', RIGHT),
        ('right_knee', 'right_hip', RIGHT),
        ('right_hip', 'pelvis', RIGHT),
        ('pelvis', 'left_hip', LEFT),
        ('left_hip', 'left_knee', LEFT),
        ('left_knee', 'left_ankle', LEFT),
        ('pelvis', 'thorax', CENTRE),
        ('thorax', 'upper_neck', CENTRE),
        ('upper_neck', 'head_top', CENTRE),
        ('upper_neck', 'right_shoulder', RIGHT),
        ('right_shoulder', 'right_elbow', RIGHT),
        ('right_elbow', 'right_wrist', RIGHT),
        ('upper_neck', 'left_shoulder', LEFT),
        ('left_shoulder', 'left_elbow', LEFT),
        ('left_elbow', 'left_wrist', LEFT),
    ),
    joint_weights=[1.5, 1.2, 1.0, 1.0, 1.2, 1.5, 1.0, 1.0, 1.0, 1.0, 1.5, 1.2, 1.0, 1.0, 1.2, 1.5],
    # OKS-style falloffs per joint (only for OKS-based tools; MPII's own metric is PCKh).
    sigmas=[
        0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062, 0.072, 0.179,
        0.179, 0.072, 0.062
    ],
)
