"""SimpleBaseline: ResNet-50 + three 4x4 deconvolutions (256 filters) + 1x1 conv to 17 heatmaps.

Input 256x192 (w=192, h=256), heatmaps 64x48, sigma 2; official decoding (quarter-pixel rule),
flip test with the one-pixel shift; the official loss 0.5 * mean((w * (P - G))^2).
"""
model = dict(
    type='TopdownPoseEstimator',
    backbone=dict(type='ResNet', depth=50),
    head=dict(type='DeconvHead', out_channels=17),  # in_channels: the backbone's out_channels
    loss=dict(type='KeypointMSELoss', use_target_weight=True),
    codec=dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0),
    # The official input convention (the reference's colour trap): cv2's BGR image, normalised with
    # the ImageNet RGB mean/std applied to B, G, R in that order. Converted official weights need it.
    data_preprocessor=dict(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375),
                           bgr_to_rgb=False),
    test_cfg=dict(flip_test=True, shift_heatmap=True),
)
