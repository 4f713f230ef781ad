"""SimpleBaseline head: transposed convolutions that upsample features into joint heatmaps.

Names follow the official code: ``deconv_layers.{0,1,3,4,6,7}`` (deconv, BN; ReLUs at 2, 5, 8
hold no parameters) and ``final_layer``.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before MindSpore loads)
from sbcore.errors import ConfigError
import mindspore
from mindspore import nn
from mindspore.common.initializer import Normal, Zero

# The official init: deconv and final conv weights ~ N(0, 0.001), final bias 0, BN gamma 1 beta 0.
HEAD_INIT_STD = 0.001
BN_MOMENTUM = 0.9  # PyTorch 0.1
BN_EPS = 1e-5


def deconv_padding(kernel_size: int) -> Tuple[int, int, int, int]:
    """(top, bottom, left, right) crop that makes a stride-2 transposed conv exactly double H, W.

    The official ``_get_deconv_cfg`` gives PyTorch (padding, output_padding): kernel 4 -> (1, 0),
    kernel 3 -> (1, 1), kernel 2 -> (0, 0). PyTorch's output_padding restores real output rows
    at the bottom/right, while MindSpore's ``output_padding`` appends zeros (measured), so the
    kernel-3 case is written as an asymmetric crop (1, 0, 1, 0) instead: the full transposed
    output (H - 1) * 2 + kernel minus the crop is 2H in each case, and the values are PyTorch's.
    """
    table = {4: (1, 1, 1, 1), 3: (1, 0, 1, 0), 2: (0, 0, 0, 0)}
    if kernel_size not in table:
        raise ConfigError(f'DeconvHead: deconv kernel {kernel_size!r} is not supported; '
                          f'expected one of {sorted(table)}')
    return table[kernel_size]


class DeconvHead(nn.Cell):
    """Deconv layers + final conv: (N, in_channels, h, w) -> (N, out_channels, h * 2^L, w * 2^L).

    Args:
        in_channels: backbone output channels (2048 for ResNet-50).
        out_channels: number of joints K.
        num_deconv_layers: L, each a stride-2 transposed conv (no bias), BN and ReLU.
        num_deconv_filters: output channels of each deconv layer.
        num_deconv_kernels: kernel size of each deconv layer (4, 3 or 2).
        final_conv_kernel: 1 or 3 (padding 0 or 1), with bias.
    """

    def __init__(self, in_channels: int = 2048, out_channels: int = 17,
                 num_deconv_layers: int = 3,
                 num_deconv_filters: Sequence[int] = (256, 256, 256),
                 num_deconv_kernels: Sequence[int] = (4, 4, 4),
                 final_conv_kernel: int = 1):
        super().__init__()
        if len(num_deconv_filters) != num_deconv_layers or \
                len(num_deconv_kernels) != num_deconv_layers:
            raise ConfigError(f'DeconvHead: num_deconv_layers={num_deconv_layers} but '
                              f'num_deconv_filters={tuple(num_deconv_filters)} and '
                              f'num_deconv_kernels={tuple(num_deconv_kernels)}; '
                              f'expected one entry per layer')
        if final_conv_kernel not in (1, 3):
            raise ConfigError(f'DeconvHead: final_conv_kernel={final_conv_kernel!r}; '
                              f'expected 1 or 3')
        layers = []
        channels = in_channels
        for filters, kernel in zip(num_deconv_filters, num_deconv_kernels):
            layers += [
                nn.Conv2dTranspose(channels, filters, kernel, stride=2, pad_mode='pad',
                                   padding=deconv_padding(kernel),
                                   has_bias=False, weight_init=Normal(HEAD_INIT_STD)),
                nn.BatchNorm2d(filters, eps=BN_EPS, momentum=BN_MOMENTUM),
                nn.ReLU(),
            ]
            channels = filters
        self.deconv_layers = nn.SequentialCell(layers) if layers else nn.Identity()
        self.final_layer = nn.Conv2d(channels, out_channels, final_conv_kernel, stride=1,
                                     pad_mode='pad', padding=final_conv_kernel // 2,
                                     has_bias=True, weight_init=Normal(HEAD_INIT_STD),
                                     bias_init=Zero())

    def construct(self, x: mindspore.Tensor) -> mindspore.Tensor:
        return self.final_layer(self.deconv_layers(x))
