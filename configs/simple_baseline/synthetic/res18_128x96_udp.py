"""The main job's recipe with UDP (Huang et al., CVPR 2020): unbiased affine, UDP target and
UDP's DARK-style decoding, no flip-test shift (a flip maps heatmap x to W - 1 - x exactly).

Everything else as res18_128x96.py (same data, schedule, seed). UDP reports gains over the
standard data processing on COCO for every backbone and input it tests; the README's decoding
table compares it here on the synthetic val split.
Expected (measured here, 2-core Intel Xeon, synthetic val, AP / AP .75 / AR, 20 epochs): UDP
0.644 / 0.751 / 0.690 against the official recipe's 0.640 / 0.763 / 0.679: level at this
input size (README, "Decoding").
"""
from sbplugins.transforms.topdown_pipelines import topdown_train_pipeline, topdown_val_pipeline

_base_ = ['./res18_128x96.py']
_codec = dict(type='UDPHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0,
              blur_kernel_size=11)
model = dict(codec=_codec, test_cfg=dict(flip_test=True, shift_heatmap=False))
train_dataloader = dict(dataset=dict(
    pipeline=topdown_train_pipeline(_codec, scale_factor=0.25, rotate_factor=30.0, use_udp=True)))
val_dataloader = dict(dataset=dict(pipeline=topdown_val_pipeline(_codec, use_udp=True)))
test_dataloader = val_dataloader
