"""Stops training when a validation metric has stopped improving."""
from __future__ import annotations

import math
from typing import Optional

from ..errors import ConfigError, check_number
from .checkpoint import improves, infer_rule
from .hook import Hook


class EarlyStoppingHook(Hook):
    """Asks the run to stop (``runner.request_stop``) when ``monitor`` has not improved by more
    than ``min_delta`` for ``patience`` validations in a row, or has reached
    ``stopping_threshold``, or is NaN/inf (``check_finite``). The run stops after the current
    step, once the checkpoint of that step (or epoch) is written. Its state survives a resume.

    Args:
        monitor: a metric name, e.g. ``'toy/mse'``.
        rule: 'greater' or 'less'; inferred from the name when None (as ``CheckpointHook``).
        min_delta: the smallest change that counts as an improvement.
        patience: validations without improvement before stopping.
        stopping_threshold: stop as soon as the metric is at least this good.
        check_finite: stop when the metric is NaN or infinite.
    """

    priority = 'LOW'

    def __init__(self, monitor: str, rule: Optional[str] = None, min_delta: float = 0.0,
                 patience: int = 5, stopping_threshold: Optional[float] = None,
                 check_finite: bool = True):
        self.monitor = monitor
        self.rule = infer_rule(monitor, rule, 'EarlyStoppingHook')
        self.patience = check_number('EarlyStoppingHook.patience', patience, minimum=1)
        self.min_delta = abs(float(check_number('EarlyStoppingHook.min_delta', min_delta, False)))
        self.stopping_threshold, self.check_finite = stopping_threshold, check_finite
        self.best: Optional[float] = None
        self.wait = 0

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not metrics:
            return
        if self.monitor not in metrics:
            raise ConfigError(f'EarlyStoppingHook: monitor={self.monitor!r} is not among the '
                              f'metrics {sorted(metrics)}')
        score = float(metrics[self.monitor])
        if self.check_finite and not math.isfinite(score):
            runner.request_stop(f'{self.monitor} is {score}')
        elif self.stopping_threshold is not None and not improves(
                self.stopping_threshold, score, self.rule):  # score at least as good
            runner.request_stop(f'{self.monitor} = {score:.6g} reached the stopping threshold '
                                f'{self.stopping_threshold}')
        elif improves(score, self.best, self.rule, self.min_delta):
            self.best, self.wait = score, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                runner.request_stop(f'{self.monitor} has not improved on {self.best:.6g} for '
                                    f'{self.wait} validation(s) (patience {self.patience})')

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        checkpoint['meta']['early_stopping'] = dict(monitor=self.monitor, best=self.best,
                                                    wait=self.wait)

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        state = checkpoint['meta'].get('early_stopping') or {}
        if state.get('monitor') == self.monitor:
            self.best, self.wait = state.get('best'), int(state.get('wait', 0))
