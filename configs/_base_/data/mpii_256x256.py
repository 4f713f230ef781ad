"""MPII top-down data at 256x256 (official JSON annotations; rotation 30, scale 0.25).

Layout under data/mpii/: annot/{train,valid}.json (the official SimpleBaseline JSON), images/,
and optionally annot/gt_valid.mat for the official head boxes of the PCKh metric.
"""
_data_root = 'data/mpii/'
_codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2.0)
_train_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', aspect_ratio=1.0),  # keeps MPII's own center/scale
    dict(type='RandomBBoxTransform', scale_factor=0.25, rotate_factor=30.0, rotate_prob=0.6),
    dict(type='RandomFlip', prob=0.5),
    dict(type='TopdownAffine', input_size=(256, 256)),
    dict(type='GenerateTarget', encoder=_codec),
    dict(type='PackPoseInputs'),
]
_val_pipeline = [
    dict(type='LoadImage'),
    dict(type='GetBBoxCenterScale', aspect_ratio=1.0),
    dict(type='TopdownAffine', input_size=(256, 256)),
    dict(type='PackPoseInputs'),
]
train_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=True,
    dataset=dict(type='MpiiDataset', data_root=_data_root, ann_file='annot/train.json',
                 data_prefix=dict(img='images/'), pipeline=_train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=False,
    dataset=dict(type='MpiiDataset', data_root=_data_root, ann_file='annot/valid.json',
                 headbox_file='annot/gt_valid.mat', data_prefix=dict(img='images/'),
                 test_mode=True, pipeline=_val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='PCKhMetric', thr=0.5)
test_evaluator = val_evaluator
