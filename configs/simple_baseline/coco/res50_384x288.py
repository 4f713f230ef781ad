"""SimpleBaseline ResNet-50, COCO 384x288, the official recipe.

Should reproduce: AP 72.2 | AP50 89.3 | AP75 78.9 | APm 68.1 | APl 79.7 | AR 77.6 (34.0M, 20.0 GFLOPs).
"""
_base_ = ['./res50_256x192.py', '../../_base_/data/coco_384x288.py']
