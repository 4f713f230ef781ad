"""MPII top-down data at 256x256 (official JSON annotations; rotation 30, scale 0.25); the codec
that makes the targets is the one the model decodes with (``model.codec``).

Layout under data/mpii/: annot/{train,valid}.json (the official SimpleBaseline JSON), images/,
and optionally annot/gt_valid.mat for the official head boxes of the PCKh metric.
"""
from sbplugins.transforms.topdown_pipelines import topdown_train_pipeline, topdown_val_pipeline

_data_root = 'data/mpii/'
_codec = dict(type='MSRAHeatmap', input_size=(256, 256), heatmap_size=(64, 64), sigma=2.0)
model = dict(codec=_codec)
# GetBBoxCenterScale (aspect ratio 1.0) keeps MPII's own center/scale.
train_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=True,
    dataset=dict(type='MpiiDataset', data_root=_data_root, ann_file='annot/train.json',
                 data_prefix=dict(img='images/'),
                 pipeline=topdown_train_pipeline(_codec, scale_factor=0.25, rotate_factor=30.0)))
val_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=False,
    dataset=dict(type='MpiiDataset', data_root=_data_root, ann_file='annot/valid.json',
                 headbox_file='annot/gt_valid.mat', data_prefix=dict(img='images/'),
                 test_mode=True, pipeline=topdown_val_pipeline(_codec)))
test_dataloader = val_dataloader
val_evaluator = dict(type='PCKhMetric', thr=0.5)
test_evaluator = val_evaluator
