"""Greedy matching of current poses to tracks (the paper's choice over the Hungarian method)."""
from __future__ import annotations

from typing import List, Tuple

import numpy as np


def greedy_match(similarity: np.ndarray, threshold: float) -> List[Tuple[int, int]]:
    """Pairs (row, col) taken highest similarity first, each row and column at most once, only
    pairs with similarity > ``threshold``. Ties go to the earlier row, then the earlier column.

    Args:
        similarity: (N, M) current poses x tracks.

    Returns:
        The matched (row, col) pairs in the order they were taken.
    """
    sim = np.asarray(similarity, np.float64)
    if sim.size == 0:
        return []
    flat = np.argsort(-sim, axis=None, kind='stable')
    rows_used, cols_used, pairs = set(), set(), []
    for idx in flat:
        r, c = divmod(int(idx), sim.shape[1])
        if sim[r, c] <= threshold:
            break
        if r in rows_used or c in cols_used:
            continue
        rows_used.add(r)
        cols_used.add(c)
        pairs.append((r, c))
    return pairs
