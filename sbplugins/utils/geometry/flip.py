"""Horizontal flip of keypoints and heatmaps (SimpleBaseline's conventions,
reference doc, "Boxes, affine transform"): ``x -> W - 1 - x`` (pixel centers, not
edges), then left/right joints swapped.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np


def flip_indices_from_pairs(num_keypoints: int, flip_pairs: Sequence[Sequence[int]]) -> List[int]:
    """``flip_indices[k]`` = the keypoint that ``k`` becomes under a horizontal flip."""
    indices = list(range(num_keypoints))
    for pair in flip_pairs:
        a, b = (int(v) for v in pair)
        if not (0 <= a < num_keypoints and 0 <= b < num_keypoints):
            raise ValueError(f'flip pair {tuple(pair)} out of range for {num_keypoints} keypoints')
        indices[a], indices[b] = b, a
    return indices


def _check_flip_indices(flip_indices: Sequence[int], num_keypoints: int) -> np.ndarray:
    idx = np.asarray(flip_indices, dtype=np.int64)
    if idx.shape != (num_keypoints,) or sorted(idx.tolist()) != list(range(num_keypoints)):
        raise ValueError(f'flip_indices must be a permutation of range({num_keypoints}), '
                         f'got {list(flip_indices)}')
    return idx


def flip_keypoints(keypoints: np.ndarray, keypoints_visible: np.ndarray, image_width: int,
                   flip_indices: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Mirror keypoints horizontally: x -> W - 1 - x, then swap left/right joints.

    Args:
        keypoints: (N, K, 2).
        keypoints_visible: (N, K).
        image_width: W of the image the keypoints live in.
        flip_indices: (K,) permutation (see :func:`flip_indices_from_pairs`).

    Returns:
        keypoints (N, K, 2), keypoints_visible (N, K): new arrays.
    """
    keypoints = np.asarray(keypoints)
    idx = _check_flip_indices(flip_indices, keypoints.shape[-2])
    flipped = keypoints[..., idx, :].copy()
    flipped[..., 0] = image_width - 1 - flipped[..., 0]
    return flipped, np.asarray(keypoints_visible)[..., idx].copy()


def flip_heatmaps(heatmaps: np.ndarray, flip_indices: Sequence[int],
                  shift: bool = True) -> np.ndarray:
    """Flip heatmaps of a flipped input back for the flip test.

    Reverses the width, swaps left/right channels and, with ``shift`` (the official default, worth
    ~2 AP: reference doc "Flip test"), moves everything one pixel right; column 0 keeps its value.

    Args:
        heatmaps: (N, K, H, W).
        flip_indices: (K,) permutation.

    Returns:
        (N, K, H, W), a new array.
    """
    heatmaps = np.asarray(heatmaps)
    idx = _check_flip_indices(flip_indices, heatmaps.shape[-3])
    out = heatmaps[..., idx, :, ::-1].copy()
    if shift:
        out[..., 1:] = out[..., :-1].copy()
    return out
