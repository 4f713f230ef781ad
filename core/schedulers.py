"""Learning-rate schedulers as pure functions of progress.

Each scheduler returns a multiplicative factor for a step (the epoch index when ``by_epoch``,
the global iteration otherwise), active on ``[begin, end)``. Chained schedulers multiply. Being
stateless, they resume exactly: the lr of any step is recomputed from the step alone.
"""
from __future__ import annotations

import math
from typing import Sequence

from .errors import ConfigError, check_number


class Scheduler:
    """Base: ``factor(step)`` on ``[begin, end)``; outside it the scheduler keeps its edge value."""

    def __init__(self, by_epoch: bool = True, begin: int = 0, end: int = 10**12):
        name = type(self).__name__
        if not isinstance(by_epoch, bool):
            raise ConfigError(f'{name}: by_epoch must be True or False, got {by_epoch!r}')
        check_number(f'{name}.begin', begin, minimum=0)
        check_number(f'{name}.end', end, minimum=0)
        if end <= begin:
            raise ConfigError(f'{name}: end ({end}) must be greater than begin ({begin})')
        self.by_epoch = by_epoch
        self.begin = begin
        self.end = end

    def factor(self, step: int) -> float:
        step = min(max(step, self.begin), self.end)
        return self._factor(step - self.begin)

    def _factor(self, t: int) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{type(self).__name__}({vars(self)})'


class LinearLR(Scheduler):
    """Linear warm-up: factor goes from ``start_factor`` at ``begin`` to ``end_factor`` at ``end``."""

    def __init__(self, start_factor: float = 1.0 / 3, end_factor: float = 1.0, by_epoch: bool = False,
                 begin: int = 0, end: int = 500):
        super().__init__(by_epoch, begin, end)
        for key, value in (('start_factor', start_factor), ('end_factor', end_factor)):
            check_number(f'LinearLR.{key}', value, integer=False)
            if not 0 <= value <= 1:  # as MMEngine: a warm-up factor, not a multiplier above 1
                raise ConfigError(f'LinearLR: {key} must be in [0, 1], got {value!r}')
        self.start_factor = start_factor
        self.end_factor = end_factor

    def _factor(self, t: int) -> float:
        frac = t / (self.end - self.begin)
        return self.start_factor + (self.end_factor - self.start_factor) * frac


class MultiStepLR(Scheduler):
    """Multiply by ``gamma`` at each milestone (absolute steps)."""

    def __init__(self, milestones: Sequence[int], gamma: float = 0.1, by_epoch: bool = True,
                 begin: int = 0, end: int = 10**12):
        super().__init__(by_epoch, begin, end)
        if isinstance(milestones, (int, str)) or not all(
                isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in milestones):
            raise ConfigError(f'MultiStepLR: milestones must be a list of ints >= 0 (absolute '
                              f'{"epochs" if by_epoch else "iterations"}), got {milestones!r}')
        if not check_number('MultiStepLR.gamma', gamma, integer=False) > 0:
            raise ConfigError(f'MultiStepLR: gamma must be > 0, got {gamma!r}')
        self.milestones = sorted(milestones)
        self.gamma = gamma

    def _factor(self, t: int) -> float:
        step = t + self.begin
        return self.gamma ** sum(step >= m for m in self.milestones)


class CosineAnnealingLR(Scheduler):
    """Cosine from 1 at ``begin`` to ``eta_min_ratio`` at ``end`` (``T_max = end - begin``)."""

    def __init__(self, eta_min_ratio: float = 0.0, by_epoch: bool = True, begin: int = 0,
                 end: int = 100):
        super().__init__(by_epoch, begin, end)
        if not 0 <= check_number('CosineAnnealingLR.eta_min_ratio', eta_min_ratio, False) <= 1:
            raise ConfigError(f'CosineAnnealingLR: eta_min_ratio must be in [0, 1], '
                              f'got {eta_min_ratio!r}')
        self.eta_min_ratio = eta_min_ratio

    def _factor(self, t: int) -> float:
        cos = (1 + math.cos(math.pi * t / (self.end - self.begin))) / 2
        return self.eta_min_ratio + (1 - self.eta_min_ratio) * cos
