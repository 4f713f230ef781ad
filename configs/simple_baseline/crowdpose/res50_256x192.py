"""SimpleBaseline ResNet-50, CrowdPose 256x192, MMPose's recipe, CrowdPose's own protocol.

Should approach MMPose's number (CrowdPose test, YOLOv3 person boxes, flip test):
AP 63.7 | AP50 80.8 | AP75 69.2 | AP(E) 73.8 | AP(M) 65.0 | AP(H) 50.6.
Layout under data/crowdpose/ (the CrowdPose release, github.com/Jeff-sjtu/CrowdPose):
annotations/crowdpose_trainval.json, annotations/crowdpose_test.json, images/*.jpg, and the
detections MMPose distributes as annotations/det_for_crowd_test_0.1_0.5.json.
Protocol (dataset info 'crowdpose'): OKS on the box area (no segmentation area), AP per crowd
level, 20 detections per image; a missing ``area`` is the box's w * h.
"""
_base_ = ['../coco/res50_256x192_mmpose.py']
_root = 'data/crowdpose/'
_info = dict(from_file='crowdpose')
model = dict(head=dict(out_channels=14))
train_dataloader = dict(dataset=dict(
    data_root=_root, ann_file='annotations/crowdpose_trainval.json',
    data_prefix=dict(img='images/'), metainfo=_info))
val_dataloader = dict(dataset=dict(
    data_root=_root, ann_file='annotations/crowdpose_test.json',
    bbox_file='annotations/det_for_crowd_test_0.1_0.5.json', data_prefix=dict(img='images/'),
    metainfo=_info))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=_root + 'annotations/crowdpose_test.json',
                     metainfo=_info, prefix='crowdpose')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='crowdpose/AP'))
