"""``tools/benchmark.py --mode train | infer | topdown``: the network's speed on MindSpore or an
exported-model backend.

- ``bench_train``: one training step (``--variant``: the runner's step by default) on a fixed
  random batch.
- ``bench_infer``: heatmap prediction on a fixed batch, without and with the flip test; with
  ``--backend onnxruntime|openvino`` the network is exported to ONNX once (random weights) and run
  by that backend.
- ``bench_topdown``: end-to-end ``inference_topdown`` (pipeline, crops, network, decoding) on a
  real image with ``--persons`` boxes: milliseconds per person, through ``--backend``.

Each takes the loaded config and the parsed arguments of ``tools/benchmark.py`` and returns its
figures (the median of ``--iters`` timed calls after ``--warmup`` untimed ones).
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Dict

import numpy as np

from benchmarks import ms_steps  # imports sbcore before mindspore

REPO_ROOT = Path(__file__).resolve().parents[1]


def bench_train(cfg, args) -> Dict[str, float]:
    variant = args.variant or ('jit' if (cfg.get('env_cfg') or {}).get('jit', True) else 'pynative')
    step, _ = ms_steps.make_train_step(cfg, variant, args.batch_size)
    times = ms_steps.time_calls(step, args.iters, args.warmup)
    s = ms_steps.median(times)
    return dict(train_variant=variant, train_step_s=s, train_img_per_s=args.batch_size / s,
                train_times=times)


def exported_onnx(args) -> str:
    """The config's network (random weights) as ONNX, exported once per benchmark run."""
    if getattr(args, 'onnx_file', None) is None:
        out = Path(tempfile.mkdtemp(prefix='sbpose_bench_')) / 'model.onnx'
        args.onnx_file = ms_steps.export_onnx_file(args.config, args.cfg_options_all, str(out))
    return args.onnx_file


def bench_infer(cfg, args) -> Dict[str, float]:
    jit = (cfg.get('env_cfg') or {}).get('jit', True)
    variant = args.infer_variant or ('jit-construct' if jit else 'pynative')
    if args.backend != 'mindspore':
        variant = f'{args.backend}:{args.precision or "default"}'
    out = dict(infer_variant=variant, infer_backend=args.backend)
    for flip in (False, True):
        if args.backend != 'mindspore':
            fn, model = ms_steps.make_backend_infer(cfg, exported_onnx(args), args.backend,
                                                    args.batch_size, flip, args.precision,
                                                    args.threads)
            out['infer_precision'] = model.inference_backend.precision
        else:
            fn, _ = ms_steps.make_infer(cfg, args.batch_size, flip_test=flip, variant=variant)
        times = ms_steps.time_calls(fn, args.iters, args.warmup)
        key = 'infer_flip' if flip else 'infer'
        out[f'{key}_batch_s'] = ms_steps.median(times)
        out[f'{key}_img_per_s'] = args.batch_size / ms_steps.median(times)
    return out


def bench_topdown(cfg, args) -> Dict[str, object]:
    """``inference_topdown`` on a real image, boxes tiled over it; ms per person, flip test as
    configured."""
    import cv2
    from sbplugins.apis import inference_topdown, init_model
    image_path = args.image or str(next(iter(sorted(Path(
        args.data_root or REPO_ROOT.parent / 'shared' / 'data' / 'coco_sample').glob(
            '**/*.jpg')))))
    image = cv2.imread(image_path)
    if image is None:
        raise FileNotFoundError(f'--image {image_path}: not a readable image')
    options = dict(args.cfg_options_all, **{'model.pretrained': None})
    if args.backend == 'mindspore':
        model = init_model(args.config, None, cfg_options=options)
    else:
        model = init_model(args.config, exported_onnx(args), cfg_options=options,
                           backend=args.backend, precision=args.precision,
                           num_threads=args.threads)
    height, width = image.shape[:2]
    out: Dict[str, object] = dict(topdown_image=image_path, topdown_backend=args.backend,
                                  topdown_flip_test=bool(model.test_cfg['flip_test']))
    rng = np.random.default_rng(0)
    for persons in args.persons:
        xy = rng.uniform(0, 0.5, (persons, 2)) * (width, height)
        boxes = np.concatenate([xy, rng.uniform(0.3, 0.5, (persons, 2)) * (width, height)], 1)
        times = ms_steps.time_calls(lambda: inference_topdown(model, image, boxes), args.iters,
                                    args.warmup + 1)
        out[f'topdown_{persons}_persons_s'] = ms_steps.median(times)
        out[f'topdown_{persons}_ms_per_person'] = ms_steps.median(times) / persons * 1e3
    return out
