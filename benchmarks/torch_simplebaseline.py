"""The official SimpleBaseline network (``PoseResNet``) restated in PyTorch.

A reference for weight-conversion parity tests and side-by-side speed benchmarks: the
architecture and every parameter name follow the official code (torchvision-layout ResNet,
``deconv_layers.0/1/3/4/6/7``, ``final_layer``), so ``state_dict()`` has the released checkpoints'
keys. PyTorch is an optional extra (``pip install -e .[torch]``); only this module imports it.
"""
from __future__ import annotations

from typing import List, Type, Union

import torch
from torch import nn

BN_MOMENTUM = 0.1  # PyTorch convention; MindSpore's equivalent is 0.9


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18/34); the stride sits on the first."""
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (stride here, torchvision layout) -> 1x1 x4 (ResNet-50/101/152)."""
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, momentum=BN_MOMENTUM)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


ARCH_SETTINGS = {
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
    101: (Bottleneck, [3, 4, 23, 3]),
    152: (Bottleneck, [3, 8, 36, 3]),
}


class PoseResNet(nn.Module):
    """ResNet backbone + 3 x (ConvTranspose 4x4/2, BN, ReLU) + 1x1 conv to K heatmaps.

    Input (N, 3, H, W) normalised images; output (N, K, H/4, W/4) heatmaps.
    """

    def __init__(self, block: Type[Union[BasicBlock, Bottleneck]], layers: List[int],
                 num_joints: int = 17, num_deconv_filters: int = 256):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64, momentum=BN_MOMENTUM)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
        self.deconv_layers = self._make_deconv_layers(3, num_deconv_filters)
        self.final_layer = nn.Conv2d(num_deconv_filters, num_joints, 1, stride=1, padding=0)
        self.init_head_weights()

    def _make_layer(self, block, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion, momentum=BN_MOMENTUM))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def _make_deconv_layers(self, num_layers: int, filters: int) -> nn.Sequential:
        layers = []
        for _ in range(num_layers):
            # kernel 4, padding 1, output_padding 0: exactly doubles the size (official DECONV 4).
            layers += [nn.ConvTranspose2d(self.inplanes, filters, 4, stride=2, padding=1,
                                          output_padding=0, bias=False),
                       nn.BatchNorm2d(filters, momentum=BN_MOMENTUM),
                       nn.ReLU(inplace=True)]
            self.inplanes = filters
        return nn.Sequential(*layers)

    def init_head_weights(self) -> None:
        """Official init of the head: N(0, 0.001) weights, zero final bias, BN 1/0."""
        for module in list(self.deconv_layers.modules()) + [self.final_layer]:
            if isinstance(module, (nn.ConvTranspose2d, nn.Conv2d)):
                nn.init.normal_(module.weight, std=0.001)
                if module.bias is not None:
                    nn.init.constant_(module.bias, 0)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.constant_(module.weight, 1)
                nn.init.constant_(module.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.final_layer(self.deconv_layers(x))


def build_pose_resnet(depth: int, num_joints: int = 17) -> PoseResNet:
    """``PoseResNet`` with a ResNet-``depth`` backbone (18, 34, 50, 101 or 152)."""
    if depth not in ARCH_SETTINGS:
        raise ValueError(f'ResNet depth {depth} is not one of {sorted(ARCH_SETTINGS)}')
    block, layers = ARCH_SETTINGS[depth]
    return PoseResNet(block, layers, num_joints=num_joints)
