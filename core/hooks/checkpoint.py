"""Saves checkpoints at an interval, keeps the last N and the best by a metric."""
from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Optional

from .. import checkpoint as ckpt_io
from ..dist import is_main_process
from ..errors import ConfigError, check_number
from .hook import Hook

# Metric-name fragments whose values improve downwards (rule inferred as 'less'); a metric named
# otherwise that improves downwards needs rule='less'.
LOWER_IS_BETTER = ('loss', 'error', 'mse', 'mae')


def infer_rule(metric: str, rule: Optional[str], owner: str) -> str:
    """``rule`` checked, or inferred from the metric's name when None."""
    if rule not in (None, 'greater', 'less'):
        raise ConfigError(f"{owner}: rule must be 'greater' or 'less', got {rule!r}")
    if rule is None:
        rule = 'less' if any(k in metric.lower() for k in LOWER_IS_BETTER) else 'greater'
    return rule


def improves(score: float, best: Optional[float], rule: str, min_delta: float = 0.0) -> bool:
    if best is None:
        return True
    return score > best + min_delta if rule == 'greater' else score < best - min_delta


class CheckpointHook(Hook):
    """Args:
        interval: save every ``interval`` epochs (``iter_N.ckpt`` every ``interval`` steps when
            not ``by_epoch``).
        by_epoch: None follows the training loop (``train_cfg.type``).
        max_keep_ckpts: keep at most this many ``epoch_N.ckpt`` files (-1: all).
        save_last: also save after the last epoch when it is off the interval.
        save_best: a metric name (e.g. ``'acc/top1'``) to keep ``best_<metric>_epoch_N.ckpt``.
        rule: 'greater' or 'less'; inferred from the name when None ('less' when the name
            contains one of ``LOWER_IS_BETTER``, e.g. 'loss' or 'mse'; 'greater' otherwise).
    """

    priority = 'VERY_LOW'

    def __init__(self, interval: int = 1, by_epoch: Optional[bool] = None,
                 max_keep_ckpts: int = -1, save_last: bool = True,
                 save_best: Optional[str] = None, rule: Optional[str] = None):
        check_number('CheckpointHook.interval', interval, minimum=1)
        if check_number('CheckpointHook.max_keep_ckpts', max_keep_ckpts, minimum=-1) == 0:
            raise ConfigError('config: CheckpointHook.max_keep_ckpts must be -1 (keep all) or '
                              '>= 1, got 0')
        self.interval, self.by_epoch = interval, by_epoch
        self.max_keep_ckpts = max_keep_ckpts
        self.save_last = save_last
        self.save_best = save_best
        self.rule = infer_rule(save_best or '', rule, 'CheckpointHook')
        self.best_score: Optional[float] = None
        self.best_path: Optional[str] = None
        self._new_best = False

    def after_val_epoch(self, runner, metrics=None) -> None:
        if not self.save_best or not metrics:
            return
        if self.save_best not in metrics:
            raise ConfigError(f'CheckpointHook: save_best={self.save_best!r} is not among the '
                              f'metrics {sorted(metrics)}')
        score = float(metrics[self.save_best])
        if not math.isnan(score) and improves(score, self.best_score, self.rule):
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

    def _by_epoch(self, runner) -> bool:
        return runner.train_loop.by_epoch if self.by_epoch is None else self.by_epoch

    def after_train_epoch(self, runner) -> None:
        if self._by_epoch(runner):
            due = self.every_n_epochs(runner, self.interval) or (
                self.save_last and self.is_last_train_epoch(runner))
            self._save(runner, f'epoch_{runner.epoch}', due)

    def after_train_iter(self, runner, batch_idx, data_batch, outputs) -> None:
        if not self._by_epoch(runner):
            due = self.every_n_train_iters(runner, self.interval) or (
                self.save_last and self.is_last_train_iter(runner))
            self._save(runner, f'iter_{runner.iter}', due)

    def _save(self, runner, name: str, due: bool) -> None:
        if not (due or self._new_best):
            return
        work_dir = Path(runner.work_dir)
        if self._new_best:
            safe = self.save_best.replace('/', '_').replace(' ', '_')
            self.best_path = f'best_{safe}_{name}.ckpt'
        path = work_dir / f'{name}.ckpt'
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
