"""SimpleBaseline ResNet-50, COCO 256x192, MMPose's recipe.

Should reproduce MMPose's retraining: AP 71.8 (COCO val2017, detection boxes, flip test).
Differences from the official recipe: RGB input with MMPose's mean/std, Adam 5e-4 with a
500-iteration warm-up, 210 epochs (x0.1 at 170 and 200), 64 images x 8 devices, half-body
augmentation, box shift, best checkpoint by coco/AP. This file keeps the official loss factor
(0.5 * mean) and decoding rules; MMPose's differ by a constant loss factor (2x) and its
quarter-pixel bounds (set loss.reduction_factor=1.0 and codec.refine='mmpose' for those).
"""
_base_ = ['./res50_256x192.py', '../../_base_/schedules/mmpose_210e.py']
model = dict(data_preprocessor=dict(bgr_to_rgb=True))
_codec = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
train_dataloader = dict(
    batch_size=64,
    dataset=dict(pipeline=[
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', aspect_ratio=192 / 256),
        dict(type='RandomFlip', prob=0.5),
        dict(type='RandomHalfBody', prob=0.3, min_total_keypoints=9, padding=1.5),
        dict(type='RandomBBoxTransform', shift_factor=0.16, shift_prob=0.3, scale_factor=0.5,
             rotate_factor=80.0, rotate_prob=0.6),
        dict(type='TopdownAffine', input_size=(192, 256)),
        dict(type='GenerateTarget', encoder=_codec),
        dict(type='PackPoseInputs'),
    ]))
