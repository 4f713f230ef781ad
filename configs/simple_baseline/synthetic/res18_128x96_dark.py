"""The main job's recipe with DARK (Zhang et al., CVPR 2020): unbiased target, DARK decoding.

Everything else as res18_128x96.py (same data, schedule, seed). DARK reports its largest gains
at the smallest input it tests (128x96, the main job's); the README's decoding table compares it
with the official decoding on the synthetic val split.
Expected (measured here, 2-core Intel Xeon, synthetic val, AP / AP .75 / AR, 20 epochs): DARK
0.665 / 0.785 / 0.704 against the official recipe's 0.640 / 0.763 / 0.679; DARK's decoding
alone on the official model: 0.663 (README, "Decoding").
"""
from sbplugins.transforms.topdown_pipelines import topdown_train_pipeline

_base_ = ['./res18_128x96.py']
_codec = dict(type='MSRAHeatmap', input_size=(96, 128), heatmap_size=(24, 32), sigma=2.0,
              unbiased=True, blur_kernel_size=11)
model = dict(codec=_codec)
train_dataloader = dict(dataset=dict(
    pipeline=topdown_train_pipeline(_codec, scale_factor=0.25, rotate_factor=30.0)))
