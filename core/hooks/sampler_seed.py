"""Tells the training data loader which epoch starts, so every rank draws the same order."""
from __future__ import annotations

from .hook import Hook


class DistSamplerSeedHook(Hook):
    """The sampler's permutation is seeded by ``(seed, epoch)``; all ranks get the same one and
    take disjoint shards of it. The built-in training loops also set the epoch themselves (a loop
    owns its loader), so this hook matters for loops that do not; MMEngine configs name it."""

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        runner.train_dataloader.set_epoch(runner.epoch)
