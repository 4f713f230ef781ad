"""SimpleBaseline on the built-in synthetic person dataset: the main job on a 2-core CPU.

Target: COCO AP >= 0.62 on the synthetic val split (detection boxes, flip test) within 10 minutes
on both 2-core CPUs of the machine kind. A narrow ResNet-18 (base width 32), a 64-filter deconv
head and a 128x96 input (32x24 heatmaps); everything else is the paper's recipe (Adam, official
augmentation, loss, decoding and flip test). Measured (docs/benchmarks.md, "The main job"):
Intel Xeon 2.1 GHz: AP 0.640 in 7.7 min idle (0.35 s per step; 9.6 min under load); the
128-filter head it replaces: AP 0.632 in 18.6 min. A width-24 backbone was faster (7.4 min) but
lost 0.02 AP. AMD EPYC: the old head took 8.5 min (AP 0.647).
One loader thread (``num_workers=1``): the same batches as worker processes, without re-forking
them at every epoch (~2 s each on the Intel CPU).
The data is generated under data/synthetic/ on first use (deterministic from the seed).
"""
from sbplugins.transforms.topdown_pipelines import topdown_train_pipeline, topdown_val_pipeline

_base_ = ['../../_base_/default_runtime.py', '../../_base_/models/simplebaseline_res50.py']
_codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0)
# difficulty 1.0: the generator's full rate of back-facing people, occluders, cut-off people and
# strong tilt. Measured: 20 epochs -> AP 0.647 (8.5 min); 10 epochs -> 0.524 (difficulty 0.3: 0.636).
_data = dict(type='SyntheticCocoDataset', data_root='data/synthetic', num_train_images=1350,
             num_val_images=200, seed=0, difficulty=1.0)
model = dict(
    backbone=dict(depth=18, base_channels=32),
    head=dict(num_deconv_filters=(64, 64, 64)),
    codec=_codec)
train_dataloader = dict(
    batch_size=32, num_workers=1, shuffle=True,
    dataset=dict(**_data, split='train',
                 pipeline=topdown_train_pipeline(_codec, scale_factor=0.25, rotate_factor=30.0)))
val_dataloader = dict(
    batch_size=64, num_workers=2, shuffle=False,
    dataset=dict(**_data, split='val', use_detections=True, test_mode=True,
                 pipeline=topdown_val_pipeline(_codec)))
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
