"""Measure training, inference, data pipeline and evaluation speed of a config.

    python tools/benchmark.py --config configs/simple_baseline/coco/res50_256x192.py \
        --mode all --batch-size 16 --iters 5 --data-root ../shared/data/coco_sample \
        --json work_dirs/benchmark.json

Every figure is the median of ``--iters`` timed repetitions after ``--warmup`` untimed ones
(compilation, caches). Modes:

- ``train``: one training step (``--variant``: the runner's step by default) on a fixed random batch.
- ``infer``: heatmap prediction on a fixed batch, without and with the flip test; with
  ``--backend onnxruntime|openvino`` (``--precision bf16`` for OpenVINO's AMX path) the network
  is exported to ONNX once (random weights) and run by that backend.
- ``topdown``: end-to-end ``inference_topdown`` (pipeline, crops, network, decoding) on a real
  image (``--image``) with ``--persons`` boxes: milliseconds per person, through ``--backend``.
- ``data``: the config's full training pipeline on real images: samples/s of one process calling
  the pipeline, of the configured DataLoader workers (and per worker), the share of each
  transform, and the heatmap encoding of one instance.
- ``eval``: the whole ``CocoMetric`` (rescoring, OKS-NMS, results file, COCOeval) on a synthetic
  val2017-scale set (``--eval-images`` images, ``--eval-persons`` detections), and pycocotools'
  COCOeval alone on the same detections.

The JSON holds ``train_img_per_s``, ``infer_img_per_s``, ``infer_flip_img_per_s``,
``data_samples_per_s``, ``data_samples_per_s_per_worker``, ``eval_s``, ``cocoeval_s``,
``peak_rss_mb`` and the details of each mode, with the settings and the load average.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # benchmarks/ is not installed; it lives beside tools/

import numpy as np  # noqa: E402

from benchmarks import ms_steps  # noqa: E402  (imports sbcore before mindspore)
from sbcore.cli import add_debug_argument, run_tool  # noqa: E402
from benchmarks.synthetic_coco import make_val_scale_set  # noqa: E402
from sbcore.config import DictAction  # noqa: E402
from sbcore.env import describe_env  # noqa: E402

MODES = ('train', 'infer', 'data', 'eval', 'topdown')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Measure the speed of a config (see module doc).')
    p.add_argument('--config', required=True)
    p.add_argument('--mode', choices=MODES + ('all',), default='all')
    p.add_argument('--batch-size', type=int, default=None,
                   help='train/infer batch (default: the config train_dataloader batch_size)')
    p.add_argument('--iters', type=int, default=5, help='timed repetitions (median reported)')
    p.add_argument('--warmup', type=int, default=1, help='untimed repetitions first')
    p.add_argument('--variant', choices=ms_steps.TRAIN_VARIANTS, default=None,
                   help="training step (default: the runner's, from env_cfg.jit)")
    p.add_argument('--infer-variant', choices=ms_steps.INFER_VARIANTS, default=None,
                   help="inference: pynative, jit (graph mode) or jit-construct (construct "
                        "wrapped in mindspore.jit, the runner's choice when env_cfg.jit is on); "
                        "default: the runner's")
    p.add_argument('--threads', type=int, default=None, help='MindSpore runtime_num_threads')
    p.add_argument('--backend', default='mindspore',
                   help='infer/topdown: mindspore, onnxruntime or openvino (sbplugins.backends)')
    p.add_argument('--precision', default=None, help="backend precision (openvino: fp32, bf16)")
    p.add_argument('--image', default=None, help='topdown: the image (default: a COCO sample '
                   'image under --data-root or ../shared/data/coco_sample)')
    p.add_argument('--persons', type=int, nargs='+', default=[1, 8],
                   help='topdown: person boxes per image (one measurement each)')
    p.add_argument('--data-root', help='a folder laid out like the shared COCO sample '
                   '(annotations/person_keypoints_sample.json, images/): the data mode reads it')
    p.add_argument('--data-samples', type=int, default=200,
                   help='samples per data measurement (the dataset is cycled)')
    p.add_argument('--num-workers', type=int, default=None,
                   help='DataLoader workers (default: the config train_dataloader num_workers)')
    p.add_argument('--eval-images', type=int, default=5000)
    p.add_argument('--eval-persons', type=int, default=100000)
    p.add_argument('--json', help='write the results here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    add_debug_argument(p)
    return p.parse_args(argv)


# train / infer ------------------------------------------------------------------------------
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


# data ---------------------------------------------------------------------------------------
def sample_data_options(root: str) -> dict:
    """--cfg-options that point the training set at a folder laid out like the COCO sample."""
    root = str(Path(root).resolve()) + '/'
    return {'train_dataloader.dataset.data_root': root,
            'train_dataloader.dataset.ann_file': 'annotations/person_keypoints_sample.json',
            'train_dataloader.dataset.data_prefix': dict(img='images/')}


class CycledDataset:
    """``dataset`` repeated to ``length`` samples (the shared sample holds only a dozen people)."""

    def __init__(self, dataset, length: int):
        self.dataset, self.length = dataset, length
        self.metainfo = dataset.metainfo

    def __len__(self) -> int:
        return self.length

    def get_sample(self, idx: int, rng: np.random.Generator) -> Dict[str, object]:
        return self.dataset.get_sample(idx % len(self.dataset), rng)


def bench_data(cfg, args) -> Dict[str, object]:
    from sbcore.data import build_dataloader
    loader_cfg = cfg.train_dataloader.to_dict()
    if args.num_workers is not None:
        loader_cfg['num_workers'] = args.num_workers
    configured = max(1, int(loader_cfg.get('num_workers', 1)))
    # MindSpore's GeneratorDataset refuses more workers than CPUs (ValueError), so clamp
    workers = min(configured, os.cpu_count() or 1)
    dataset = build_dataloader(loader_cfg, seed=0).dataset
    n = args.data_samples
    rngs = [np.random.default_rng([0, i]) for i in range(n)]

    # one process, transform by transform (the per-worker ceiling and where its time goes),
    # interleaved with the official __getitem__ on the same records (benchmarks/official_pipeline.py)
    from benchmarks import official_pipeline as official
    infos = [dataset.get_data_info(i % len(dataset)) for i in range(n)]
    flip_pairs = [(i, j) for i, j in enumerate(dataset.metainfo['flip_indices']) if i < j]
    affine = next(t for t in dataset.pipeline.transforms if type(t).__name__ == 'TopdownAffine')
    input_size = tuple(int(v) for v in affine.input_size)
    records = official.records_from_samples(infos, input_size[0] / input_size[1])
    per_transform: Dict[str, float] = {}
    per_process_rates, official_rates = [], []
    for rep in range(args.warmup + args.iters):
        spent = {type(t).__name__: 0.0 for t in dataset.pipeline.transforms}
        start = time.perf_counter()
        for i in range(n):
            results = dataset.get_data_info(i % len(dataset))  # a fresh copy per sample
            results['rng'] = rngs[i]
            for t in dataset.pipeline.transforms:
                t0 = time.perf_counter()
                results = t(results)
                spent[type(t).__name__] += time.perf_counter() - t0
        ours_s = time.perf_counter() - start
        start = time.perf_counter()
        for record in records:
            official.official_train_sample(record, flip_pairs, image_size=input_size,
                                           heatmap_size=tuple(v // 4 for v in input_size))
        official_s = time.perf_counter() - start
        if rep >= args.warmup:
            per_process_rates.append(n / ours_s)
            official_rates.append(n / official_s)
            for name, s in spent.items():
                per_transform.setdefault(name, []).append(s / n * 1e3)
    transform_ms = {name: ms_steps.median(v) for name, v in per_transform.items()}

    # the DataLoader with its workers over the dataset cycled to n samples; timed from the first
    # batch on, so worker start-up (once per run, not per batch) is left out
    from sbcore.data import DataLoader
    loader = DataLoader(CycledDataset(dataset, n), batch_size=int(loader_cfg['batch_size']),
                        shuffle=True, num_workers=workers, drop_last=False, seed=0)
    loader_rates = []
    for rep in range(args.warmup + max(1, args.iters // 2)):
        loader.set_epoch(rep)
        count, start = 0, None
        for batch in loader:
            if start is None:
                start = time.perf_counter()
            else:
                count += len(batch['sample_idx'])
        if rep >= args.warmup and count:
            loader_rates.append(count / (time.perf_counter() - start))

    # heatmap encoding of one instance (all 17 joints visible, inside the crop)
    codec = next((t.encoder for t in dataset.pipeline.transforms if hasattr(t, 'encoder')), None)
    encode_ms = None
    if codec is not None:
        w, h = codec.input_size
        kpts = np.random.default_rng(0).uniform((0, 0), (w, h), (1, 17, 2))
        vis = np.ones((1, 17), np.float32)
        reps = 2000
        codec.encode(kpts, vis)
        t0 = time.perf_counter()
        for _ in range(reps):
            codec.encode(kpts, vis)
        encode_ms = (time.perf_counter() - t0) / reps * 1e3
    loader_rate = ms_steps.median(loader_rates)
    return dict(data_samples_per_s=loader_rate, data_workers=workers,
                data_workers_configured=configured,
                data_samples_per_s_per_worker=loader_rate / workers,
                data_samples_per_s_one_process=ms_steps.median(per_process_rates),
                data_official_samples_per_s=ms_steps.median(official_rates),
                data_vs_official=ms_steps.median([a / b for a, b in
                                                  zip(per_process_rates, official_rates)]),
                data_transform_ms=transform_ms, heatmap_encode_ms=encode_ms,
                # the same process without the JPEG decode (LoadImage), which dominates
                data_samples_per_s_one_process_no_decode=1e3 / sum(
                    v for k, v in transform_ms.items() if k != 'LoadImage'),
                data_decode_share=transform_ms.get('LoadImage', 0.0) / sum(transform_ms.values()),
                data_instances=len(dataset))


# topdown ------------------------------------------------------------------------------------
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


# eval ---------------------------------------------------------------------------------------
def bench_eval(cfg, args) -> Dict[str, float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from sbplugins.metrics.coco_metric import CocoMetric
    with tempfile.TemporaryDirectory() as tmp:
        ann_file, batch, preds = make_val_scale_set(Path(tmp), args.eval_images,
                                                    args.eval_persons)
        metric_times, cocoeval_times = [], []
        for rep in range(args.warmup + args.iters):
            metric = CocoMetric(ann_file=str(ann_file), outfile_prefix=str(Path(tmp) / 'out'))
            t0 = time.perf_counter()
            metric.process(batch, preds)
            with contextlib.redirect_stdout(io.StringIO()):
                metrics = metric.compute_metrics(metric.results)
            metric_s = time.perf_counter() - t0

            # COCOeval alone on the same detections (as official-schema results, no NMS)
            flat = np.concatenate([preds['keypoints'], preds['keypoint_scores'][..., None]], -1)
            results = [dict(image_id=int(i), category_id=1, keypoints=k, score=float(s))
                       for i, k, s in zip(batch['img_id'], flat.reshape(len(flat), -1),
                                          batch['bbox_score'])]
            with contextlib.redirect_stdout(io.StringIO()):
                coco = COCO(str(ann_file))
                t0 = time.perf_counter()
                evaluator = COCOeval(coco, coco.loadRes(results), 'keypoints')
                evaluator.params.useSegm = None
                evaluator.evaluate()
                evaluator.accumulate()
                evaluator.summarize()
            cocoeval_s = time.perf_counter() - t0
            if rep >= args.warmup:
                metric_times.append(metric_s)
                cocoeval_times.append(cocoeval_s)
    eval_s, cocoeval_s = ms_steps.median(metric_times), ms_steps.median(cocoeval_times)
    return dict(eval_s=eval_s, cocoeval_s=cocoeval_s, eval_vs_cocoeval=eval_s / cocoeval_s,
                eval_images=args.eval_images, eval_persons=args.eval_persons,
                eval_ap=metrics['coco/AP'])


# main ---------------------------------------------------------------------------------------
def print_table(results: Dict[str, object]) -> None:
    rows = [(k, v) for k, v in results.items() if isinstance(v, (int, float)) and not
            isinstance(v, bool)]
    width = max(len(k) for k, _ in rows)
    print('-' * (width + 14))
    for k, v in rows:
        print(f'{k:<{width}}  {v:>12.4g}')
    print('-' * (width + 14))


def main(argv=None) -> Dict[str, object]:
    args = parse_args(argv)
    options = dict(args.cfg_options)
    if args.data_root:
        options.update(sample_data_options(args.data_root))
    args.cfg_options_all = options
    cfg = ms_steps.load_config(args.config, options)
    args.batch_size = args.batch_size or int(cfg.train_dataloader.batch_size)
    modes: List[str] = list(MODES[:4]) if args.mode == 'all' else [args.mode]  # all: not topdown
    results: Dict[str, object] = dict(config=args.config, batch_size=args.batch_size,
                                      cpu=describe_env(),
                                      iters=args.iters, warmup=args.warmup,
                                      load_before=list(os.getloadavg()))
    results['context'] = ms_steps.apply_context(num_threads=args.threads)
    bench = dict(train=bench_train, infer=bench_infer, data=bench_data, eval=bench_eval,
                 topdown=bench_topdown)
    for mode in modes:
        results.update(bench[mode](cfg, args))
        results[f'{mode}_peak_rss_mb'] = ms_steps.peak_rss_mb()
    results['peak_rss_mb'] = ms_steps.peak_rss_mb()
    results['load_after'] = list(os.getloadavg())
    print_table(results)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=2, default=float))
        print(f'results written to {args.json}')
    return results


def cli(argv=None) -> int:
    main(argv)
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(cli))
