"""A text progress bar with rate and ETA that also reads well in CI logs (no terminal)."""
from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


def format_duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f'{h}:{m:02d}:{s:02d}' if h else f'{m:02d}:{s:02d}'


class ProgressBar:
    """``bar.update(n=1)`` after each unit of work; redraws in place on a terminal, otherwise
    prints a line at every 10% so logs stay short. ``unit`` names the rate (``'frames'`` gives
    frames per second). ``total=0`` is an open-ended stream (a webcam): no bar, no ETA, a log
    line every ``open_every`` units."""

    def __init__(self, total: int, desc: str = '', width: int = 30, stream: Optional[TextIO] = None,
                 unit: str = 'it', open_every: int = 100):
        self.open_ended = int(total) <= 0
        self.unit, self.open_every = unit, max(1, int(open_every))
        self.total = max(1, int(total))
        self.desc = desc
        self.width = width
        self.stream = stream or sys.stdout
        self.done = 0
        self.start = time.perf_counter()
        self._tty = hasattr(self.stream, 'isatty') and self.stream.isatty()
        self._next_report = 0.1

    def update(self, n: int = 1) -> None:
        if self.open_ended:
            self.done += n
            if self._tty or self.done % self.open_every == 0:
                elapsed = time.perf_counter() - self.start
                rate = self.done / elapsed if elapsed > 0 else 0.0
                self.stream.write(('\r' if self._tty else '') + f'{self.desc} {self.done} '
                                  f'{rate:.2f} {self.unit}/s, elapsed {format_duration(elapsed)}'
                                  + ('' if self._tty else '\n'))
                self.stream.flush()
            return
        self.done = min(self.total, self.done + n)
        frac = self.done / self.total
        if not self._tty and frac < self._next_report and self.done < self.total:
            return
        self._next_report = (int(frac * 10) + 1) / 10
        elapsed = time.perf_counter() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        filled = int(self.width * frac)
        line = (f'{self.desc} [{"#" * filled}{"." * (self.width - filled)}] {self.done}/{self.total} '
                f'{rate:.2f} {self.unit}/s, elapsed {format_duration(elapsed)}, ETA {format_duration(eta)}')
        end = '' if self._tty and self.done < self.total else '\n'
        self.stream.write(('\r' if self._tty else '') + line + end)
        self.stream.flush()
