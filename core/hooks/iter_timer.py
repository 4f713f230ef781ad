"""Times data loading and the training step of every iteration."""
from __future__ import annotations

import time

from .hook import Hook


class IterTimerHook(Hook):
    """Puts ``data_time`` and ``time`` (seconds, this iteration) into ``runner.timings``, plus
    running means over the epoch (``data_time_avg``, ``time_avg``) used for the ETA."""

    priority = 'VERY_HIGH'

    def before_train_epoch(self, runner) -> None:
        self._last = time.perf_counter()
        self._count = 0
        self._sum_time = 0.0
        self._sum_data = 0.0

    def before_train_iter(self, runner, batch_idx, data_batch) -> None:
        now = time.perf_counter()
        runner.timings['data_time'] = now - self._last
        self._step_start = now

    def after_train_iter(self, runner, batch_idx, data_batch, outputs) -> None:
        now = time.perf_counter()
        step = now - self._last
        self._last = now
        self._count += 1
        # The first iterations include compilation; the mean over the epoch smooths it out.
        self._sum_time += step
        self._sum_data += runner.timings['data_time']
        runner.timings.update(time=step, step_time=now - self._step_start,
                              time_avg=self._sum_time / self._count,
                              data_time_avg=self._sum_data / self._count)
