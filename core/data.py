"""Data pipelines and the data loader (MindSpore GeneratorDataset with a seeded, sharded sampler)."""
from __future__ import annotations

import os
import pickle
import traceback
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import ConfigError, DataError, UserError, check_keys, check_number
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


def load_sample(dataset, idx: int, rng: np.random.Generator) -> Dict[str, Any]:
    """``dataset.get_sample(idx, rng)``; a :class:`UserError` it raises (a corrupt image, a
    missing field) gets the dataset's name and the sample index in front of its message."""
    try:
        return dataset.get_sample(idx, rng)
    except UserError as err:
        err.args = (f'{type(dataset).__name__} sample {idx}: {err}',) + err.args[1:]
        raise


# A UserError raised inside GeneratorDataset reaches the main process as MindSpore's RuntimeError
# with threads and with worker processes alike (MindSpore 2.10): the type is lost and the message
# is buried in a printed call stack, so a tool would show a traceback for a corrupt image. A batch
# therefore returns such an error as an error row (the pickled error in one extra column, empty in
# every other row), and iter_from raises it in the main process. Rows come back in order in both
# worker modes, so the error surfaces at the batch that failed, and nothing depends on how
# MindSpore words its messages. Any other exception is a bug and keeps MindSpore's traceback.
_ERROR_COLUMN = '_user_error'
_NO_ERROR = np.zeros(0, np.uint8)


class _WorkerTraceback(Exception):
    """Where a user error was raised while loading a batch (``--debug`` shows it as the cause)."""

    def __str__(self) -> str:
        return '\n' + self.args[0]


def _error_row_column(err: UserError) -> np.ndarray:
    """``err``, its message and its traceback text, pickled into uint8 (picklable across worker
    processes; an error type that does not pickle still carries its message)."""
    try:
        pickled = pickle.dumps(err)
    except Exception:  # e.g. an argument that does not pickle
        pickled = None
    text = ''.join(traceback.format_exception(err))
    return np.frombuffer(pickle.dumps((str(err), text, pickled)), np.uint8)


def _raise_error_row(column: np.ndarray) -> None:
    message, text, pickled = pickle.loads(column.tobytes())
    try:
        err = pickle.loads(pickled)
    except Exception:  # None, or a class this process cannot import
        err = DataError(message)
    raise err from _WorkerTraceback(text)


class _EpochBatches:
    """What GeneratorDataset iterates for one epoch: whole batches in sampler order, one row each.

    Stacking in the worker (one row per batch, not per sample) matters: with per-sample rows and
    ``.batch()``, MindSpore's per-row cost in the main process capped two workers at ~300
    samples/s, below one worker (~490) on 2 cores; batch rows gave ~600 (docs/benchmarks.md).
    """

    def __init__(self, dataset, keys: List[str], indices: np.ndarray, is_pad: np.ndarray,
                 seed: int, epoch: int, batch_size: int, drop_last: bool, start: int = 0):
        self.dataset, self.keys = dataset, keys
        self.indices, self.is_pad = indices, is_pad
        self.seed, self.epoch = seed, epoch
        self.batch_size, self.drop_last = batch_size, drop_last
        self.start = start  # batches of the epoch to skip (a run resumed mid-epoch)

    def __len__(self) -> int:
        n = len(self.indices)
        return max(0, (n // self.batch_size if self.drop_last else -(-n // self.batch_size))
                   - self.start)

    def sample(self, i: int) -> tuple:
        idx = int(self.indices[i])
        rng = np.random.default_rng([self.seed, self.epoch, idx])
        sample = load_sample(self.dataset, idx, rng)
        return tuple(np.asarray(sample[k]) for k in self.keys) + (
            np.int64(idx), np.bool_(self.is_pad[i]))

    def __getitem__(self, b: int) -> tuple:
        try:
            return self.batch(b) + (_NO_ERROR,)
        except UserError as err:
            return (_NO_ERROR,) * (len(self.keys) + 2) + (_error_row_column(err),)

    def batch(self, b: int) -> tuple:
        start = (b + self.start) * self.batch_size
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
            sample = load_sample(self.dataset, 0, np.random.default_rng(0))
            self._keys = sorted(sample)
        return self._keys

    def __len__(self) -> int:
        n = len(self.sampler.indices(0)[0])
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Dict[str, np.ndarray]]:
        return self.iter_from(0)

    def iter_from(self, start: int) -> Iterator[Dict[str, np.ndarray]]:
        """The batches of the current epoch from batch ``start`` on (earlier ones not loaded)."""
        import mindspore.dataset as ds
        indices, is_pad = self.sampler.indices(self.epoch)
        batches = _EpochBatches(self.dataset, self.keys, indices, is_pad, self.sampler.seed,
                                self.epoch, self.batch_size, self.drop_last, start)
        if len(batches) == 0:
            return
        columns = self.keys + ['sample_idx', 'is_pad', _ERROR_COLUMN]
        multiprocess = self.num_workers > 1
        gen = ds.GeneratorDataset(batches, column_names=columns, shuffle=False,
                                  num_parallel_workers=max(1, self.num_workers),
                                  python_multiprocessing=multiprocess)
        iterator = gen.create_dict_iterator(num_epochs=1, output_numpy=True)
        try:
            for batch in iterator:
                error = batch.pop(_ERROR_COLUMN)
                if error.size:
                    _raise_error_row(error)
                yield batch
        finally:
            # Stopped now, not when the garbage collector gets to it: an iterator kept in a cycle
            # by an error's traceback and collected inside a later loader's forked worker
            # process aborted that process, and with it the run.
            iterator.stop()


def build_dataloader(cfg: dict, seed: int, rank: int = 0, world_size: int = 1,
                     default_shuffle: bool = True, where: str = 'dataloader') -> DataLoader:
    """``dict(dataset=dict(type=...), batch_size=, num_workers=, shuffle=, drop_last=)``."""
    from .registries import DATASETS
    cfg = dict(cfg)
    check_keys(where, cfg, ('dataset', 'batch_size', 'num_workers', 'shuffle', 'drop_last'))
    if 'dataset' not in cfg or 'batch_size' not in cfg:
        raise ConfigError(f'{where} needs "dataset" and "batch_size"')
    for name in ('batch_size', 'num_workers'):
        if name in cfg:
            check_number(f'{where}.{name}', cfg[name])
    dataset = cfg['dataset']
    if isinstance(dataset, dict):
        dataset = DATASETS.build(dataset)
    return DataLoader(dataset, batch_size=int(cfg['batch_size']),
                      shuffle=cfg.get('shuffle', default_shuffle),
                      num_workers=cfg.get('num_workers', 2), drop_last=cfg.get('drop_last', False),
                      seed=seed, rank=rank, world_size=world_size)
