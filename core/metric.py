"""``BaseMetric``: the contract of an evaluation metric (MMEngine's name).

A metric sees the batches and predictions of its rank (``process``), and computes its values once,
on rank 0, from the records of every rank (``compute_metrics``). The evaluator gathers the records
and is the only writer of ``metrics.json``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from . import dist


class BaseMetric:
    """Subclass and implement :meth:`process` and :meth:`compute_metrics`.

    Attributes set by the evaluator before a run:
        dataset_meta: the dataset's ``metainfo`` (e.g. names, flip pairs, sigmas).
        work_dir: the run's work directory, for result files of the metric's own (never
            ``metrics.json``); None when nothing may be written.
    """

    def __init__(self) -> None:
        self.results: List[Any] = []
        self.dataset_meta: Dict[str, Any] = {}
        self.work_dir: Optional[str] = None

    def process(self, data_batch: Dict[str, Any], predictions: Dict[str, Any]) -> None:
        """Append picklable per-sample records to ``self.results``. ``data_batch`` and
        ``predictions`` are dicts of arrays with a leading batch axis (padding rows removed)."""
        raise NotImplementedError

    def compute_metrics(self, results: List[Any]) -> Dict[str, float]:
        """The metric values from the records of all ranks (called on rank 0 only)."""
        raise NotImplementedError

    def evaluate(self) -> Dict[str, float]:
        """Gather every rank's records, compute on rank 0, give the values to every rank."""
        gathered = dist.all_gather_object(self.results)
        metrics: Dict[str, float] = {}
        if dist.is_main_process():
            merged = [r for part in gathered for r in part]
            metrics = {k: float(v) for k, v in self.compute_metrics(merged).items()}
        self.results = []
        return dist.broadcast_object(metrics)
