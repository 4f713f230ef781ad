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
import json
import os
import sys
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # benchmarks/ is not installed; it lives beside tools/

from benchmarks import ms_steps  # noqa: E402  (imports sbcore before mindspore)
from sbcore.cli import add_debug_argument, run_tool  # noqa: E402
from benchmarks.data_speed import bench_data  # noqa: E402
from benchmarks.eval_speed import bench_eval  # noqa: E402
from benchmarks.model_speed import bench_infer, bench_topdown, bench_train  # noqa: E402
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


# --data-root --------------------------------------------------------------------------------
def sample_data_options(root: str) -> dict:
    """--cfg-options that point the training set at a folder laid out like the COCO sample."""
    root = str(Path(root).resolve()) + '/'
    return {'train_dataloader.dataset.data_root': root,
            'train_dataloader.dataset.ann_file': 'annotations/person_keypoints_sample.json',
            'train_dataloader.dataset.data_prefix': dict(img='images/')}


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
