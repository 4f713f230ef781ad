"""A small SimpleBaseline (ResNet-18, random init) on the real COCO sample, for the tool tests.

``_data_root`` is relative to the repository root (``../shared/data/coco_sample/``); tests pass
the fixture's path through ``--cfg-options`` / ``cfg_options`` (the ``*.data_root`` keys and
``val_evaluator.ann_file``).
"""
_base_ = ['../../configs/simple_baseline/coco/res50_256x192.py']
_data_root = '../shared/data/coco_sample/'
# ResNet-18 and 64-filter deconvolutions keep the tool tests fast on 2 CPU cores.
model = dict(pretrained=None, backbone=dict(depth=18),
             head=dict(num_deconv_filters=(64, 64, 64)))
train_dataloader = dict(
    batch_size=4, num_workers=1,
    dataset=dict(data_root=_data_root, ann_file='annotations/person_keypoints_sample.json',
                 data_prefix=dict(img='images/')))
val_dataloader = dict(
    batch_size=4, num_workers=1,
    dataset=dict(data_root=_data_root, ann_file='annotations/person_keypoints_sample.json',
                 bbox_file='person_detection_results/sample_detections_AP_H_56_person.json',
                 data_prefix=dict(img='images/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=_data_root + 'annotations/person_keypoints_sample.json')
test_evaluator = val_evaluator
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(type='LoggerHook', interval=1),
                     checkpoint=dict(type='CheckpointHook', interval=1, save_best=None))
