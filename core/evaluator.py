"""Runs metrics over predictions, across ranks: every rank processes its shard, rank 0 computes.

The evaluator is the only writer of ``metrics.json`` (the merged values of all its metrics).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Sequence, Union

import numpy as np

from . import dist
from .errors import ConfigError
from .fileio import atomic_write_text
from .metric import BaseMetric
from .registries import METRICS


class Evaluator:
    """Holds one or more metrics (configs with ``type`` or objects).

    Padding rows (``batch['is_pad']``) are dropped before the metrics see a batch, so each sample
    counts once however the data was sharded.
    """

    def __init__(self, metrics: Union[dict, Sequence[dict]]):
        if isinstance(metrics, dict) or not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        self.metrics = [METRICS.build(dict(m)) if isinstance(m, dict) else m for m in metrics]
        for m in self.metrics:
            if not isinstance(m, BaseMetric):
                raise ConfigError(f'evaluator: {type(m).__name__} is not a sbcore.metric.BaseMetric '
                                  f'(subclass it: process(data_batch, predictions), '
                                  f'compute_metrics(results))')

    def setup(self, dataset_meta: dict, work_dir: str) -> None:
        for m in self.metrics:
            m.dataset_meta = dataset_meta
            m.work_dir = work_dir
            m.results = []

    def process(self, batch: Dict[str, np.ndarray], predictions: Dict[str, np.ndarray]) -> None:
        keep = ~batch['is_pad'].astype(bool) if 'is_pad' in batch else None
        if keep is not None and not keep.all():
            batch = {k: v[keep] for k, v in batch.items()}
            predictions = {k: v[keep] for k, v in predictions.items()}
            if not keep.any():
                return
        for m in self.metrics:
            m.process(batch, predictions)

    def evaluate(self, work_dir: str) -> Dict[str, float]:
        """Gather results, compute on rank 0, share the metrics with every rank."""
        metrics: Dict[str, float] = {}
        for m in self.metrics:
            metrics.update(m.evaluate())
        if dist.is_main_process() and work_dir:
            atomic_write_text(Path(work_dir) / 'metrics.json', json.dumps(metrics, indent=2) + '\n')
        return metrics


def build_evaluator(evaluator: Any, cfg: Any) -> Evaluator:
    """An :class:`Evaluator` from itself, its metric config(s), or the key of those in ``cfg``
    (``'val_evaluator'``)."""
    if isinstance(evaluator, Evaluator):
        return evaluator
    if isinstance(evaluator, str):
        if not cfg.get(evaluator):
            raise ConfigError(f'config: {evaluator} is required for this run')
        evaluator = cfg.get(evaluator)
    return Evaluator(evaluator.to_dict() if hasattr(evaluator, 'to_dict') else evaluator)


def format_metrics(metrics: Dict[str, float]) -> str:
    """A two-column text table of metric names and values."""
    if not metrics:
        return '(no metrics)'
    width = max(len(k) for k in metrics)
    rule = '-' * (width + 12)
    rows = [f'{k:<{width}}  {v:>8.4f}' for k, v in metrics.items()]
    return '\n'.join([rule, *rows, rule])
