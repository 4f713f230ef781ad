"""The backbone contract: what an estimator may rely on, so heads need no hand-set channels.

A backbone is an ``nn.Cell`` whose ``construct(x (N, C, H, W))`` returns a tuple of stage feature
maps (shallow to deep, one per requested stage) and whose ``out_channels`` gives their channel
counts in the same order. ``TopdownPoseEstimator`` reads ``out_channels[-1]`` as the head's
``in_channels``.
"""
from __future__ import annotations

from typing import Sequence, Tuple

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before MindSpore loads)
from mindspore import nn


class BaseBackbone(nn.Cell):
    """Subclass, call ``super().__init__(out_channels)`` and return a tuple from ``construct``."""

    def __init__(self, out_channels: Sequence[int]):
        super().__init__()
        if not out_channels or not all(isinstance(c, int) and c > 0 for c in out_channels):
            raise ValueError(f'{type(self).__name__}: out_channels must be positive ints, one per '
                             f'returned stage; got {out_channels!r}')
        self.out_channels: Tuple[int, ...] = tuple(out_channels)
