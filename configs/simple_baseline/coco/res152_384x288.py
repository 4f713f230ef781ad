"""SimpleBaseline ResNet-152, COCO 384x288, the official recipe.

Should reproduce: AP 74.3 | AP50 89.6 | AP75 81.1 | APm 70.5 | APl 81.6 | AR 79.7 (68.6M params, 35.3 GFLOPs).
"""
_base_ = ['./res50_384x288.py']
model = dict(backbone=dict(depth=152), pretrained='data/pretrained/resnet152_imagenet.ckpt')
