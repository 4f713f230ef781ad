"""Heatmap decoding steps shared by the heatmap codecs, vectorised over (N, K).

- :func:`get_heatmap_maximum`: the argmax and its value (SimpleBaseline's ``get_max_preds``).
- :func:`refine_quarter_pixel`: SimpleBaseline's quarter-pixel step toward the higher neighbour.
- :func:`gaussian_blur` + :func:`refine_dark`: DARK (Zhang et al., "Distribution-Aware Coordinate
  Representation for Human Pose Estimation", CVPR 2020): modulate the heatmap with a Gaussian
  kernel, rescale it to its old maximum, take the log, then one Newton step
  ``x* = m - H^-1 g`` of the second-order Taylor expansion at the argmax m.
- :func:`refine_dark_udp`: the same Newton step as written in UDP's code (Huang et al., "The Devil
  is in the Details: Delving into Unbiased Data Processing for Human Pose Estimation", CVPR 2020),
  with one-pixel central differences on an edge-padded log heatmap clipped to [1e-3, 50].

Coordinates are heatmap pixels (x, y). A heatmap whose maximum is not positive decodes to (0, 0)
with its (non-positive) score and is never refined (MMPose marks it -1 and still refines the
DARK-UDP step from wrapped-around neighbours; we leave it alone).
"""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

QUARTER_PIXEL_MODES = ('official', 'mmpose')


