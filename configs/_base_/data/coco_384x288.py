"""COCO top-down data at 384x288: official augmentation, detection boxes for validation.

Layout under data/coco/ (link your COCO folder there, as the official code expects):
annotations/person_keypoints_{train,val}2017.json, train2017/, val2017/ and
person_detection_results/COCO_val2017_detections_AP_H_56_person.json.
"""
_data_root = 'data/coco/'
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
train_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=True,
    dataset=dict(type='CocoDataset', data_root=_data_root,
                 ann_file='annotations/person_keypoints_train2017.json',
                 data_prefix=dict(img='train2017/'), pipeline=_train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=4, shuffle=False,
    dataset=dict(type='CocoDataset', data_root=_data_root,
                 ann_file='annotations/person_keypoints_val2017.json',
                 bbox_file='person_detection_results/COCO_val2017_detections_AP_H_56_person.json',
                 data_prefix=dict(img='val2017/'), test_mode=True, pipeline=_val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=_data_root + 'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
