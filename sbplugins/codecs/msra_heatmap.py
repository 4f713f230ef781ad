"""The MSRA heatmap codec of SimpleBaseline: Gaussian targets in, argmax + quarter-pixel out.

Encoding follows the official ``generate_target`` rule for rule (reference doc "Heatmap target"),
vectorised over instances and joints: the 2-D window is the outer product of a 1-D row and a 1-D
column (the Gaussian is separable), so one instance of 17 joints costs a few microseconds instead
of a Python loop per joint.

``unbiased=True`` is DARK (Zhang et al., CVPR 2020), MMPose's ``MSRAHeatmap(unbiased=True)``: the
target Gaussian sits at the unquantised position keypoint / stride over the whole heatmap, and
decoding modulates the heatmap and takes a Taylor step in log space
(``sbplugins.codecs.refinement.refine_dark``). ``refine='dark'`` keeps the official encoding and
decodes with DARK (for models trained with the official target).
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from sbcore.errors import ConfigError

from .base import BaseKeypointCodec
from .refinement import (QUARTER_PIXEL_MODES, get_heatmap_maximum, refine_dark,
                         refine_quarter_pixel)

REFINE_MODES = QUARTER_PIXEL_MODES + ('dark', 'none')


class MSRAHeatmap(BaseKeypointCodec):
    """Unnormalised Gaussian heatmaps at ``heatmap_size`` for keypoints in ``input_size`` pixels.

    Args:
        input_size: (w, h) of the network input crop.
        heatmap_size: (w, h) of the heatmaps (stride = input_size / heatmap_size per axis).
        sigma: Gaussian sigma in heatmap pixels (2 for 64x48, 3 for 96x72).
        unbiased: DARK's unbiased encoding and DARK decoding (``refine`` is then ``'dark'``).
        blur_kernel_size: DARK's modulation kernel (11 for 64x48 heatmaps, as DARK and MMPose).
        refine: sub-pixel step of the decoded argmax: ``'official'`` quarter pixel (only when
            1 < x < W-1 and 1 < y < H-1, both shifts together), ``'mmpose'`` quarter pixel (x and
            y bounds tested independently), ``'dark'`` (DARK decoding of the official target)
            or ``'none'``.
    """

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 unbiased: bool = False, blur_kernel_size: int = 11,
                 refine: str = 'official'):
        refine = 'none' if refine is None else refine  # --cfg-options reads none as None
        if refine not in REFINE_MODES:
            raise ConfigError(f'MSRAHeatmap: refine must be one of {REFINE_MODES}, got {refine!r}')
        if blur_kernel_size < 1 or blur_kernel_size % 2 == 0:
            raise ConfigError(f'MSRAHeatmap: blur_kernel_size must be odd, got {blur_kernel_size}')
        input_size, heatmap_size = self._check_sizes('MSRAHeatmap', input_size, heatmap_size,
                                                     sigma)
        self.unbiased = bool(unbiased)
        self.blur_kernel_size = int(blur_kernel_size)
        if self.unbiased:
            refine = 'dark'
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        self.sigma = float(sigma)
        self.refine = refine
        # input pixels per heatmap pixel, (x, y)
        self.stride = np.array(self.input_size, np.float64) / np.array(self.heatmap_size, np.float64)

        # The official window: tmp = 3 sigma, ul = int(mu - tmp), br = int(mu + tmp + 1), filled
        # from g[i] = exp(-(i - c)^2 / (2 sigma^2)), i in arange(2 tmp + 1), c = (2 tmp + 1) // 2.
        self._radius = 3.0 * self.sigma
        size = 2 * self._radius + 1
        self._window_len = int(np.ceil(size))  # len(np.arange(0, size))
        i = np.arange(self._window_len, dtype=np.float32) - np.float32(size // 2)
        window = np.exp(-(i * i) / np.float32(2 * self.sigma ** 2))
        # One zero-padded lookup table per call site: profile[p] = table[p - ul + pad] reads the
        # window where 0 <= p - ul < len and zeros elsewhere, so a profile is one gather.
        self._pad = max(self.heatmap_size) + 1
        self._table = np.zeros(2 * self._pad + self._window_len, np.float32)
        self._table[self._pad:self._pad + self._window_len] = window
        # with a non-integer 3*sigma, br - ul can be one less than the window length
        self._ragged = float(self._radius) != int(self._radius)

    def __repr__(self) -> str:
        return (f'MSRAHeatmap(input_size={self.input_size}, heatmap_size={self.heatmap_size}, '
                f'sigma={self.sigma}, unbiased={self.unbiased}, refine={self.refine!r})')

    # encode ------------------------------------------------------------------------------------
    def _axis_profile(self, ul: np.ndarray, br: np.ndarray, length: int) -> np.ndarray:
        """(N, K) window starts/ends along one axis -> (N, K, length) float32 1-D Gaussian
        profiles, zero outside [ul, br) and the window; ``ul = length`` gives all zeros."""
        start = np.clip(ul, -self._window_len, length).astype(np.int64)
        index = np.arange(self._pad, self._pad + length) - start[..., None]
        profile = self._table[index]
        if self._ragged:
            profile[index - self._pad >= (br - ul)[..., None]] = 0
        return profile

    def encode(self, keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """Keypoints in input-crop pixels -> heatmaps and per-keypoint weights (arguments as
        ``BaseKeypointCodec.encode``).

        Returns:
            dict(heatmaps=(K, H, W) float32, the maximum over instances;
                 keypoint_weights=(N, K) float32: visibility (0/1), 0 where the window lies fully
                 outside the heatmap (official: ul >= size or br < 0 with the rounded centre;
                 br == 0 keeps weight 1 and draws nothing, the official quirk; unbiased: the same
                 test on the unrounded centre, mu - 3 sigma >= size or mu + 3 sigma + 1 < 0)).
        """
        keypoints, visible = self._check_keypoints('MSRAHeatmap', keypoints, keypoints_visible)
        if self.unbiased:
            return self._encode_unbiased(keypoints, visible)
        n, k = keypoints.shape[:2]
        w, h = self.heatmap_size
        # int(x / stride + 0.5): truncation toward zero, not floor (reference doc quirk)
        mu = np.trunc(keypoints / self.stride + 0.5)
        ul = np.trunc(mu - self._radius)
        br = np.trunc(mu + self._radius + 1)
        outside = ((ul >= self.heatmap_size) | (br < 0)).any(axis=-1)
        weights = ((visible > 0) & ~outside).astype(np.float32)

        # joints not drawn (weight <= 0.5) get an x window starting past the edge: zero profile
        ul_x = np.where(weights > 0.5, ul[..., 0], w)
        gx = self._axis_profile(ul_x, br[..., 0], w)  # (N, K, W)
        gy = self._axis_profile(ul[..., 1], br[..., 1], h)  # (N, K, H)
        return dict(heatmaps=self._outer_max(gy, gx, k), keypoint_weights=weights)

    @staticmethod
    def _outer_max(gy: np.ndarray, gx: np.ndarray, k: int) -> np.ndarray:
        """(N, K, H) and (N, K, W) profiles -> (K, H, W) float32, the maximum over instances."""
        n, h, w = gy.shape[0], gy.shape[-1], gx.shape[-1]
        if n == 0:
            return np.zeros((k, h, w), np.float32)
        if n == 1:
            return np.einsum('ki,kj->kij', gy[0], gx[0]).astype(np.float32)
        return np.einsum('nki,nkj->nkij', gy, gx).max(axis=0).astype(np.float32)

    def _encode_unbiased(self, keypoints: np.ndarray,
                         visible: np.ndarray) -> Dict[str, np.ndarray]:
        """DARK: exp(-((x - mu_x)^2 + (y - mu_y)^2) / (2 sigma^2)) over the whole heatmap with
        mu = keypoint / stride unrounded (MMPose's ``generate_unbiased_gaussian_heatmaps``)."""
        k = keypoints.shape[1]
        w, h = self.heatmap_size
        mu = keypoints / self.stride
        outside = ((mu - self._radius >= self.heatmap_size) | (mu + self._radius + 1 < 0)).any(-1)
        weights = ((visible > 0) & ~outside).astype(np.float32)
        two_var = 2 * self.sigma ** 2
        gx = np.exp(-(np.arange(w) - mu[..., 0:1]) ** 2 / two_var)  # (N, K, W)
        gy = np.exp(-(np.arange(h) - mu[..., 1:2]) ** 2 / two_var)  # (N, K, H)
        gx = np.where(weights[..., None] > 0.5, gx, 0.0)
        return dict(heatmaps=self._outer_max(gy, gx, k), keypoint_weights=weights)

    # decode ------------------------------------------------------------------------------------
    def batch_decode(self, heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Heatmaps -> keypoints in input-crop pixels and scores (the heatmap maxima).

        Argmax with the first maximum winning; a non-positive maximum gives (0, 0); then the
        sub-pixel step of ``self.refine`` (quarter pixel, DARK or none); then heatmap -> input
        pixels by the stride. Shapes as ``BaseKeypointCodec.batch_decode``.
        """
        heatmaps = self._check_heatmaps('MSRAHeatmap', heatmaps)
        coords, scores = get_heatmap_maximum(heatmaps)
        if self.refine == 'dark':
            coords = refine_dark(heatmaps, coords, scores, self.blur_kernel_size)
        elif self.refine != 'none':
            coords = refine_quarter_pixel(heatmaps, coords, self.refine)
        keypoints = (coords * self.stride).astype(np.float32)
        return keypoints, scores
