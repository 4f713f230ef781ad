"""SimpleBaseline ResNet-50 on Human-Art (17 joints, COCO layout), MMPose's recipe.

Should approach: no SimpleBaseline number is published for Human-Art; the closest is MMPose's
HRNet-W32 256x192 trained on Human-Art + COCO (Human-Art val, flip test): AP 75.4 with
ground-truth boxes, AP 39.9 with its detector's boxes (person AP 56.2); a ResNet-50 lands below.
Layout under data/HumanArt/ (the Human-Art release): annotations/training_humanart_coco.json,
annotations/validation_humanart.json, images/ (file names in the JSON start with images/).
"""
_base_ = ['../coco/res50_256x192_mmpose.py']
_info = dict(from_file='humanart')
_val_ann = 'HumanArt/annotations/validation_humanart.json'
train_dataloader = dict(dataset=dict(
    data_root='data/', ann_file='HumanArt/annotations/training_humanart_coco.json',
    data_prefix=dict(img=''), metainfo=_info))
val_dataloader = dict(dataset=dict(
    data_root='data/', ann_file=_val_ann, bbox_file=None, data_prefix=dict(img=''),
    metainfo=_info))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file='data/' + _val_ann, metainfo=_info,
                     prefix='humanart')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='humanart/AP'))
