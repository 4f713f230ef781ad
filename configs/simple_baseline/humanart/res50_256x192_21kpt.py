"""SimpleBaseline ResNet-50 on Human-Art's 21-joint layout (COCO's 17 + fingers and toes).

Should approach: no number is published for this layout and backbone. It shares
res50_256x192.py's recipe and reads the ``keypoints_21`` field (dataset info 'humanart21')
for training and evaluation.
"""
_base_ = ['./res50_256x192.py']
_info = dict(from_file='humanart21')
_val_ann = 'HumanArt/annotations/validation_humanart.json'
model = dict(head=dict(out_channels=21))
train_dataloader = dict(dataset=dict(ann_file='HumanArt/annotations/training_humanart.json',
                                     metainfo=_info))
val_dataloader = dict(dataset=dict(metainfo=_info))
test_dataloader = val_dataloader
val_evaluator = dict(metainfo=_info, prefix='humanart21')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='humanart21/AP'))
