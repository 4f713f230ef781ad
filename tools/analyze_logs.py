"""Plot training curves from a run's JSON-lines log.

    python tools/analyze_logs.py plot_curve work_dirs/res50_256x192/log.json \
        --keys loss lr coco/AP --out curves.png

``log.json`` holds one JSON object per line: training records (``mode`` 'train': epoch, iter,
lr, loss terms, time, data_time, eta_s, memory_mb) and evaluation records (``mode`` 'val': epoch,
iter and the metrics, e.g. ``coco/AP``). Each key gets its own panel against the training
iteration; several log files are drawn as one line each (compare runs).
"""
from __future__ import annotations

import argparse
import sys

from sbcore.log_plot import DEFAULT_KEYS, plot_curve
from sbcore.cli import add_debug_argument, run_tool


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Analyse JSON-lines training logs.')
    sub = p.add_subparsers(dest='command', required=True)
    plot = sub.add_parser('plot_curve', help='plot loss/lr/metric curves to an image')
    plot.add_argument('logs', nargs='+', help='log.json file(s) of work directories')
    plot.add_argument('--keys', nargs='+', default=list(DEFAULT_KEYS),
                      help=f'logged keys to plot (default: {" ".join(DEFAULT_KEYS)})')
    plot.add_argument('--out', default='curves.png', help='output image (default curves.png)')
    plot.add_argument('--title', default='')
    add_debug_argument(plot)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.command == 'plot_curve':
        counts = plot_curve(args.logs, args.keys, args.out, args.title)
        for key, n in counts.items():
            print(f'{key}: {n} point(s)' + ('' if n else ' (not in the log)'))
        print(f'saved {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
