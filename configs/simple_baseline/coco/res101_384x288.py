"""SimpleBaseline ResNet-101, COCO 384x288, the official recipe.

Should reproduce: AP 73.6 | AP50 89.6 | AP75 80.3 | APm 69.9 | APl 81.1 | AR 79.1 (53.0M params, 27.9 GFLOPs).
"""
_base_ = ['./res50_384x288.py']
model = dict(backbone=dict(depth=101), pretrained='data/pretrained/resnet101_imagenet.ckpt')
