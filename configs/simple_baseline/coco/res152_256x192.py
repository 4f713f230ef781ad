"""SimpleBaseline ResNet-152, COCO 256x192, the official recipe.

Should reproduce: AP 72.0 | AP50 89.3 | AP75 79.8 | APm 68.7 | APl 78.9 | AR 77.8 (68.6M params, 15.7 GFLOPs).
"""
_base_ = ['./res50_256x192.py']
model = dict(backbone=dict(depth=152), pretrained='data/pretrained/resnet152_imagenet.ckpt')
