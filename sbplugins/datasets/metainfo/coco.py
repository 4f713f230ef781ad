"""COCO person keypoints (17 joints): names, colours, left/right swaps, skeleton, weights, OKS sigmas.

Joint order is the order of ``categories[0]['keypoints']`` in the COCO annotation files.
Colours (RGB) follow the usual convention: left limbs green, right limbs orange, centre blue.
``joint_weights`` are the per-joint target weights MMPose-style recipes may use; ``sigmas`` are the
per-joint OKS falloff constants of the COCO keypoint benchmark (see the reference doc).
"""
from sbplugins.datasets.dataset_info import CENTRE, LEFT, RIGHT, keypoint_table, skeleton_table

dataset_info = dict(
    dataset_name='coco',
    paper_info=dict(
        author='Lin, Tsung-Yi and others',
        title='Microsoft COCO: Common Objects in Context',
        container='ECCV',
        year='2014',
        homepage='http://cocodataset.org/',
    ),
    keypoint_info=keypoint_table(
        (0, 'nose', CENTRE, 'upper'),
        (1, 'left_eye', CENTRE, 'upper', 'right_eye'),
        (2, 'right_eye', CENTRE, 'upper', 'left_eye'),
        (3, 'left_ear', CENTRE, 'upper', 'right_ear'),
        (4, 'right_ear', CENTRE, 'upper', 'left_ear'),
        (5, 'left_shoulder', LEFT, 'upper', 'right_shoulder'),
        (6, 'right_shoulder', RIGHT, 'upper', 'left_shoulder'),
        (7, 'left_elbow', LEFT, 'upper', 'right_elbow'),
        (8, 'right_elbow', RIGHT, 'upper', 'left_elbow'),
        (9, 'left_wrist', LEFT, 'upper', 'right_wrist'),
        (10, 'right_wrist', RIGHT, 'upper', 'left_wrist'),
        (11, 'left_hip', LEFT, 'lower', 'right_hip'),
        (12, 'right_hip', RIGHT, 'lower', 'left_hip'),
        (13, 'left_knee', LEFT, 'lower', 'right_knee'),
        (14, 'right_knee', RIGHT, 'lower', 'left_knee'),
        (15, 'left_ankle', LEFT, 'lower', 'right_ankle'),
        (16, 'right_ankle', RIGHT, 'lower', 'left_ankle'),
    ),
    skeleton_info=skeleton_table(
        ('left_ankle', 'left_knee', LEFT),
        ('left_knee', 'left_hip', LEFT),
        ('right_ankle', 'right_knee', RIGHT),
        ('right_knee', 'right_hip', RIGHT),
        ('left_hip', 'right_hip', CENTRE),
        ('left_shoulder', 'left_hip', CENTRE),
        ('right_shoulder', 'right_hip', CENTRE),
        ('left_shoulder', 'right_shoulder', CENTRE),
        ('left_shoulder', 'left_elbow', LEFT),
        ('right_shoulder', 'right_elbow', RIGHT),
        ('left_elbow', 'left_wrist', LEFT),
        ('right_elbow', 'right_wrist', RIGHT),
        ('left_eye', 'right_eye', CENTRE),
        ('nose', 'left_eye', CENTRE),
        ('nose', 'right_eye', CENTRE),
        ('left_eye', 'left_ear', CENTRE),
        ('right_eye', 'right_ear', CENTRE),
        ('left_ear', 'left_shoulder', CENTRE),
        ('right_ear', 'right_shoulder', CENTRE),
    ),
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
