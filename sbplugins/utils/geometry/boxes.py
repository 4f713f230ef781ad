"""Boxes: xywh boxes in image pixels, their center and scale, clipping, IoU, NMS, and the box of a
pose's joints (SimpleBaseline's conventions, reference doc, "Boxes, affine
transform").

A box's *scale* is its (aspect-fixed, padded) size in units of ``pixel_std`` = 200 pixels.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

PIXEL_STD = 200.0


def bbox_xywh_to_center_scale(bbox: np.ndarray, aspect_ratio: Optional[float],
                              padding: float = 1.25,
                              pixel_std: float = PIXEL_STD) -> Tuple[np.ndarray, np.ndarray]:
    """Boxes to centers and scales, the official ``_box2cs``.

    The box is grown (never shrunk) to ``aspect_ratio`` = w/h, divided by ``pixel_std`` (cast to
    float32, as the official code does) and multiplied by ``padding``.

    Args:
        bbox: (N, 4) or (4,) xywh boxes.
        aspect_ratio: target w/h (e.g. 192/256); ``None`` keeps the box's own aspect.
        padding: the official 1.25 enlargement.
        pixel_std: pixels per scale unit.

    Returns:
        center (N, 2) float32, scale (N, 2) float32 (one row less for a (4,) input: (2,), (2,)).
    """
    box = np.asarray(bbox, dtype=np.float64)
    if box.shape[-1] != 4:
        raise ValueError(f'bbox_xywh_to_center_scale: bbox must have shape (..., 4) xywh, '
                         f'got {box.shape}')
    x, y, w, h = (box[..., i] for i in range(4))
    center = np.stack([x + w * 0.5, y + h * 0.5], axis=-1).astype(np.float32)
    if aspect_ratio is not None:
        wider = w > aspect_ratio * h
        taller = w < aspect_ratio * h
        w, h = (np.where(taller, h * aspect_ratio, w), np.where(wider, w / aspect_ratio, h))
    scale = np.stack([w / pixel_std, h / pixel_std], axis=-1).astype(np.float32)
    return center, scale * np.float32(padding)


def fix_aspect_ratio(scale: np.ndarray, aspect_ratio: float, rtol: float = 1e-6) -> np.ndarray:
    """Grow (..., 2) scales to ``aspect_ratio`` = w/h; rows already at it (within ``rtol``) are kept
    bit-exact, so fixing twice (box->scale, then again before the warp) changes nothing."""
    scale = np.asarray(scale, dtype=np.float32)
    w, h = scale[..., 0], scale[..., 1]
    target_w = h * np.float32(aspect_ratio)
    off = np.abs(w - target_w) > rtol * np.maximum(np.abs(w), np.abs(target_w))
    new_w = np.where(off & (w < target_w), target_w, w)
    new_h = np.where(off & (w > target_w), w / np.float32(aspect_ratio), h)
    return np.stack([new_w, new_h], axis=-1).astype(np.float32)


def clip_bbox_xywh(bbox: np.ndarray, img_w: int, img_h: int,
                   area: Optional[float] = None) -> Optional[np.ndarray]:
    """The official ground-truth box clipping; ``None`` when the box is dropped.

    x1 = max(0, x), y1 = max(0, y), x2 = min(W-1, x1 + max(0, w-1)), y2 = min(H-1, y1 + max(0, h-1));
    kept when x2 >= x1 and y2 >= y1 and (if given) the annotation's ``area`` > 0 (the official
    rule tests the annotation's ``area`` field, not the box's).

    Args:
        bbox: (4,) xywh.
        img_w, img_h: image size in pixels.
        area: the annotation's ``area`` field, or None to skip that test.

    Returns:
        (4,) float64 xywh, or None.
    """
    x, y, w, h = (float(v) for v in np.asarray(bbox, dtype=np.float64).reshape(4))
    x1, y1 = max(0.0, x), max(0.0, y)
    x2 = min(img_w - 1.0, x1 + max(0.0, w - 1.0))
    y2 = min(img_h - 1.0, y1 + max(0.0, h - 1.0))
    if (area is not None and not area > 0) or x2 < x1 or y2 < y1:
        return None
    return np.array([x1, y1, x2 - x1, y2 - y1], dtype=np.float64)


def bbox_iou_xywh(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of xywh boxes.

    Args:
        boxes_a: (N, 4) xywh; boxes_b: (M, 4) xywh.

    Returns:
        (N, M) float64 IoU in [0, 1]; 0 where both boxes are empty.
    """
    a = np.asarray(boxes_a, np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, np.float64).reshape(-1, 4)
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (np.clip(a[:, 2], 0, None) * np.clip(a[:, 3], 0, None))[:, None] + \
        (np.clip(b[:, 2], 0, None) * np.clip(b[:, 3], 0, None))[None] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def nms_boxes(boxes: np.ndarray, scores: np.ndarray, iou_thr: float) -> np.ndarray:
    """Greedy box NMS: in descending score order keep a box unless its IoU with a kept box is
    > ``iou_thr`` (ties keep the input order).

    Args:
        boxes: (N, 4) xywh; scores: (N,).

    Returns:
        (N',) int64 indices of the kept boxes, highest score first.
    """
    scores = np.asarray(scores, np.float64).reshape(-1)
    order = np.argsort(-scores, kind='stable')
    iou = bbox_iou_xywh(boxes, boxes)
    suppressed = np.zeros(len(scores), bool)
    keep = []
    for i in order:
        if not suppressed[i]:
            keep.append(i)
            suppressed |= iou[i] > iou_thr
    return np.asarray(keep, np.int64)


def keypoints_bbox_xywh(keypoints: np.ndarray, valid: np.ndarray, enlarge: float = 0.0) -> np.ndarray:
    """The tight xywh box of the ``valid`` joints, each side grown by ``enlarge`` of its length
    (the paper's joint propagation: the box of the propagated joints enlarged by 15 %).

    Args:
        keypoints: (K, 2) image pixels; valid: (K,) bool.

    Returns:
        (4,) float32 xywh; zeros when no joint is valid.
    """
    pts = np.asarray(keypoints, np.float64).reshape(-1, 2)[np.asarray(valid, bool).reshape(-1)]
    if len(pts) == 0:
        return np.zeros(4, np.float32)
    lo, hi = pts.min(0), pts.max(0)
    size = hi - lo
    center = (lo + hi) / 2
    size = size * (1.0 + enlarge)
    return np.array([*(center - size / 2), *size], np.float32)
