"""Tells the training data loader which epoch starts, so every rank draws the same order."""
from __future__ import annotations

from .hook import Hook


class DistSamplerSeedHook(Hook):
    """The sampler's permutation is seeded by ``(seed, epoch)``; all ranks get the same one and
    take disjoint shards of it. Without this hook every epoch would repeat epoch 0's order."""

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        runner.train_dataloader.set_epoch(runner.epoch)
