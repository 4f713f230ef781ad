"""ResNet backbone in the torchvision layout, so official PyTorch weights convert name for name.

Parameter names equal the PyTorch state-dict names with the BN renames weight->gamma,
bias->beta, running_mean->moving_mean, running_var->moving_variance (e.g.
``layer1.0.downsample.1.gamma``); ``num_batches_tracked`` has no counterpart.

Every padded layer pads symmetrically (reference doc, "Padding trap"): MindSpore's
``pad_mode='same'`` puts the odd pixel of a stride-2 layer at the bottom/right, PyTorch splits it,
and converted weights would then see shifted features.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before MindSpore loads)
from sbcore.errors import ConfigError
import mindspore
from mindspore import nn, ops
from mindspore.common.initializer import HeNormal

from .base import BaseBackbone

# PyTorch BN momentum 0.1 == MindSpore momentum 0.9 (weight of the old running value).
BN_MOMENTUM = 0.9
BN_EPS = 1e-5


def conv(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> nn.Conv2d:
    """Bias-free conv with symmetric padding kernel_size // 2 (torchvision's choice)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, pad_mode='pad',
                     padding=kernel_size // 2, has_bias=False,
                     # torchvision: kaiming_normal_(mode='fan_out', nonlinearity='relu')
                     weight_init=HeNormal(mode='fan_out', nonlinearity='relu'))


