"""SimpleBaseline ResNet-50, MPII 256x256, the official recipe.

Should reproduce (MPII val, flip test): PCKh@0.5 Mean 88.53, Mean@0.1 33.91.
"""
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/simplebaseline_res50.py',
    '../../_base_/data/mpii_256x256.py',
    '../../_base_/schedules/official_140e.py',
]
model = dict(pretrained='data/pretrained/resnet50_imagenet.ckpt', head=dict(out_channels=16))
default_hooks = dict(checkpoint=dict(save_best='pckh/Mean'))
