"""Object keypoint similarity (the reference's OKS for NMS) and OKS-NMS, vectorised over images.

OKS as in the reference code (reference doc, "COCO evaluation"): var = (2 sigma)^2,
e = d^2 / var / ((area_a + area_b) / 2 + eps) / 2, OKS = mean over ALL joints of exp(-e)
(no visibility test), eps = np.spacing(1), area = w * h of the enlarged box in pixels.
"""
from __future__ import annotations

import numpy as np

_EPS = np.spacing(1)
_MAX_CHUNK_ELEMENTS = 4_000_000  # images * M * M * K per pairwise block (~ 100 MB of float64 temps)


def oks_iou(kpts_a: np.ndarray, kpts_b: np.ndarray, area_a, area_b,
            sigmas: np.ndarray) -> np.ndarray:
    """OKS between poses, broadcasting over leading axes.

    Args:
        kpts_a: (..., K, 2) keypoints; kpts_b: (..., K, 2) keypoints (broadcast against kpts_a).
        area_a, area_b: areas broadcastable to the leading shape.
        sigmas: (K,) per-joint falloffs.

    Returns:
        (...) OKS values in [0, 1].
    """
    var = (2.0 * np.asarray(sigmas, dtype=np.float64))**2
    kpts_a, kpts_b = np.asarray(kpts_a, np.float64), np.asarray(kpts_b, np.float64)
    dx = kpts_a[..., 0] - kpts_b[..., 0]
    dy = kpts_a[..., 1] - kpts_b[..., 1]
    d2 = dx * dx + dy * dy
    mean_area = (np.asarray(area_a, np.float64) + np.asarray(area_b, np.float64)) / 2.0 + _EPS
    d2 /= var
    d2 /= mean_area[..., None] * 2.0
    return np.exp(-d2, out=d2).mean(axis=-1)


def _greedy_keep(oks: np.ndarray, valid: np.ndarray, thr: float) -> np.ndarray:
    """Greedy NMS on score-sorted, padded blocks.

    Args:
        oks: (B, M, M) pairwise OKS within each image, rows/columns in descending score order.
        valid: (B, M) bool, False for padding.

    Returns:
        (B, M) bool: kept poses.
    """
    num = oks.shape[1]
    suppressed = ~valid
    keep = np.zeros_like(valid)
    later = np.triu(np.ones((num, num), dtype=bool), k=1)
    for i in range(num):
        keep[:, i] = ~suppressed[:, i]
        suppressed |= keep[:, i:i + 1] & (oks[:, i, :] > thr) & later[i]
    return keep


def oks_nms(kpts: np.ndarray,
            scores: np.ndarray,
            areas: np.ndarray,
            img_ids: np.ndarray,
            sigmas: np.ndarray,
            thr: float = 0.9) -> np.ndarray:
    """OKS-NMS per image: in descending score order keep a pose unless its OKS with an already kept
    pose of the same image is > ``thr``.

    Ties in score keep the input order (the earlier pose ranks first).

    Args:
        kpts: (N, K, 2) keypoints; scores: (N,); areas: (N,) box areas in pixels;
        img_ids: (N,) image ids (NMS runs within each image); sigmas: (K,).

    Returns:
        (N,) bool mask of kept poses.
    """
    kpts = np.asarray(kpts, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    areas = np.asarray(areas, dtype=np.float64)
    img_ids = np.asarray(img_ids)
    n, num_kpt = kpts.shape[0], kpts.shape[1]
    keep = np.zeros(n, dtype=bool)
    if n == 0:
        return keep
    # Sort by image, then descending score, ties by input index (lexsort is stable).
    order = np.lexsort((np.arange(n), -scores, img_ids))
    sorted_ids = img_ids[order]
    starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
    counts = np.diff(np.r_[starts, n])
    # Images with the same person count form one block (no padding waste; real data has few counts).
    for size in np.unique(counts):
        imgs = np.flatnonzero(counts == size)
        chunk = max(1, _MAX_CHUNK_ELEMENTS // int(size * size * num_kpt))
        for c0 in range(0, len(imgs), chunk):
            sel = imgs[c0:c0 + chunk]
            idx = order[starts[sel, None] + np.arange(size)[None, :]]  # (B, M) original indices
            valid = np.ones(idx.shape, dtype=bool)
            block_k, block_a = kpts[idx], areas[idx]
            oks = oks_iou(block_k[:, :, None], block_k[:, None, :], block_a[:, :, None],
                          block_a[:, None, :], sigmas)  # (B, M, M)
            kept = _greedy_keep(oks, valid, thr)
            keep[idx[kept]] = True
    return keep


SOFT_NMS_METHODS = ('gaussian', 'linear')


def soft_oks_nms(kpts: np.ndarray,
                 scores: np.ndarray,
                 areas: np.ndarray,
                 img_ids: np.ndarray,
                 sigmas: np.ndarray,
                 thr: float = 0.9,
                 max_dets: int = 20,
                 method: str = 'gaussian') -> np.ndarray:
    """Soft-OKS-NMS per image (Bodla et al.'s Soft-NMS with OKS for IoU, as MMPose's
    ``soft_oks_nms``): repeatedly keep the highest-scored remaining pose, then decay the scores
    of the others by their OKS o with it, s *= exp(-o^2 / thr) (``'gaussian'``) or
    s *= 1 - o where o >= thr (``'linear'``), and re-rank; stop after ``max_dets`` poses.

    The decayed scores only rank the poses: kept poses keep their original scores (MMPose does
    the same). Ties keep the input order (MMPose's reversed ``argsort`` breaks them arbitrarily).

    Args:
        kpts: (N, K, 2); scores, areas, img_ids: (N,); sigmas: (K,).
        thr: the decay parameter (MMPose passes its ``nms_thr``, 0.9).
        max_dets: poses kept per image at most.
        method: ``'gaussian'`` or ``'linear'``.

    Returns:
        (N,) bool mask of kept poses.
    """
    if method not in SOFT_NMS_METHODS:
        raise ValueError(f'soft_oks_nms: method must be one of {SOFT_NMS_METHODS}, got {method!r}')
    kpts = np.asarray(kpts, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    areas = np.asarray(areas, dtype=np.float64)
    img_ids = np.asarray(img_ids)
    keep = np.zeros(len(scores), dtype=bool)
    for img in np.unique(img_ids):
        idx = np.flatnonzero(img_ids == img)
        # all pairwise OKS of the image at once; the loop below only gathers rows of it
        oks = oks_iou(kpts[idx][:, None], kpts[idx][None, :], areas[idx][:, None],
                      areas[idx][None, :], sigmas)
        live = np.ones(len(idx), dtype=bool)
        decayed = scores[idx].copy()
        for _ in range(min(max_dets, len(idx))):
            candidates = np.flatnonzero(live)
            best = candidates[np.argmax(decayed[candidates])]  # first of equal maxima
            keep[idx[best]] = True
            live[best] = False
            overlap = oks[best, live]
            if method == 'gaussian':
                decayed[live] *= np.exp(-overlap ** 2 / thr)
            else:
                decayed[live] *= np.where(overlap >= thr, 1 - overlap, 1.0)
    return keep
