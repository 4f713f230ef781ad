"""COCO top-down data at 384x288: coco_256x192.py with the crop, heatmap and sigma changed (the
model decodes with the same codec)."""
from sbplugins.transforms.topdown_pipelines import topdown_train_pipeline, topdown_val_pipeline

_base_ = ['./coco_256x192.py']
_codec = dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96), sigma=3.0)
model = dict(codec=_codec)
train_dataloader = dict(dataset=dict(
    pipeline=topdown_train_pipeline(_codec, scale_factor=0.3, rotate_factor=40.0)))
val_dataloader = dict(dataset=dict(pipeline=topdown_val_pipeline(_codec)))
test_dataloader = val_dataloader
