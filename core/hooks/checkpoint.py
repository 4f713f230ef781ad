"""Saves checkpoints at an interval, keeps the last N and the best by a metric."""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Optional

from .. import checkpoint as ckpt_io
from ..dist import is_main_process
from ..errors import ConfigError
from .hook import Hook

# Metric-name fragments whose values improve downwards (save_best rule inferred as 'less').
LOWER_IS_BETTER = ('loss', 'error', 'nme', 'epe', 'mse', 'mae')


class CheckpointHook(Hook):
    """Args:
        interval: save every ``interval`` epochs.
        max_keep_ckpts: keep at most this many ``epoch_N.ckpt`` files (-1: all).
        save_last: also save after the last epoch when it is off the interval.
        save_best: a metric name (e.g. ``'coco/AP'``) to keep ``best_<metric>_epoch_N.ckpt``.
        rule: 'greater' or 'less'; inferred from the name when None ('less' when the name
            contains one of ``LOWER_IS_BETTER``, e.g. 'loss' or 'mse'; 'greater' otherwise).
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: int = 1, max_keep_ckpts: int = -1, save_last: bool = True,
                 save_best: Optional[str] = None, rule: Optional[str] = None):
        if interval < 1:
            raise ConfigError(f'CheckpointHook: interval must be >= 1, got {interval}')
        if isinstance(max_keep_ckpts, bool) or not isinstance(max_keep_ckpts, int) \
                or not (max_keep_ckpts == -1 or max_keep_ckpts >= 1):
            raise ConfigError(f'CheckpointHook: max_keep_ckpts must be -1 (keep all) or >= 1, '
                              f'got {max_keep_ckpts!r}')
        if rule not in (None, 'greater', 'less'):
            raise ConfigError(f"CheckpointHook: rule must be 'greater' or 'less', got {rule!r}")
        self.interval = interval
        self.max_keep_ckpts = max_keep_ckpts
        self.save_last = save_last
        self.save_best = save_best
        if save_best and rule is None:
            rule = 'less' if any(k in save_best.lower() for k in LOWER_IS_BETTER) else 'greater'
        self.rule = rule
        self.best_score: Optional[float] = None
        self.best_path: Optional[str] = None
        self._new_best = False

    def _better(self, score: float) -> bool:
        if self.best_score is None:
            return True
        return score > self.best_score if self.rule == 'greater' else score < self.best_score

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not self.save_best or not metrics:
            return
        if self.save_best not in metrics:
            raise ConfigError(f'CheckpointHook: save_best={self.save_best!r} is not among the '
                              f'metrics {sorted(metrics)}')
        score = float(metrics[self.save_best])
        if not math.isnan(score) and self._better(score):
            self.best_score = score
            self._new_best = True

    def before_train(self, runner) -> None:
        if is_main_process():  # the only writer: nothing else is saving into work_dir now
            for path in ckpt_io.remove_stale_temporaries(runner.work_dir):
                runner.logger.warning(f'removed {path.name}, left by a run killed while saving')

    def before_save_checkpoint(self, runner, checkpoint) -> None:
        checkpoint['meta']['best'] = dict(metric=self.save_best, score=self.best_score,
                                          path=self.best_path)

    def after_load_checkpoint(self, runner, checkpoint) -> None:
        best = checkpoint['meta'].get('best') or {}
        if best.get('metric') == self.save_best:
            self.best_score = best.get('score')
            self.best_path = best.get('path')

    def after_train_epoch(self, runner) -> None:
        epoch = runner.epoch
        due = epoch % self.interval == 0 or (self.save_last and epoch == runner.max_epochs)
        if not (due or self._new_best):
            return
        work_dir = Path(runner.work_dir)
        if self._new_best:
            safe = self.save_best.replace('/', '_').replace(' ', '_')
            self.best_path = f'best_{safe}_epoch_{epoch}.ckpt'
        path = work_dir / f'epoch_{epoch}.ckpt'
        runner.save_checkpoint(path)  # collective-safe: every rank calls, rank 0 writes
        if not is_main_process():
            self._new_best = False
            return
        ckpt_io.write_pointer(work_dir, path)
        if self._new_best:
            for old in work_dir.glob('best_*.ckpt'):
                old.unlink()
            try:  # a hard link costs no space; some filesystems (FAT, some network mounts) refuse
                os.link(path, work_dir / self.best_path)
            except OSError:
                shutil.copyfile(path, work_dir / self.best_path)
            runner.logger.info(f'new best {self.save_best} = {self.best_score:.4f}: {self.best_path}')
            self._new_best = False
        if not due:
            path.unlink()
            ckpt_io.write_pointer(work_dir, work_dir / self.best_path)
        if self.max_keep_ckpts > 0:
            for old in ckpt_io.list_checkpoints(work_dir)[self.max_keep_ckpts:]:
                old.unlink()
