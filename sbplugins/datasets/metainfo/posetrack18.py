"""PoseTrack 2018 (17 joints in COCO's order): COCO's eyes are the head bottom and head top, the
ears are never labelled. Head bottom/top have no left/right partner, so they are not swapped on a
flip, and the head links differ; colours, weights and OKS sigmas are COCO's (as MMPose's
posetrack18 info)."""
from sbplugins.datasets.dataset_info import CENTRE, read_dataset_info, skeleton_table

_EYES_AND_EARS = {'left_eye', 'right_eye', 'left_ear', 'right_ear'}

dataset_info = read_dataset_info('coco')  # a fresh dict on every call: changed here
dataset_info['dataset_name'] = 'posetrack18'
dataset_info['paper_info'] = dict(
    author='Andriluka, Mykhaylo and others',
    title='PoseTrack: A Benchmark for Human Pose Estimation and Tracking', container='CVPR',
    year='2018', homepage='https://posetrack.net/users/download.php')
for _idx, _name in ((1, 'head_bottom'), (2, 'head_top')):
    dataset_info['keypoint_info'][_idx].update(name=_name, swap='')
dataset_info['skeleton_info'] = skeleton_table(
    *[(*link['link'], link['color']) for link in dataset_info['skeleton_info'].values()
      if not set(link['link']) & _EYES_AND_EARS],
    ('nose', 'head_bottom', CENTRE), ('nose', 'head_top', CENTRE),
    ('head_bottom', 'left_shoulder', CENTRE), ('head_bottom', 'right_shoulder', CENTRE))
