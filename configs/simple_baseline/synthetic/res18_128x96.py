"""SimpleBaseline on the built-in synthetic person dataset: the main job on a 2-core CPU.

Target: COCO AP >= 0.60 on the synthetic val split (detection boxes, flip test) within 10 minutes
of CPU time after install. Measured (2-core AMD EPYC, idle): AP 0.647 (AP .5 0.959, AP .75 0.758,
AR 0.689) in 8.5 minutes wall time including data generation (17 s). A narrow ResNet-18 (base
width 32), a 128-filter deconv head and a 128x96 input (32x24 heatmaps) make enough iterations fit
the budget (compiled step ~0.35 s per batch of 32); everything else is the paper's recipe (Adam,
official augmentation, official loss, decoding and flip test).
The data is generated under data/synthetic/ on first use (deterministic from the seed).
"""
_base_ = ['../../_base_/default_runtime.py', '../../_base_/models/simplebaseline_res50.py']
_codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0)
# difficulty 1.0: the generator's full rate of back-facing people, occluders, cut-off people and
# strong tilt. Measured: 20 epochs -> AP 0.647 (8.5 min); 10 epochs -> 0.524 (difficulty 0.3: 0.636).
_data = dict(type='SyntheticCocoDataset', data_root='data/synthetic', num_train_images=1350,
             num_val_images=200, seed=0, difficulty=1.0)
model = dict(
    backbone=dict(depth=18, base_channels=32),
    head=dict(num_deconv_filters=(128, 128, 128)),
    codec=_codec)
train_dataloader = dict(
    batch_size=32, num_workers=2, shuffle=True,
    dataset=dict(**_data, split='train', pipeline=[
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', aspect_ratio=96 / 128),
        dict(type='RandomBBoxTransform', scale_factor=0.25, rotate_factor=30.0, rotate_prob=0.6),
        dict(type='RandomFlip', prob=0.5),
        dict(type='TopdownAffine', input_size=(96, 128)),
        dict(type='GenerateTarget', encoder=_codec),
        dict(type='PackPoseInputs'),
    ]))
val_dataloader = dict(
    batch_size=64, num_workers=2, shuffle=False,
    dataset=dict(**_data, split='val', use_detections=True, test_mode=True, pipeline=[
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', aspect_ratio=96 / 128),
        dict(type='TopdownAffine', input_size=(96, 128)),
        dict(type='PackPoseInputs'),
    ]))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file='data/synthetic/annotations/person_keypoints_val.json')
test_evaluator = val_evaluator
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', milestones=[18], gamma=0.1, by_epoch=True),
]
train_cfg = dict(max_epochs=20, val_interval=20)
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=5, save_best=None))
