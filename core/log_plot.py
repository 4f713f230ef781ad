"""Training curves from the run's JSON-lines log (``log.json`` written by the LoggerHook).

Each key gets its own panel against the training iteration; several logs are drawn as one line
each (compare runs). matplotlib is imported only when plotting.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

from .errors import ConfigError, DataError, MissingFileError

DEFAULT_KEYS = ('loss', 'lr', 'coco/AP')


def read_log(path: str) -> List[dict]:
    """The records of a JSON-lines log; a truncated last line (a run killed mid-write) is
    skipped, any other unreadable line is an error naming the file and line."""
    if not Path(path).is_file():
        raise MissingFileError(f'log file {path} not found')
    lines = Path(path).read_text().splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):
                print(f'warning: {path}:{number}: skipping a truncated last line', file=sys.stderr)
                continue
            raise DataError(f'{path}:{number}: not a JSON object: {err}') from err
        if not isinstance(record, dict):
            raise DataError(f'{path}:{number}: expected a JSON object, '
                            f'got {type(record).__name__}')
        records.append(record)
    return records


def loss_key(records: Sequence[dict]) -> str:
    """``loss`` when logged, else the sum is not stored: use the first ``loss_*`` term."""
    keys = {k for r in records for k in r}
    if 'loss' in keys:
        return 'loss'
    terms = sorted(k for k in keys if k.startswith('loss'))
    return terms[0] if terms else 'loss'


def curve(records: Sequence[dict], key: str) -> Tuple[List[float], List[float]]:
    """(iterations, values) of the records that carry ``key`` with a number."""
    xs, ys = [], []
    for r in records:
        value = r.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            xs.append(float(r.get('iter', len(xs))))
            ys.append(float(value))
    return xs, ys


def plot_curve(logs: Sequence[str], keys: Sequence[str], out: str,
               title: str = '') -> Dict[str, int]:
    """One panel per key, one line per log; returns key -> number of points drawn (all logs).

    Raises ValueError when no log has any of the keys (the message lists the keys they have).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    all_records = {log: read_log(log) for log in logs}
    counts: Dict[str, int] = {}
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 2.6 * len(keys)), squeeze=False,
                             sharex=True)
    for ax, key in zip(axes[:, 0], keys):
        counts[key] = 0
        for log, records in all_records.items():
            wanted = loss_key(records) if key == 'loss' else key
            xs, ys = curve(records, wanted)
            counts[key] += len(xs)
            if not xs:
                continue
            evaluation = all(r.get('mode') != 'train' for r in records if wanted in r)
            ax.plot(xs, ys, marker='o' if evaluation or len(xs) < 30 else None, markersize=3,
                    label=Path(log).parent.name or log if len(logs) > 1 else wanted)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if key == 'lr':
            ax.ticklabel_format(axis='y', style='sci', scilimits=(-3, 3))
        ax.legend(loc='best', fontsize=8)
    axes[-1, 0].set_xlabel('iteration')
    if title:
        fig.suptitle(title)
    if not any(counts.values()):
        plt.close(fig)
        found = sorted({k for records in all_records.values() for r in records for k in r})
        raise ConfigError(f'none of the keys {list(keys)} is in {list(logs)}; logged keys: {found}')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return counts
