"""Export a pose model's network to MindIR or ONNX, then check the file gives the same heatmaps.

    python tools/export.py --config CFG --ckpt CKPT --out sb_r50.mindir \
        [--flip-test] [--batch-size 1]
    python tools/export.py --config CFG --ckpt CKPT --out sb_r50.onnx [--format onnx] [--flip-test]

ONNX goes through MindSpore's exporter with the repairs of ``sbplugins.backends.onnx_export``
(padded max-pool, deconvolution ``output_shape``, a dynamic batch dimension); the file is checked
with ONNX Runtime against MindSpore (relative 1e-4) and runs in ``init_model(...,
backend='onnxruntime'|'openvino')`` and ``tools/infer.py --backend``. Export the file for those
backends without ``--flip-test`` (they run the flip test around the network themselves).

The exported graph maps normalised crops (N, 3, H, W) float32 (the model's ``preprocess``:
optional BGR->RGB, then (x - mean) / std) to heatmaps (N, K, h, w). With ``--flip-test`` it also
runs the mirrored input and returns the averaged, flipped-back heatmaps (one-pixel shift per
``test_cfg.shift_heatmap``), i.e. what ``TopdownPoseEstimator.predict_heatmaps`` computes in numpy.
Decoding (argmax + quarter-pixel rule) and the crop-to-image transform stay outside the graph.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

import numpy as np

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.cli import add_debug_argument, run_tool
import mindspore
from mindspore import nn, ops
from sbcore.config import DictAction

# MindIR replays the same kernels; allow float noise only (relative to the heatmap range).
RELATIVE_TOLERANCE = 1e-5
# ONNX Runtime folds BatchNorm into the convolutions and picks other kernels: the 1e-4.
ONNX_RELATIVE_TOLERANCE = 1e-4
FORMATS = ('mindir', 'onnx')


class FlipTestHeatmaps(nn.Cell):
    """Export-only cell: ``inputs`` (N, 3, H, W) -> flip-test heatmaps (N, K, h, w).

    The MindSpore twin of ``sbplugins.utils.geometry.flip.flip_heatmaps`` + averaging: run ``net`` on
    the input and on its horizontal mirror, reverse the mirror's heatmap width, swap left/right
    channels with ``flip_indices`` and, with ``shift`` (the official quirk, reference doc "Flip
    test"), move it one pixel right keeping column 0; return the mean of both.
    """

    def __init__(self, net: nn.Cell, flip_indices: Sequence[int], shift: bool = True):
        super().__init__()
        self.net = net
        self.flip_indices = mindspore.Tensor(np.asarray(flip_indices, np.int32))
        self.shift = bool(shift)

    def construct(self, inputs: mindspore.Tensor) -> mindspore.Tensor:
        both = ops.concat((inputs, ops.flip(inputs, (3,))), 0)
        heatmaps = self.net(both)
        n = inputs.shape[0]
        plain = heatmaps[:n]
        flipped = ops.gather(ops.flip(heatmaps[n:], (3,)), self.flip_indices, 1)
        if self.shift:
            flipped = ops.concat((flipped[:, :, :, :1], flipped[:, :, :, :-1]), 3)
        return (plain + flipped) * 0.5


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Export a pose model to MindIR or ONNX and verify '
                                'the file.')
    p.add_argument('--config', required=True)
    p.add_argument('--ckpt', required=True)
    p.add_argument('--out', required=True, help='output file (.mindir or .onnx)')
    p.add_argument('--format', choices=FORMATS, default=None,
                   help='default: from the --out suffix')
    p.add_argument('--flip-test', action='store_true',
                   help='export the flip test inside the graph (two passes, averaged)')
    p.add_argument('--batch-size', type=int, default=1, help='fixed batch size of the graph')
    p.add_argument('--device', default='CPU')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    add_debug_argument(p)
    args = p.parse_args(argv)
    suffix = args.out.rsplit('.', 1)[-1].lower() if '.' in args.out else ''
    args.format = args.format or (suffix if suffix in FORMATS else None)
    if args.format is None or suffix != args.format:
        p.error(f'--out must end with .{args.format or "mindir or .onnx"}, got {args.out!r}')
    if args.batch_size < 1:
        p.error(f'--batch-size must be >= 1, got {args.batch_size}')
    return args


def build_export_net(model, flip_test: bool) -> nn.Cell:
    if not flip_test:
        return model
    return FlipTestHeatmaps(model, model.dataset_meta['flip_indices'],
                            shift=model.test_cfg['shift_heatmap'])


def compare_heatmaps(name: str, got: np.ndarray, expected: np.ndarray, tolerance: float) -> bool:
    """Print the check line; True when ``got`` matches within ``tolerance`` x max |expected|."""
    if got.shape != expected.shape:
        print(f'FAIL: {name} heatmaps {got.shape} vs model {expected.shape}')
        return False
    max_abs = float(np.abs(got - expected).max())
    scale = float(np.abs(expected).max()) or 1.0
    print(f'{name} check: heatmaps {got.shape}, max abs diff {max_abs:.3e} '
          f'(tolerance {tolerance:g} x max |heatmap| {scale:.3e})')
    return max_abs <= tolerance * scale


def export_and_check_onnx(model, args: argparse.Namespace, dummy: np.ndarray) -> int:
    from sbplugins.backends.onnx_export import export_onnx
    from sbplugins.backends.ort_backend import OnnxRuntimeBackend
    report = export_onnx(model, args.out, flip_test=args.flip_test, example=dummy)
    print(f'exported {type(model).__name__} (flip_test={args.flip_test}, any batch size, input '
          f'(N, {", ".join(str(v) for v in dummy.shape[1:])})) to {args.out}: '
          f'{report["nodes"]} nodes; repaired {report["max_pools_repaired"]} padded max-pool(s) '
          f'and {report["deconv_output_shapes_removed"]} deconvolution output_shape(s)')
    model.test_cfg = dict(model.test_cfg, flip_test=args.flip_test)
    session = OnnxRuntimeBackend(args.out)
    ok = True
    for batch in sorted({args.batch_size, args.batch_size + 1}):  # the batch is dynamic
        inputs = np.concatenate([dummy] * (batch // len(dummy) + 1))[:batch]
        ok &= compare_heatmaps(f'ONNX Runtime (batch {batch})', session(inputs),
                               model.predict_heatmaps(inputs), ONNX_RELATIVE_TOLERANCE)
    print('OK' if ok else 'FAIL: the exported graph does not reproduce the model')
    return 0 if ok else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    from sbplugins.apis import init_model
    model = init_model(args.config, args.ckpt, device=args.device, cfg_options=args.cfg_options,
                       jit=False)  # mindspore.export traces the eager cell itself
    width, height = model.codec.input_size
    rng = np.random.default_rng(0)
    # A real-looking normalised crop: random pixels through the model's own preprocessing.
    pixels = rng.integers(0, 256, (args.batch_size, height, width, 3), dtype=np.uint8)
    dummy = model.preprocess(pixels)
    if args.format == 'onnx':
        return export_and_check_onnx(model, args, dummy)
    net = build_export_net(model, args.flip_test)
    net.set_train(False)
    mindspore.export(net, mindspore.Tensor(dummy), file_name=args.out[:-len('.mindir')],
                     file_format='MINDIR')
    print(f'exported {type(net).__name__} (flip_test={args.flip_test}, input '
          f'{tuple(dummy.shape)}) to {args.out}')

    graph = nn.GraphCell(mindspore.load(args.out))
    loaded = graph(mindspore.Tensor(dummy)).asnumpy()
    # The reference is the numpy path the estimator uses at evaluation time.
    model.test_cfg = dict(model.test_cfg, flip_test=args.flip_test)
    if not compare_heatmaps('MindIR', loaded, model.predict_heatmaps(dummy), RELATIVE_TOLERANCE):
        print('FAIL: the exported graph does not reproduce the model')
        return 1
    print('OK')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
