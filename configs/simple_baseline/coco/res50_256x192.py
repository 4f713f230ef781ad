"""SimpleBaseline ResNet-50, COCO 256x192, the official recipe.

Should reproduce (COCO val2017, detection boxes from a detector with person AP 56.4, flip test):
AP 70.4 | AP50 88.6 | AP75 78.3 | APm 67.1 | APl 77.2 | AR 76.3 (34.0M params, 8.9 GFLOPs).
Official schedule: Adam 1e-3, 140 epochs, x0.1 at 90 and 120, 32 images x 4 devices:
    bash tools/dist_train.sh configs/simple_baseline/coco/res50_256x192.py 4
Backbone init: torchvision ImageNet ResNet-50 converted with
    python tools/convert_weights.py --kind torchvision --src resnet50-19c8e357.pth \
        --dst data/pretrained/resnet50_imagenet.ckpt
"""
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/simplebaseline_res50.py',
    '../../_base_/data/coco_256x192.py',
    '../../_base_/schedules/official_140e.py',
]
model = dict(pretrained='data/pretrained/resnet50_imagenet.ckpt')
