"""Human-Art, 21 joints: COCO's 17 plus left/right finger and left/right toe.

Source: the Human-Art release (Ju et al., CVPR 2023): the ``keypoints_21`` field of its
annotation files (COCO's 17 joints in COCO's order, then left_finger, right_finger, left_toe,
right_toe). The extra joints get the ankles' OKS sigma 0.089 and weight 1, as in MMPose's
humanart21 dataset info; fingers hang off the wrists and toes off the ankles in the skeleton.
``annotation_rules.keypoints_field`` makes CocoDataset and CocoMetric read ``keypoints_21``.
"""
import os
import runpy

_here = os.path.dirname(os.path.abspath(__file__))
_coco = runpy.run_path(os.path.join(_here, 'coco.py'))['dataset_info']
_humanart = runpy.run_path(os.path.join(_here, 'humanart.py'))
_LEFT, _RIGHT = [0, 255, 0], [255, 128, 0]

_extra = [('left_finger', _LEFT, 'upper', 'right_finger'),
          ('right_finger', _RIGHT, 'upper', 'left_finger'),
          ('left_toe', _LEFT, 'lower', 'right_toe'),
          ('right_toe', _RIGHT, 'lower', 'left_toe')]
_keypoints = dict(_coco['keypoint_info'])
for _i, (_name, _color, _part, _swap) in enumerate(_extra, start=17):
    _keypoints[_i] = dict(name=_name, id=_i, color=_color, type=_part, swap=_swap)
_skeleton = dict(_coco['skeleton_info'])
for _end, _tip, _color in (('left_ankle', 'left_toe', _LEFT), ('right_ankle', 'right_toe', _RIGHT),
                           ('left_wrist', 'left_finger', _LEFT),
                           ('right_wrist', 'right_finger', _RIGHT)):
    _skeleton[len(_skeleton)] = dict(link=(_end, _tip), id=len(_skeleton), color=_color)

dataset_info = dict(
    dataset_name='humanart21',
    paper_info=_humanart['HUMANART_PAPER'],
    keypoint_info=_keypoints,
    skeleton_info=_skeleton,
    joint_weights=list(_coco['joint_weights']) + [1.0] * 4,
    sigmas=list(_coco['sigmas']) + [0.089] * 4,
    evaluation=dict(iou_type='keypoints', use_area=True, max_dets=20),
    annotation_rules=dict(keypoints_field='keypoints_21'),
)
