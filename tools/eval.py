"""Evaluate a checkpoint: ``python tools/eval.py --config CFG --ckpt CKPT``.

``--backend onnxruntime|openvino [--precision bf16]`` exports the checkpoint's network to ONNX
(``<work dir>/model.onnx``) and evaluates through that backend instead of MindSpore (same
pipeline, flip test and decoding), so each backend's and precision's AP can be compared.

Prints the metric table and writes ``metrics.json`` (and the metric's own result files, e.g. the
COCO keypoint results JSON) to the work directory.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.cli import add_debug_argument, run_tool
from sbcore.config import Config, DictAction


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Evaluate a pose model checkpoint.')
    p.add_argument('config_pos', nargs='?', metavar='CONFIG')
    p.add_argument('ckpt_pos', nargs='?', metavar='CKPT')
    p.add_argument('--config')
    p.add_argument('--ckpt', help='checkpoint to evaluate')
    p.add_argument('--work-dir', help='where metrics go (default work_dirs/<config name>/eval)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    p.add_argument('--launcher', choices=['none', 'msrun', 'mpi'], default='none')
    p.add_argument('--backend', default='mindspore',
                   help='mindspore (default), onnxruntime or openvino (sbplugins.backends)')
    p.add_argument('--precision', default=None, help='backend precision (openvino: fp32, bf16)')
    add_debug_argument(p)
    args = p.parse_args(argv)
    args.config = args.config or args.config_pos
    args.ckpt = args.ckpt or args.ckpt_pos
    if not args.config or not args.ckpt:
        p.error('--config and --ckpt are required')
    return args


def attach_backend(runner, args: argparse.Namespace) -> None:
    """Load the checkpoint, export the network to ONNX, run it through ``args.backend``."""
    from sbplugins.backends import build_backend
    from sbplugins.backends.onnx_export import export_onnx
    runner.load_checkpoint(args.ckpt, resume=False)
    runner.cfg.load_from = None  # loaded; the backend runs the exported copy
    onnx_file = str(Path(runner.work_dir) / 'model.onnx')
    runner.model.set_train(False)
    export_onnx(runner.model, onnx_file)
    runner.model.inference_backend = build_backend(args.backend, onnx_file, args.precision)
    runner.logger.info(f'evaluating through {runner.model.inference_backend.describe()}')


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or str(Path(cfg.get('work_dir') or Path('work_dirs') / Path(args.config).stem) / 'eval')
    cfg.load_from = args.ckpt
    cfg.resume = False
    if args.launcher != 'none':
        cfg.launcher = args.launcher
    if not cfg.get('test_dataloader'):
        cfg.test_dataloader = cfg.get('val_dataloader')
    if not cfg.get('test_evaluator'):
        cfg.test_evaluator = cfg.get('val_evaluator')
    from sbcore import dist
    from sbcore.evaluator import format_metrics
    from sbcore.runner import Runner
    if args.backend != 'mindspore':
        cfg.env_cfg = dict(cfg.get('env_cfg') or {}, jit_inference=False)  # exported eagerly
    runner = Runner(cfg)
    if args.backend != 'mindspore':
        attach_backend(runner, args)
    metrics = runner.test()
    if dist.is_main_process():
        print(format_metrics(metrics))
        print(f'metrics written to {Path(runner.work_dir) / "metrics.json"}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
