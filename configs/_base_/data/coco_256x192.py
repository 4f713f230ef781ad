"""COCO top-down data at 256x192: official augmentation, detection boxes for validation; the
codec that makes the targets is the one the model decodes with (``model.codec``).

Layout under data/coco/ (link your COCO folder there, as the official code expects):
annotations/person_keypoints_{train,val}2017.json, train2017/, val2017/ and
person_detection_results/COCO_val2017_detections_AP_H_56_person.json.
"""
from sbplugins.transforms.topdown_pipelines import topdown_train_pipeline, topdown_val_pipeline

_data_root = 'data/coco/'
_codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
model = dict(codec=_codec)
train_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=True,
    dataset=dict(type='CocoDataset', data_root=_data_root,
                 ann_file='annotations/person_keypoints_train2017.json',
                 data_prefix=dict(img='train2017/'),
                 # the official COCO augmentation: scale 0.3, rotation 40 (p 0.6), then flip
                 pipeline=topdown_train_pipeline(_codec, scale_factor=0.3, rotate_factor=40.0)))
val_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=False,
    dataset=dict(type='CocoDataset', data_root=_data_root,
                 ann_file='annotations/person_keypoints_val2017.json',
                 bbox_file='person_detection_results/COCO_val2017_detections_AP_H_56_person.json',
                 data_prefix=dict(img='val2017/'), test_mode=True,
                 pipeline=topdown_val_pipeline(_codec)))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=_data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
