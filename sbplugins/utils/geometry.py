"""Box, affine and flip geometry: the one place for this math in sbpose.

Conventions (SimpleBaseline, see docs/simplebaseline-reference.md "Boxes, affine transform"):

- Boxes are ``xywh`` in image pixels.
- A box's *scale* is its (aspect-fixed, padded) size in units of ``pixel_std`` = 200 pixels.
- The affine maps the box center to the crop center; only the scale's width ``s_w`` sets the zoom
  (the height is implied by the fixed aspect ratio).
- Horizontal flip maps ``x -> W - 1 - x`` (pixel centers, not edges).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import cv2
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


def _rotate(vec: np.ndarray, rot_rad: float) -> np.ndarray:
    sn, cs = np.sin(rot_rad), np.cos(rot_rad)
    return np.array([vec[0] * cs - vec[1] * sn, vec[0] * sn + vec[1] * cs])


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The point making a right angle at ``b`` with ``a`` (official ``get_3rd_point``)."""
    direct = a - b
    return b + np.array([-direct[1], direct[0]], dtype=np.float32)


def get_affine_transform(center: Sequence[float], scale: Sequence[float], rot: float,
                         output_size: Sequence[int], shift: Sequence[float] = (0., 0.),
                         inv: bool = False, pixel_std: float = PIXEL_STD) -> np.ndarray:
    """The official three-point affine from a box (center, scale) to a crop of ``output_size``.

    The box center (plus ``shift`` x box size) maps to the crop center; the box width
    ``scale[0] * pixel_std`` maps to the crop width; ``rot`` (degrees) rotates the source
    direction. Built from float32 points with ``cv2.getAffineTransform`` like the official code, so
    the matrix is bit-identical to it.

    Args:
        center: (2,) box center, image pixels.
        scale: (2,) box scale, units of ``pixel_std`` (only ``scale[0]`` is used).
        rot: rotation in degrees.
        output_size: (w, h) of the crop.
        shift: (2,) offset of the center in units of the box size.
        inv: return the crop -> image matrix instead.

    Returns:
        (2, 3) float64 matrix.
    """
    center = np.asarray(center, dtype=np.float32).reshape(2)
    scale_px = np.asarray(scale, dtype=np.float32).reshape(2) * pixel_std
    shift = np.asarray(shift, dtype=np.float32).reshape(2)
    dst_w, dst_h = float(output_size[0]), float(output_size[1])
    rot_rad = np.pi * rot / 180

    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0] = center + scale_px * shift
    src[1] = center + _rotate(np.array([0., scale_px[0] * -0.5]), rot_rad) + scale_px * shift
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = np.array([dst_w * 0.5, dst_h * 0.5]) + np.array([0., dst_w * -0.5], np.float32)
    src[2] = _third_point(src[0], src[1])
    dst[2] = _third_point(dst[0], dst[1])
    if inv:
        return cv2.getAffineTransform(dst, src)
    return cv2.getAffineTransform(src, dst)


def get_udp_affine_transform(center: Sequence[float], scale: Sequence[float], rot: float,
                             output_size: Sequence[int], inv: bool = False,
                             pixel_std: float = PIXEL_STD) -> np.ndarray:
    """UDP's unbiased affine (Huang et al., CVPR 2020, its ``get_warpmatrix``): sizes measured in
    pixel steps, ``size - 1``, so the box edges map exactly onto the first and last crop pixels.

    With s = ``scale * pixel_std`` (both axes), k_x = (W_out - 1) / s_w, k_y = (H_out - 1) / s_h:
    x' = k_x (cos r (x - c_x) - sin r (y - c_y) + s_w / 2),
    y' = k_y (sin r (x - c_x) + cos r (y - c_y) + s_h / 2).
    The box center maps to ((W_out - 1) / 2, (H_out - 1) / 2). The rotation turns the other way
    than the official :func:`get_affine_transform` does for the same ``rot`` (UDP's own sign;
    the augmentation's rotation draw is symmetric, so training is unaffected).

    Args:
        center: (2,) box center, image pixels.
        scale: (2,) box scale, units of ``pixel_std`` (both axes used).
        rot: rotation in degrees.
        output_size: (w, h) of the crop.
        inv: return the crop -> image matrix instead.

    Returns:
        (2, 3) float64 matrix.
    """
    cx, cy = (float(v) for v in np.asarray(center, dtype=np.float64).reshape(2))
    sw, sh = (float(v) * pixel_std for v in np.asarray(scale, dtype=np.float64).reshape(2))
    rad = np.deg2rad(rot)
    cs, sn = np.cos(rad), np.sin(rad)
    kx, ky = (output_size[0] - 1.0) / sw, (output_size[1] - 1.0) / sh
    mat = np.array([[cs * kx, -sn * kx, kx * (-cx * cs + cy * sn + 0.5 * sw)],
                    [sn * ky, cs * ky, ky * (-cx * sn - cy * cs + 0.5 * sh)]], dtype=np.float64)
    if inv:
        return cv2.invertAffineTransform(mat)
    return mat


def affine_points(points: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to (..., 2) points; computed in float64, returned in the points'
    floating dtype (float32 for integer input)."""
    pts = np.asarray(points)
    out_dtype = pts.dtype if np.issubdtype(pts.dtype, np.floating) else np.float32
    mat = np.asarray(mat, dtype=np.float64)
    out = pts.astype(np.float64) @ mat[:, :2].T + mat[:, 2]
    return out.astype(out_dtype)


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


def crop_to_image(keypoints: np.ndarray, center: np.ndarray, scale: np.ndarray,
                  input_size: Sequence[int], pixel_std: float = PIXEL_STD) -> np.ndarray:
    """Keypoints in input-crop pixels back to the image (official ``transform_preds`` at rot 0).

    p_img = center + (p_crop - input_size / 2) * (pixel_std * s_w / W_in); ``s_w`` is used for
    both axes, as the official code does (the scale's aspect is fixed to the crop's).

    Args:
        keypoints: (N, K, 2) input-crop pixels.
        center: (N, 2) image pixels.
        scale: (N, 2) units of ``pixel_std``.
        input_size: (w, h) of the crop.

    Returns:
        (N, K, 2) image pixels, float32.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64).reshape(-1, 1, 2)
    scale_w = np.asarray(scale, dtype=np.float64).reshape(-1, 1, 2)[..., :1]
    half = np.array([input_size[0], input_size[1]], dtype=np.float64) / 2
    out = center + (keypoints - half) * (pixel_std * scale_w / float(input_size[0]))
    return out.astype(np.float32)


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
