"""Convert PyTorch SimpleBaseline or torchvision ResNet weights to a MindSpore checkpoint.

    python tools/convert_weights.py --src pose_resnet_50_256x192.pth.tar --dst sb_r50.ckpt
    python tools/convert_weights.py --src resnet50-0676ba61.pth --dst r50_imagenet.ckpt \
        --kind torchvision

The source is read without torch and without running code from the file (see
sbplugins/utils/pth_reader.py). ``official`` gives estimator names (``backbone.*``, ``head.*``);
``torchvision`` gives backbone-only names for an estimator's ``pretrained=`` init.
Converted official weights expect the official input: BGR, ImageNet mean/std in B, G, R order.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from sbcore.cli import add_debug_argument, run_tool
from sbcore.errors import CheckpointError, ConfigError, MissingFileError
from sbplugins.utils.pth_reader import load_state_dict
from sbplugins.utils.weight_conversion import (convert_official, convert_torchvision,
                                               save_mindspore_checkpoint)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--src', required=True, help='PyTorch .pth/.pth.tar/.pt file')
    parser.add_argument('--dst', required=True, help='MindSpore .ckpt to write')
    parser.add_argument('--kind', choices=('official', 'torchvision'), default='official')
    parser.add_argument('--num-joints', type=int, default=17,
                        help='expected heatmap channels of final_layer (official only)')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not args.dst.endswith('.ckpt'):
        raise ConfigError(f'--dst {args.dst!r} must end with .ckpt (MindSpore loads only that '
                          f'suffix)')
    if not os.path.isfile(args.src):
        raise MissingFileError(f'--src {args.src} not found')
    # PthFormatError, UnsafePickleError and UnmappedWeightsError are user errors: one line, exit 2
    state = load_state_dict(args.src)
    convert = convert_official if args.kind == 'official' else convert_torchvision
    params = convert(state)
    if args.kind == 'official':
        final = params.get('head.final_layer.weight')
        if final is None or final.shape[0] != args.num_joints:
            found = None if final is None else final.shape[0]
            raise CheckpointError(f'{args.src}: final_layer has {found} output channels, '
                                  f'--num-joints is {args.num_joints}')
    save_mindspore_checkpoint(params, args.dst)
    dropped = len(state) - len(params)
    numel = sum(int(a.size) for a in params.values())
    print(f'{args.src} ({args.kind}): {len(state)} tensors read, {len(params)} parameters '
          f'({numel / 1e6:.2f}M values) written to {args.dst}, {dropped} dropped '
          f'(BN counters{", fc" if args.kind == "torchvision" else ""})')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
