"""Sets the learning rate before every training iteration from the configured schedulers."""
from __future__ import annotations

from typing import List

from ..registries import SCHEDULERS
from .hook import Hook


class ParamSchedulerHook(Hook):
    """lr = base lr x the product of every scheduler's factor.

    Schedulers come from the config's ``param_scheduler`` (a dict or a list of dicts); per-epoch
    ones see the current epoch, per-iteration ones the global iteration. Schedulers are pure
    functions of progress, so a resumed run gets exactly the lr of an uninterrupted one.
    """

    priority = 'LOW'

    def before_run(self, runner) -> None:
        cfgs = runner.cfg.get('param_scheduler') or []
        if isinstance(cfgs, dict):
            cfgs = [cfgs]
        self.schedulers: List = [SCHEDULERS.build(dict(c)) for c in cfgs]

    def lr_at(self, base_lr: float, epoch: int, iteration: int) -> float:
        lr = base_lr
        for s in self.schedulers:
            lr *= s.factor(epoch if s.by_epoch else iteration)
        return lr

    def before_train_iter(self, runner, batch_idx, data_batch) -> None:
        step = runner.train_step
        step.set_lr(self.lr_at(step.base_lr, runner.epoch, runner.iter))
