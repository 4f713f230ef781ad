"""Optimizer builders: MindSpore optimizers whose learning rate is a settable Parameter."""
from __future__ import annotations

from typing import Sequence

from mindspore import nn


def Adam(params, lr: float = 1e-3, betas: Sequence[float] = (0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0) -> nn.Optimizer:
    return nn.Adam(params, learning_rate=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                   weight_decay=weight_decay)


def AdamW(params, lr: float = 1e-3, betas: Sequence[float] = (0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 1e-2) -> nn.Optimizer:
    return nn.AdamWeightDecay(params, learning_rate=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                              weight_decay=weight_decay)


def SGD(params, lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 0.0,
        nesterov: bool = False) -> nn.Optimizer:
    return nn.SGD(params, learning_rate=lr, momentum=momentum, weight_decay=weight_decay,
                  nesterov=nesterov)
