"""SimpleBaseline ResNet-101, COCO 256x192, the official recipe.

Should reproduce: AP 71.4 | AP50 89.3 | AP75 79.3 | APm 68.1 | APl 78.1 | AR 77.1 (53.0M params, 12.4 GFLOPs).
"""
_base_ = ['./res50_256x192.py']
model = dict(backbone=dict(depth=101), pretrained='data/pretrained/resnet101_imagenet.ckpt')
