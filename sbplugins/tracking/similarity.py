"""Similarity between the poses of the current frame and the tracked ones: box IoU and OKS.

OKS here is the COCO keypoint similarity restricted to joints confident in both poses (the
paper drops joints scoring below 0.4): e_k = d_k^2 / ((2 sigma_k)^2 * area * 2), OKS = mean of
exp(-e_k) over joints valid in both, 0 when they share none; ``area`` is the area of the tracked
pose's box. With the tracked poses warped along the optical flow this is the paper's flow-based
pose similarity; unwarped, the plain OKS matcher of its ablation.
"""
from __future__ import annotations

import numpy as np

from sbplugins.utils.geometry.boxes import bbox_iou_xywh

__all__ = ['bbox_iou_xywh', 'masked_oks']


def masked_oks(kpts_a: np.ndarray, valid_a: np.ndarray, kpts_b: np.ndarray, valid_b: np.ndarray,
               area_b: np.ndarray, sigmas: np.ndarray) -> np.ndarray:
    """Pairwise OKS over the joints valid in both poses.

    Args:
        kpts_a: (N, K, 2) current poses; valid_a: (N, K) bool.
        kpts_b: (M, K, 2) tracked (possibly flow-warped) poses; valid_b: (M, K) bool.
        area_b: (M,) box areas of the tracked poses in pixels.
        sigmas: (K,) per-joint falloffs.

    Returns:
        (N, M) float64 in [0, 1].
    """
    a = np.asarray(kpts_a, np.float64).reshape(-1, 1, len(sigmas), 2)
    b = np.asarray(kpts_b, np.float64).reshape(1, -1, len(sigmas), 2)
    both = np.asarray(valid_a, bool).reshape(-1, 1, len(sigmas)) & \
        np.asarray(valid_b, bool).reshape(1, -1, len(sigmas))
    d2 = ((a - b) ** 2).sum(-1)
    var = (2.0 * np.asarray(sigmas, np.float64)) ** 2
    area = np.maximum(np.asarray(area_b, np.float64).reshape(1, -1, 1), 1.0)
    sim = np.exp(-d2 / var / area / 2.0) * both
    count = both.sum(-1)
    return np.where(count > 0, sim.sum(-1) / np.maximum(count, 1), 0.0)
