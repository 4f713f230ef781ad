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
from sbplugins.datasets.dataset_info import CENTRE, LEFT, RIGHT, keypoint_table, skeleton_table

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
    keypoint_info=keypoint_table(
        (0, 'left_shoulder', LEFT, 'upper', 'right_shoulder'),
        (1, 'right_shoulder', RIGHT, 'upper', 'left_shoulder'),
        (2, 'left_elbow', LEFT, 'upper', 'right_elbow'),
        (3, 'right_elbow', RIGHT, 'upper', 'left_elbow'),
        (4, 'left_wrist', LEFT, 'upper', 'right_wrist'),
        (5, 'right_wrist', RIGHT, 'upper', 'left_wrist'),
        (6, 'left_hip', LEFT, 'lower', 'right_hip'),
        (7, 'right_hip', RIGHT, 'lower', 'left_hip'),
        (8, 'left_knee', LEFT, 'lower', 'right_knee'),
        (9, 'right_knee', RIGHT, 'lower', 'left_knee'),
        (10, 'left_ankle', LEFT, 'lower', 'right_ankle'),
        (11, 'right_ankle', RIGHT, 'lower', 'left_ankle'),
        (12, 'top_head', CENTRE, 'upper'),
        (13, 'neck', CENTRE, 'upper'),
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
        ('top_head', 'neck', CENTRE),
        ('right_shoulder', 'neck', CENTRE),
        ('left_shoulder', 'neck', CENTRE),
    ),
    joint_weights=[0.2, 0.2, 0.2, 1.3, 1.5, 0.2, 1.3, 1.5, 0.2, 0.2, 0.5, 0.2, 0.2, 0.5],
    sigmas=[
        0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107, 0.087, 0.087, 0.089, 0.089, 0.079,
        0.079
    ],
    evaluation=dict(iou_type='keypoints_crowd', use_area=False, max_dets=20),
    annotation_rules=dict(area='bbox'),
)
