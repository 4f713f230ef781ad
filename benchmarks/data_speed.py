"""``tools/benchmark.py --mode data``: the config's training pipeline on real images.

Samples/s of one process calling the pipeline (beside the official ``__getitem__`` on the same
records, ``benchmarks/official_pipeline.py``), of the configured DataLoader workers (and per
worker), the share of each transform, and the heatmap encoding of one instance.
"""
from __future__ import annotations

import os
import time
from typing import Dict

import numpy as np

from benchmarks import ms_steps  # imports sbcore before mindspore


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

