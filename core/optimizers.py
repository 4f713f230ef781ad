"""Optimizer builders: MindSpore optimizers whose learning rate is a settable Parameter."""
from __future__ import annotations

from typing import Sequence

from mindspore import log as ms_log
from mindspore import nn


def Adam(params, lr: float = 1e-3, betas: Sequence[float] = (0.9, 0.999), eps: float = 1e-8,
         weight_decay: float = 0.0) -> nn.Optimizer:
    # nn.Adam builds the FusedSparseAdam primitive (for sparse gradients only) in its constructor,
    # and MindSpore 2.10 logs "'FusedSparseAdam' is deprecated" on stderr for it: every training
    # run printed that line, and a tool's one-line error became two. Only that notice is dropped.
    def not_that_notice(record) -> bool:
        return "'FusedSparseAdam' is deprecated" not in record.getMessage()

    logger = ms_log._get_logger()  # MindSpore's own logger (named after the process id)
    logger.addFilter(not_that_notice)
    try:
        return nn.Adam(params, learning_rate=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                       weight_decay=weight_decay)
    finally:
        logger.removeFilter(not_that_notice)


def AdamW(params, lr: float = 1e-3, betas: Sequence[float] = (0.9, 0.999), eps: float = 1e-8,
          weight_decay: float = 1e-2) -> nn.Optimizer:
    return nn.AdamWeightDecay(params, learning_rate=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                              weight_decay=weight_decay)


def SGD(params, lr: float = 0.1, momentum: float = 0.9, weight_decay: float = 0.0,
        nesterov: bool = False) -> nn.Optimizer:
    return nn.SGD(params, learning_rate=lr, momentum=momentum, weight_decay=weight_decay,
                  nesterov=nesterov)
