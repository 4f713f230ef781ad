"""Evaluate the released official SimpleBaseline ResNet-50 256x192 weights.

Convert them first (no PyTorch needed):
    python tools/convert_weights.py --src pose_resnet_50_256x192.pth.tar \
        --dst data/pretrained/pose_resnet_50_256x192.ckpt
    python tools/eval.py --config configs/simple_baseline/coco/res50_256x192_official-weights.py \
        --ckpt data/pretrained/pose_resnet_50_256x192.ckpt
Expected: AP 70.4 with detection boxes; AP 72.4 with ground-truth boxes.
Those weights were trained on cv2's BGR images normalised with the ImageNet RGB mean/std applied to
B, G, R in that order (the reference's colour trap): keep bgr_to_rgb=False and these numbers.
"""
_base_ = ['./res50_256x192.py']
model = dict(
    pretrained=None,
    data_preprocessor=dict(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375),
                           bgr_to_rgb=False))
