"""SimpleBaseline ResNet-101, AI Challenger 256x192, MMPose's recipe, the box-area protocol.

Should approach MMPose's number (AIC val, ground-truth boxes, flip test; OKS on the box area
x 0.53 through xtcocotools, not AI Challenger's own evaluator): AP 29.4 | AP50 73.6 | AP75 17.2 |
AR 33.7 | AR50 76.2.
Layout under data/aic/ (the AI Challenger 2017 release, read as published):
ai_challenger_keypoint_train_20170902/keypoint_train_annotations_20170909.json and
keypoint_train_images_20170902/; ai_challenger_keypoint_validation_20170911/
keypoint_validation_annotations_20170911.json and keypoint_validation_images_20170911/.
"""
_base_ = ['../coco/res50_256x192_mmpose.py']
_train = 'data/aic/ai_challenger_keypoint_train_20170902/'
_val = 'data/aic/ai_challenger_keypoint_validation_20170911/'
_val_ann = _val + 'keypoint_validation_annotations_20170911.json'
_info = dict(from_file='aic')
model = dict(backbone=dict(depth=101), head=dict(out_channels=14),
             pretrained='data/pretrained/resnet101_imagenet.ckpt')
train_dataloader = dict(dataset=dict(
    data_root=_train, ann_file='keypoint_train_annotations_20170909.json',
    data_prefix=dict(img='keypoint_train_images_20170902/'), metainfo=_info))
val_dataloader = dict(dataset=dict(
    data_root=_val, ann_file='keypoint_validation_annotations_20170911.json', bbox_file=None,
    data_prefix=dict(img='keypoint_validation_images_20170911/'), metainfo=_info))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=_val_ann, metainfo=_info, prefix='aic')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='aic/AP'))