def get_heatmap_maximum(heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Argmax per heatmap (first maximum wins); a non-positive maximum gives (0, 0).

    Args:
        heatmaps: (N, K, H, W).

    Returns:
        coords (N, K, 2) float32 integer-valued (x, y) heatmap pixels, scores (N, K) float32.
    """
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, h * w)
    idx = flat.argmax(axis=-1)
    scores = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0].astype(np.float32)
    found = scores > 0
    coords = np.stack([np.where(found, idx % w, 0), np.where(found, idx // w, 0)], axis=-1)
    return coords.astype(np.float32), scores


def refine_quarter_pixel(heatmaps: np.ndarray, coords: np.ndarray,
                         mode: str = 'official') -> np.ndarray:
    """SimpleBaseline's refinement: move 0.25 px toward the higher neighbour on each axis.

    With px = floor(x + 0.5), py = floor(y + 0.5): ``'official'`` moves both axes only when
    1 < px < W-1 and 1 < py < H-1 (strict; reference doc "Decoding"); ``'mmpose'`` tests each axis
    on its own (x needs 1 < px < W-1 and 0 < py < H; y needs 1 < py < H-1 and 0 < px < W).

    Args:
        heatmaps: (N, K, H, W).
        coords: (N, K, 2) heatmap pixels (the argmax).
        mode: ``'official'`` or ``'mmpose'``.

    Returns:
        (N, K, 2) float32 refined coordinates (a new array).
    """
    if mode not in QUARTER_PIXEL_MODES:
        raise ValueError(f'refine_quarter_pixel: mode must be one of {QUARTER_PIXEL_MODES}, '
                         f'got {mode!r}')
    n, k, h, w = heatmaps.shape
    hm = heatmaps.reshape(n * k, h, w)
    x = np.floor(coords[..., 0].ravel() + 0.5).astype(np.int64)
    y = np.floor(coords[..., 1].ravel() + 0.5).astype(np.int64)
    if mode == 'official':
        ok_x = ok_y = (x > 1) & (x < w - 1) & (y > 1) & (y < h - 1)
    else:
        ok_x = (x > 1) & (x < w - 1) & (y > 0) & (y < h)
        ok_y = (y > 1) & (y < h - 1) & (x > 0) & (x < w)
    rows = np.arange(n * k)
    xc, yc = np.clip(x, 1, max(w - 2, 1)), np.clip(y, 1, max(h - 2, 1))
    xi, yi = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
    dx = hm[rows, yi, np.minimum(xc + 1, w - 1)] - hm[rows, yi, xc - 1] if w >= 3 else 0 * x
    dy = hm[rows, np.minimum(yc + 1, h - 1), xi] - hm[rows, yc - 1, xi] if h >= 3 else 0 * y
    shift = np.stack([np.where(ok_x, np.sign(dx), 0), np.where(ok_y, np.sign(dy), 0)], axis=-1)
    return (coords + (shift * 0.25).reshape(n, k, 2)).astype(np.float32)


def gaussian_blur(heatmaps: np.ndarray, kernel_size: int = 11) -> np.ndarray:
    """DARK's distribution modulation: each heatmap convolved with a ``kernel_size`` Gaussian
    (sigma from OpenCV's rule for sigma 0: 0.3 * ((k - 1) / 2 - 1) + 0.8) with zero padding,
    then rescaled so that its maximum equals the original maximum.

    Equivalent to DARK's per-map ``cv2.GaussianBlur`` on a zero-padded copy: the padding is as
    wide as the kernel radius, so OpenCV's reflected border never reaches the kept region.

    Args:
        heatmaps: (N, K, H, W).
        kernel_size: odd kernel size.

    Returns:
        (N, K, H, W) float32.
    """
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f'gaussian_blur: kernel_size must be odd and >= 1, got {kernel_size}')
    hm = np.asarray(heatmaps, np.float32)
    n, k, h, w = hm.shape
    border = (kernel_size - 1) // 2
    kernel = cv2.getGaussianKernel(kernel_size, 0).ravel().astype(np.float32)
    padded = np.zeros((n, k, h + 2 * border, w + 2 * border), np.float32)
    padded[..., border:border + h, border:border + w] = hm
    rows = sum(kernel[i] * padded[..., i:i + h, :] for i in range(kernel_size))
    out = sum(kernel[i] * rows[..., i:i + w] for i in range(kernel_size))
    origin_max = hm.reshape(n, k, -1).max(axis=-1)
    blurred_max = out.reshape(n, k, -1).max(axis=-1)
    nonzero = blurred_max != 0  # an all-zero map stays zero (DARK would divide 0 by 0)
    ratio = np.where(nonzero, origin_max / np.where(nonzero, blurred_max, 1), 1)
    return (out * ratio[..., None, None]).astype(np.float32)


def refine_dark(heatmaps: np.ndarray, coords: np.ndarray, scores: np.ndarray,
                blur_kernel_size: int = 11) -> np.ndarray:
    """DARK's Taylor refinement at the argmax.

    On L = log(max(blur(heatmap), 1e-10)), at the integer argmax (x, y) with 1 < x < W-2 and
    1 < y < H-2 (DARK's bounds): g = (Lx, Ly) with central differences over 2 px / 2,
    Hessian terms over 4 px / 4 (dxx = (L[y, x+2] - 2 L[y, x] + L[y, x-2]) / 4, dxy from the four
    diagonal neighbours / 4); when det(H) != 0, x* = (x, y) - H^-1 g.

    Args:
        heatmaps: (N, K, H, W) network output (unblurred).
        coords: (N, K, 2) integer argmax (``get_heatmap_maximum``).
        scores: (N, K) the maxima; joints with a non-positive one are not refined.
        blur_kernel_size: the modulation kernel (DARK uses 11 for 64x48 heatmaps).

    Returns:
        (N, K, 2) float32 refined coordinates (a new array).
    """
    n, k, h, w = heatmaps.shape
    logs = np.log(np.maximum(gaussian_blur(heatmaps, blur_kernel_size), 1e-10))
    logs = logs.reshape(n * k, h, w).astype(np.float64)
    x = coords[..., 0].ravel().astype(np.int64)
    y = coords[..., 1].ravel().astype(np.int64)
    ok = (x > 1) & (x < w - 2) & (y > 1) & (y < h - 2) & (scores.ravel() > 0)
    xs, ys = np.clip(x, 2, max(w - 3, 2)), np.clip(y, 2, max(h - 3, 2))
    rows = np.arange(n * k)

    def at(dx: int, dy: int) -> np.ndarray:
        return logs[rows, np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)]

    centre = at(0, 0)
    gx = 0.5 * (at(1, 0) - at(-1, 0))
    gy = 0.5 * (at(0, 1) - at(0, -1))
    dxx = 0.25 * (at(2, 0) - 2 * centre + at(-2, 0))
    dyy = 0.25 * (at(0, 2) - 2 * centre + at(0, -2))
    dxy = 0.25 * (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1))
    det = dxx * dyy - dxy * dxy
    ok &= det != 0
    safe = np.where(ok, det, 1.0)
    off_x = -(dyy * gx - dxy * gy) / safe
    off_y = -(dxx * gy - dxy * gx) / safe
    offset = np.stack([np.where(ok, off_x, 0), np.where(ok, off_y, 0)], axis=-1)
    return (coords + offset.reshape(n, k, 2)).astype(np.float32)


def refine_dark_udp(heatmaps: np.ndarray, coords: np.ndarray, scores: np.ndarray,
                    blur_kernel_size: int = 11) -> np.ndarray:
    """UDP's Newton step at the argmax (its ``post_dark_udp``).

    L = log(clip(blur(heatmap), 1e-3, 50)) padded by one edge-replicated pixel; at the argmax:
    g = ((L[x+1] - L[x-1]) / 2, (L[y+1] - L[y-1]) / 2), dxx = L[x+1] - 2 L + L[x-1] (dyy alike),
    dxy = (L[x+1, y+1] - L[x+1] - L[y+1] + 2 L - L[x-1] - L[y-1] + L[x-1, y-1]) / 2;
    x* = (x, y) - (H + eps I)^-1 g with eps the float32 machine epsilon. No bounds test: the
    padding supplies the neighbours at the border.

    Args / Returns: as :func:`refine_dark`.
    """
    n, k, h, w = heatmaps.shape
    logs = np.log(np.clip(gaussian_blur(heatmaps, blur_kernel_size), 1e-3, 50.0))
    logs = np.pad(logs.reshape(n * k, h, w), ((0, 0), (1, 1), (1, 1)), mode='edge')
    logs = logs.astype(np.float64)
    x = coords[..., 0].ravel().astype(np.int64) + 1
    y = coords[..., 1].ravel().astype(np.int64) + 1
    rows = np.arange(n * k)

    def at(dx: int, dy: int) -> np.ndarray:
        return logs[rows, y + dy, x + dx]

    i_ = at(0, 0)
    ix1, ix1_ = at(1, 0), at(-1, 0)
    iy1, iy1_ = at(0, 1), at(0, -1)
    gx = 0.5 * (ix1 - ix1_)
    gy = 0.5 * (iy1 - iy1_)
    dxx = ix1 - 2 * i_ + ix1_
    dyy = iy1 - 2 * i_ + iy1_
    dxy = 0.5 * (at(1, 1) - ix1 - iy1 + 2 * i_ - ix1_ - iy1_ + at(-1, -1))
    eps = float(np.finfo(np.float32).eps)
    a, d = dxx + eps, dyy + eps
    det = a * d - dxy * dxy
    ok = (scores.ravel() > 0) & (det != 0)
    safe = np.where(ok, det, 1.0)
    off_x = -(d * gx - dxy * gy) / safe
    off_y = -(a * gy - dxy * gx) / safe
    offset = np.stack([np.where(ok, off_x, 0), np.where(ok, off_y, 0)], axis=-1)
    return (coords + offset.reshape(n, k, 2)).astype(np.float32)
