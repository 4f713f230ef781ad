"""Data pipelines and the data loader (MindSpore GeneratorDataset with a seeded, sharded sampler)."""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import ConfigError, DataError

from .registries import TRANSFORMS


class Compose:
    """Apply transforms in order; each is a callable ``transform(results: dict) -> dict``.

    Args:
        transforms: transform configs (dicts with ``type``, built from ``TRANSFORMS``) or callables.
    """

    def __init__(self, transforms: Sequence[Union[dict, Callable]]):
        self.transforms: List[Callable] = []
        for i, t in enumerate(transforms or []):
            if isinstance(t, dict):
                t = TRANSFORMS.build(t)
            if not callable(t):
                raise ConfigError(f'pipeline step {i} must be a dict with "type" or a callable, got {t!r}')
            self.transforms.append(t)

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        for t in self.transforms:
            results = t(results)
        return results

    def __repr__(self) -> str:
        return 'Compose(' + ', '.join(type(t).__name__ for t in self.transforms) + ')'


class EpochSampler:
    """Per-epoch sample order: a permutation seeded by ``(seed, epoch)``, sharded by rank.

    The index list is padded (by repeating from its start) to a multiple of ``world_size`` so
    every rank runs the same number of steps; padded positions are flagged so evaluation can drop
    them. Every rank computes the same permutation, so shards never overlap.
    """

    def __init__(self, num_samples: int, shuffle: bool, seed: int, rank: int = 0,
                 world_size: int = 1):
        self.num_samples = num_samples
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size

    def indices(self, epoch: int) -> Tuple[np.ndarray, np.ndarray]:
        """``(indices, is_pad)`` of this rank for ``epoch``, both (M,)."""
        if self.shuffle:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)
        else:
            order = np.arange(self.num_samples)
        total = -(-self.num_samples // self.world_size) * self.world_size
        pad = np.zeros(total, dtype=bool)
        if total > self.num_samples:
            order = np.concatenate([order, np.resize(order, total - self.num_samples)])
            pad[self.num_samples:] = True
        return order[self.rank::self.world_size], pad[self.rank::self.world_size]


class _EpochBatches:
    """What GeneratorDataset iterates for one epoch: whole batches in sampler order, one row each.

    Stacking in the worker (one row per batch, not per sample) matters: with per-sample rows and
    ``.batch()``, MindSpore's per-row cost in the main process capped two workers at ~300
    samples/s, below one worker (~490) on 2 cores; batch rows gave ~600 (docs/benchmarks.md).
    """

    def __init__(self, dataset, keys: List[str], indices: np.ndarray, is_pad: np.ndarray,
                 seed: int, epoch: int, batch_size: int, drop_last: bool):
        self.dataset, self.keys = dataset, keys
        self.indices, self.is_pad = indices, is_pad
        self.seed, self.epoch = seed, epoch
        self.batch_size, self.drop_last = batch_size, drop_last

    def __len__(self) -> int:
        n = len(self.indices)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def sample(self, i: int) -> tuple:
        idx = int(self.indices[i])
        rng = np.random.default_rng([self.seed, self.epoch, idx])
        sample = self.dataset.get_sample(idx, rng)
        return tuple(np.asarray(sample[k]) for k in self.keys) + (
            np.int64(idx), np.bool_(self.is_pad[i]))

    def __getitem__(self, b: int) -> tuple:
        start = b * self.batch_size
        rows = [self.sample(i) for i in range(start, min(start + self.batch_size, len(self.indices)))]
        try:
            return tuple(np.stack(column) for column in zip(*rows))
        except ValueError as err:  # samples of one batch must share shapes
            shapes = {k: sorted({tuple(np.shape(r[j])) for r in rows}) for j, k in enumerate(self.keys)}
            uneven = {k: v for k, v in shapes.items() if len(v) > 1}
            raise DataError(f'{type(self.dataset).__name__}: samples of one batch differ in '
                            f'shape: {uneven}') from err


class DataLoader:
    """Batches of a map-style dataset through ``mindspore.dataset.GeneratorDataset``.

    Iterating yields ``dict[str, np.ndarray]`` batches with ``sample_idx`` (int64) and ``is_pad``
    (bool) added. Augmentation randomness comes from ``(seed, epoch, index)``, so results do not
    depend on the number of workers, and a run resumed at epoch ``e`` sees the same data.

    Args:
        dataset: object with ``__len__`` and ``get_sample(idx, rng) -> dict``.
        batch_size: samples per batch on this rank.
        shuffle: permute every epoch (training) or keep the order (evaluation).
        num_workers: parallel worker processes (0 or 1: loaded in this process's threads).
        drop_last: drop the last incomplete batch.
    """

    def __init__(self, dataset, batch_size: int, shuffle: bool = True, num_workers: int = 2,
                 drop_last: bool = False, seed: int = 0, rank: int = 0, world_size: int = 1):
        if batch_size < 1:
            raise ConfigError(f'batch_size must be >= 1, got {batch_size}')
        if len(dataset) == 0:
            raise DataError(f'dataset {type(dataset).__name__} is empty')
        self.dataset = dataset
        self.batch_size = batch_size
        # MindSpore refuses more parallel workers than CPUs; recipes written for 8-core hosts
        # (num_workers=4) still run on a 2-core machine.
        self.num_workers = min(max(0, int(num_workers)), os.cpu_count() or 1)
        self.drop_last = drop_last
        self.sampler = EpochSampler(len(dataset), shuffle, seed, rank, world_size)
        self.epoch = 0
        self._keys: Optional[List[str]] = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    @property
    def keys(self) -> List[str]:
        if self._keys is None:
            sample = self.dataset.get_sample(0, np.random.default_rng(0))
            self._keys = sorted(sample)
        return self._keys

    def __len__(self) -> int:
        n = len(self.sampler.indices(0)[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Dict[str, np.ndarray]]:
        import mindspore.dataset as ds
        indices, is_pad = self.sampler.indices(self.epoch)
        batches = _EpochBatches(self.dataset, self.keys, indices, is_pad, self.sampler.seed,
                                self.epoch, self.batch_size, self.drop_last)
        if len(batches) == 0:
            return
        columns = self.keys + ['sample_idx', 'is_pad']
        multiprocess = self.num_workers > 1
        gen = ds.GeneratorDataset(batches, column_names=columns, shuffle=False,
                                  num_parallel_workers=max(1, self.num_workers),
                                  python_multiprocessing=multiprocess)
        for batch in gen.create_dict_iterator(num_epochs=1, output_numpy=True):
            yield batch


def build_dataloader(cfg: dict, seed: int, rank: int = 0, world_size: int = 1,
                     default_shuffle: bool = True) -> DataLoader:
    """``dict(dataset=dict(type=...), batch_size=, num_workers=, shuffle=, drop_last=)``."""
    from .registries import DATASETS
    cfg = dict(cfg)
    known = {'dataset', 'batch_size', 'num_workers', 'shuffle', 'drop_last'}
    unknown = sorted(set(cfg) - known)
    if unknown:
        raise ConfigError(f'dataloader config: unknown key(s) {", ".join(unknown)}; '
                          f'known: {", ".join(sorted(known))}')
    if 'dataset' not in cfg or 'batch_size' not in cfg:
        raise ConfigError('dataloader config needs "dataset" and "batch_size"')
    dataset = cfg['dataset']
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dataset)
    return DataLoader(dataset, batch_size=int(cfg['batch_size']),
                      shuffle=cfg.get('shuffle', default_shuffle),
                      num_workers=cfg.get('num_workers', 2), drop_last=cfg.get('drop_last', False),
                      seed=seed, rank=rank, world_size=world_size)
