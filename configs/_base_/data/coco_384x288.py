"""COCO top-down data at 384x288: coco_256x192.py with the crop and heatmap sizes changed."""
_base_ = ['./coco_256x192.py']
_codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0)

# Official draw order: scale, rotation, then flip.
_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', aspect_ratio=288 / 384),
    dict(type='RandomBBoxTransform', scale_factor=0.3, rotate_factor=40.0, rotate_prob=0.6),
    dict(type='RandomFlip', prob=0.5),
    dict(type='TopdownAffine', input_size=(288, 384)),
    dict(type='GenerateTarget', encoder=_codec),
    dict(type='PackPoseInputs'),
]
_val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', aspect_ratio=288 / 384),
    dict(type='TopdownAffine', input_size=(288, 384)),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=_train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=_val_pipeline))
test_dataloader = val_dataloader
