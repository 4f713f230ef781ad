"""SimpleBaseline ResNet-50 trained on COCO (MMPose's recipe), evaluated on OCHuman.

OCHuman has val and test splits only: train with the COCO recipe, then
    python tools/eval.py --config configs/simple_baseline/ochuman/res50_256x192.py --ckpt CKPT
Should approach MMPose's number (OCHuman test, ground-truth boxes, flip test):
AP 54.6 | AP50 72.6 | AP75 59.3 | AR 59.2 | AR50 75.5 (val is reported alike).
Layout under data/ochuman/ (the OCHuman release, github.com/liruilong940607/OCHumanApi):
annotations/ochuman_coco_format_{val,test}_range_0.00_1.00.json and images/.
"""
_base_ = ['../coco/res50_256x192_mmpose.py']
_root = 'data/ochuman/'
_test_ann = 'annotations/ochuman_coco_format_test_range_0.00_1.00.json'
_info = dict(from_file='ochuman')
val_dataloader = dict(dataset=dict(
    data_root=_root, ann_file='annotations/ochuman_coco_format_val_range_0.00_1.00.json',
    bbox_file=None, data_prefix=dict(img='images/'), metainfo=_info))
test_dataloader = dict(dataset=dict(
    data_root=_root, ann_file=_test_ann, bbox_file=None, data_prefix=dict(img='images/'),
    metainfo=_info))
val_evaluator = dict(
    type='CocoMetric', metainfo=_info, prefix='ochuman',
    ann_file=_root + 'annotations/ochuman_coco_format_val_range_0.00_1.00.json')
test_evaluator = dict(type='CocoMetric', metainfo=_info, prefix='ochuman',
                      ann_file=_root + _test_ann)
