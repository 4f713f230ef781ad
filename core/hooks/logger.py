"""Logs training progress as text and JSON lines, and validation progress as a bar with ETA."""
from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Optional

from ..dist import is_main_process
from ..errors import check_number
from ..progress import ProgressBar, format_duration
from .hook import Hook


def max_rss_mb() -> float:
    """Peak resident memory of this process in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class LoggerHook(Hook):
    """Every ``interval`` iterations (and at the end of each epoch, or of an iteration-based run):
    epoch, iteration, lr, each loss, data time, step time, ETA and peak memory, to the log and to
    ``log.json`` (one JSON object per line) in the work directory. Validation and test metrics
    are logged the same way; validation and test show a progress bar.
    """

    priority = 'BELOW_NORMAL'

    def __init__(self, interval: int = 10, json_file: str = 'log.json'):
        self.interval = check_number('LoggerHook.interval', interval, minimum=1)
        self.json_file = json_file
        self._bar: Optional[ProgressBar] = None

    def _write_json(self, runner, record: dict) -> None:
        if is_main_process():
            with open(Path(runner.work_dir) / self.json_file, 'a') as f:
                f.write(json.dumps(record) + '\n')

    def after_train_iter(self, runner, batch_idx, data_batch, outputs) -> None:
        loop = runner.train_loop
        if loop.by_epoch:
            if not (self.every_n_inner_iters(batch_idx, self.interval)
                    or self.end_of_epoch(loop.dataloader, batch_idx)):
                return
            where = (f'Epoch(train) [{runner.epoch + 1}/{runner.max_epochs}]'
                     f'[{batch_idx + 1}/{len(loop.dataloader)}]')
        else:
            if not (self.every_n_train_iters(runner, self.interval)
                    or self.is_last_train_iter(runner)):
                return
            where = f'Iter(train) [{runner.iter}/{runner.max_iters}]'
        t = runner.timings
        eta = (runner.max_iters - runner.iter) * t.get('time_avg', 0.0)
        record = dict(mode='train', epoch=runner.epoch + 1, iter=runner.iter,
                      epoch_iter=batch_idx + 1, lr=runner.train_step.get_lr(),
                      **{k: float(v) for k, v in outputs.items()},
                      data_time=t.get('data_time', 0.0), time=t.get('time', 0.0),
                      eta_s=eta, memory_mb=max_rss_mb())
        losses = '  '.join(f'{k}: {v:.6g}' for k, v in outputs.items())
        runner.logger.info(
            f'{where}  lr: {record["lr"]:.4e}  eta: {format_duration(eta)}  '
            f'time: {record["time"]:.3f}  data_time: {record["data_time"]:.3f}  {losses}  '
            f'memory: {record["memory_mb"]:.0f}MB')
        self._write_json(runner, record)

    def _start_bar(self, runner, loop, desc: str) -> None:
        if is_main_process():
            self._bar = ProgressBar(len(loop.dataloader), desc=desc)

    def before_val_epoch(self, runner) -> None:
        self._start_bar(runner, runner.val_loop, 'val')

    def before_test_epoch(self, runner) -> None:
        self._start_bar(runner, runner.test_loop, 'test')

    def after_val_iter(self, runner, batch_idx, data_batch, outputs) -> None:
        if self._bar is not None:
            self._bar.update()

    after_test_iter = after_val_iter

    def _log_metrics(self, runner, mode: str, metrics) -> None:
        self._bar = None
        if not metrics:
            return
        text = '  '.join(f'{k}: {v:.4f}' for k, v in metrics.items())
        runner.logger.info(f'Epoch({mode}) [{runner.epoch}]  {text}')
        self._write_json(runner, dict(mode=mode, epoch=runner.epoch, iter=runner.iter,
                                      **{k: float(v) for k, v in metrics.items()}))

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._log_metrics(runner, 'val', metrics)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._log_metrics(runner, 'test', metrics)
