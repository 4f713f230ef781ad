"""Data pipelines and the data loader (MindSpore GeneratorDataset with a seeded, sharded sampler)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Sequence, Union

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
                raise TypeError(f'pipeline step {i} must be a dict with "type" or a callable, got {t!r}')
            self.transforms.append(t)

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        for t in self.transforms:
            results = t(results)
        return results

    def __repr__(self) -> str:
        return 'Compose(' + ', '.join(type(t).__name__ for t in self.transforms) + ')'
