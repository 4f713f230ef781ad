"""Train a model from a config: ``python tools/train.py --config CFG [options]``.

Examples:
    python tools/train.py configs/simple_baseline/coco/res50_256x192.py
    python tools/train.py --config CFG --resume                     # latest checkpoint of work_dir
    bash tools/dist_train.sh CFG 2                                 # two workers through msrun
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.cli import add_debug_argument, run_tool
from sbcore.config import Config, DictAction


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Train a pose model.')
    p.add_argument('config_pos', nargs='?', metavar='CONFIG', help='config file (or use --config)')
    p.add_argument('--config', help='config file')
    p.add_argument('--work-dir', help='where logs and checkpoints go (default work_dirs/<config name>)')
    p.add_argument('--resume', nargs='?', const=True, default=None, metavar='CKPT',
                   help='resume from CKPT, or from the latest checkpoint in the work dir')
    p.add_argument('--load-from', help='initialise weights from a checkpoint (weights only)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='override config keys, e.g. train_cfg.max_epochs=10')
    p.add_argument('--launcher', choices=['none', 'msrun', 'mpi'], default='none')
    p.add_argument('--amp', action='store_true', help='mixed precision (O2)')
    p.add_argument('--seed', type=int)
    p.add_argument('--no-validate', action='store_true', help='skip validation during training')
    add_debug_argument(p)
    args = p.parse_args(argv)
    args.config = args.config or args.config_pos
    if not args.config:
        p.error('a config file is required (positional or --config)')
    return args


def build_config(args: argparse.Namespace) -> Config:
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif not cfg.get('work_dir'):
        cfg.work_dir = str(Path('work_dirs') / Path(args.config).stem)
    if args.resume is not None:
        cfg.resume = args.resume
    if args.load_from:
        cfg.load_from = args.load_from
    if args.amp:
        cfg.setdefault('optim_wrapper', {})['amp'] = 'O2'
    if args.seed is not None:
        cfg.seed = args.seed
    if args.launcher != 'none':
        cfg.launcher = args.launcher
    if args.no_validate:
        cfg.setdefault('train_cfg', {})['val_interval'] = 0
    return cfg


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = build_config(args)
    from sbcore.runner import Runner
    runner = Runner(cfg)
    runner.train()
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