def batch_norm(num_features: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(num_features, eps=BN_EPS, momentum=BN_MOMENTUM)


def symmetric_max_pool(kernel_size: int = 3, stride: int = 2, padding: int = 1) -> nn.MaxPool2d:
    """Max-pool padded like PyTorch's: ``padding`` on every side, padded cells never win.

    (N, C, H, W) -> (N, C, (H + 2p - k) // s + 1, (W + 2p - k) // s + 1). MindSpore's own
    ``pad_mode='pad'`` equals ``torch.nn.functional.max_pool2d`` exactly, forward and backward
    (tests/test_models.py). Not ``ops.pad(-inf)`` + a 'valid' pool: the gradient of ``ops.pad``
    inside a ``mindspore.jit`` function hangs on its 34th call on CPU (MindSpore 2.10, measured;
    docs/benchmarks.md).
    """
    return nn.MaxPool2d(kernel_size=kernel_size, stride=stride, pad_mode='pad', padding=padding)


class BasicBlock(nn.Cell):
    """Two 3x3 convs (ResNet-18/34); the stride sits on conv1."""
    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1,
                 downsample: nn.Cell | None = None):
        super().__init__()
        self.conv1 = conv(in_channels, planes, 3, stride)
        self.bn1 = batch_norm(planes)
        self.conv2 = conv(planes, planes, 3)
        self.bn2 = batch_norm(planes)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def construct(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


class Bottleneck(nn.Cell):
    """1x1 -> 3x3 -> 1x1 (ResNet-50/101/152); the stride sits on the 3x3 conv2 (torchvision)."""
    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1,
                 downsample: nn.Cell | None = None):
        super().__init__()
        self.conv1 = conv(in_channels, planes, 1)
        self.bn1 = batch_norm(planes)
        self.conv2 = conv(planes, planes, 3, stride)
        self.bn2 = batch_norm(planes)
        self.conv3 = conv(planes, planes * self.expansion, 1)
        self.bn3 = batch_norm(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample

    def construct(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        return self.relu(out + identity)


# depth -> (block class, blocks per stage)
ARCH_SETTINGS = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
    101: (Bottleneck, (3, 4, 23, 3)),
    152: (Bottleneck, (3, 8, 36, 3)),
}


def make_stage(block: type, in_channels: int, planes: int, num_blocks: int,
               stride: int) -> nn.SequentialCell:
    """One stage ``layerN``: blocks ``0..num_blocks-1``; block 0 projects when shape changes."""
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        # names layerN.0.downsample.0 (1x1 conv, stride on it) and .1 (BN), as torchvision
        downsample = nn.SequentialCell([conv(in_channels, out_channels, 1, stride),
                                        batch_norm(out_channels)])
    blocks = [block(in_channels, planes, stride, downsample)]
    blocks += [block(out_channels, planes) for _ in range(1, num_blocks)]
    return nn.SequentialCell(blocks)


class ResNet(BaseBackbone):
    """ResNet backbone (torchvision layout, no classifier).

    Args:
        depth: 18, 34, 50, 101 or 152.
        in_channels: input image channels.
        frozen_stages: -1 freezes nothing; 0 freezes the stem (conv1, bn1); N >= 1 the stem and
            layer1..layerN. Frozen parameters get ``requires_grad=False`` and their BN layers
            always normalise with the running statistics (and never update them).
        norm_eval: every BN of the backbone uses running statistics, also in training.
        out_indices: stages (0..3) whose outputs are returned.
        base_channels: stem width; stage i has base_channels * 2**i planes. 64 is the paper's
            ResNet (and the only width official weights fit); narrower networks are for small
            budgets such as the CPU main job.

    ``construct(x (N, in_channels, H, W))`` returns the tuple of the requested stages' feature
    maps in stage order (the backbone contract, ``base.py``), e.g. ``((N, 2048, H/32, W/32),)``
    for ResNet-50 with ``out_indices=(3,)``; ``out_channels`` gives their channels.
    """

    def __init__(self, depth: int = 50, in_channels: int = 3, frozen_stages: int = -1,
                 norm_eval: bool = False, out_indices: Sequence[int] = (3,),
                 base_channels: int = 64):
        if depth not in ARCH_SETTINGS:
            raise ConfigError(f'ResNet: depth={depth!r} is not supported; expected one of '
                              f'{sorted(ARCH_SETTINGS)}')
        out_indices = tuple(int(i) for i in out_indices)
        if not out_indices or any(i not in (0, 1, 2, 3) for i in out_indices):
            raise ConfigError(f'ResNet: out_indices={out_indices!r}; expected a non-empty subset '
                              f'of (0, 1, 2, 3)')
        if not -1 <= frozen_stages <= 4:
            raise ConfigError(f'ResNet: frozen_stages={frozen_stages!r}; expected -1..4')
        block, stage_blocks = ARCH_SETTINGS[depth]
        if base_channels < 1:
            raise ConfigError(f'ResNet: base_channels={base_channels!r}; expected >= 1')
        widths = [base_channels * 2 ** i for i in range(4)]
        super().__init__([widths[i] * block.expansion for i in out_indices])
        self.depth = depth
        self.out_indices = out_indices
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.conv1 = nn.Conv2d(in_channels, base_channels, 7, stride=2, pad_mode='pad', padding=3,
                               has_bias=False,
                               weight_init=HeNormal(mode='fan_out', nonlinearity='relu'))
        self.bn1 = batch_norm(base_channels)
        self.relu = nn.ReLU()
        self.maxpool = symmetric_max_pool(3, 2, 1)
        channels = base_channels
        stages = []
        for index, (planes, num_blocks) in enumerate(zip(widths, stage_blocks)):
            stages.append(make_stage(block, channels, planes, num_blocks, 1 if index == 0 else 2))
            channels = planes * block.expansion
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self._freeze()

    def _frozen_cells(self) -> Tuple[nn.Cell, ...]:
        if self.frozen_stages < 0:
            return ()
        return (self.conv1, self.bn1) + (self.layer1, self.layer2, self.layer3,
                                         self.layer4)[:self.frozen_stages]

    def _freeze(self) -> None:
        """Apply ``frozen_stages`` and ``norm_eval`` once, at construction.

        BN "eval mode" is ``use_batch_statistics=False`` rather than a ``set_train`` override:
        it survives any ``set_train(True)`` issued on a parent cell (the estimator, a runner).
        """
        for cell in self._frozen_cells():
            for param in cell.get_parameters():
                param.requires_grad = False
        eval_roots = (self,) if self.norm_eval else self._frozen_cells()
        for root in eval_roots:
            for _, cell in root.cells_and_names():
                if isinstance(cell, nn.BatchNorm2d):
                    cell.use_batch_statistics = False

    def construct(self, x) -> Tuple[mindspore.Tensor, ...]:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        outs = ()
        # a loop over a tuple of cells: graph mode (mindspore.jit) unrolls it at compile time
        for index, stage in enumerate((self.layer1, self.layer2, self.layer3, self.layer4)):
            x = stage(x)
            if index in self.out_indices:
                outs = outs + (x,)
        return outs
