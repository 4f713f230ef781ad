"""UDP heatmaps (Huang et al., "The Devil is in the Details: Delving into Unbiased Data Processing
for Human Pose Estimation", CVPR 2020): MMPose's ``UDPHeatmap`` with ``heatmap_type='gaussian'``.

Sizes are measured in pixel steps: the stride is (input - 1) / (heatmap - 1) per axis, so input
pixel 0 and input pixel W_in - 1 land exactly on heatmap pixels 0 and W_hm - 1 and a horizontal
flip maps heatmap pixel x to W_hm - 1 - x (no flip-test shift needed). Use it with
``TopdownAffine(use_udp=True)`` and ``test_cfg=dict(shift_heatmap=False)``.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from sbcore.errors import ConfigError

from .base import BaseKeypointCodec
from .refinement import get_heatmap_maximum, refine_dark_udp

UDP_REFINE_MODES = ('dark_udp', 'none')


class UDPHeatmap(BaseKeypointCodec):
    """Gaussian heatmaps centred at the unquantised keypoint, on UDP's pixel-step grid.

    Encoding (UDP's ``generate_target``, gaussian): mu = keypoint / stride, stride =
    (input_size - 1) / (heatmap_size - 1); the window is the official one around the rounded
    centre (ul = int(int(mu + 0.5) - 3 sigma), br = int(int(mu + 0.5) + 3 sigma + 1), weight 0 when
    ul >= size or br < 0); inside it g = exp(-((i - x0)^2 + (j - y0)^2) / (2 sigma^2)) with
    x0 = (2 * 3 sigma + 1) // 2 + mu_x - int(mu_x + 0.5) in window coordinates, i.e. centred at mu.

    Decoding: argmax, UDP's Newton step (``refine_dark_udp``), then
    keypoint = coord / (heatmap_size - 1) * input_size (MMPose's scaling: the estimator's crop ->
    image step, p_img = c + (p - input / 2) * s / input, then equals UDP's exact inverse
    c + coord * s / (heatmap_size - 1) - s / 2).

    Args:
        input_size: (w, h) of the network input crop.
        heatmap_size: (w, h) of the heatmaps.
        sigma: Gaussian sigma in heatmap pixels.
        blur_kernel_size: modulation kernel of the refinement (11 for 64x48 heatmaps).
        refine: ``'dark_udp'`` (UDP's default) or ``'none'`` (the plain argmax).
    """

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 blur_kernel_size: int = 11, refine: str = 'dark_udp'):
        refine = 'none' if refine is None else refine  # --cfg-options reads none as None
        if refine not in UDP_REFINE_MODES:
            raise ConfigError(f'UDPHeatmap: refine must be one of {UDP_REFINE_MODES}, '
                             f'got {refine!r}')
        if blur_kernel_size < 1 or blur_kernel_size % 2 == 0:
            raise ConfigError(f'UDPHeatmap: blur_kernel_size must be odd, got {blur_kernel_size}')
        self.input_size, self.heatmap_size = self._check_sizes('UDPHeatmap', input_size,
                                                               heatmap_size, sigma)
        if min(self.heatmap_size) < 2:
            raise ConfigError(f'UDPHeatmap: heatmap_size must be >= 2 per axis, '
                             f'got {self.heatmap_size}')
        self.sigma = float(sigma)
        self.blur_kernel_size = int(blur_kernel_size)
        self.refine = refine
        self.stride = ((np.array(self.input_size, np.float64) - 1) /
                       (np.array(self.heatmap_size, np.float64) - 1))
        self._radius = 3.0 * self.sigma
        self._window_len = int(np.ceil(2 * self._radius + 1))  # len(np.arange(0, 6 sigma + 1))

    def __repr__(self) -> str:
        return (f'UDPHeatmap(input_size={self.input_size}, heatmap_size={self.heatmap_size}, '
                f'sigma={self.sigma}, refine={self.refine!r})')

    def _axis_profile(self, mu: np.ndarray, length: int) -> Tuple[np.ndarray, np.ndarray]:
        """(N, K) unquantised centres on one axis -> (N, K, length) profiles and (N, K) bool
        'window fully outside' flags."""
        rounded = np.trunc(mu + 0.5)
        ul = np.trunc(rounded - self._radius)
        br = np.trunc(rounded + self._radius + 1)
        outside = (ul >= length) | (br < 0)
        centre = (2 * self._radius + 1) // 2 + mu - rounded  # window coordinates
        p = np.arange(length)
        g = p - ul[..., None]  # window index of heatmap pixel p
        inside = (g >= 0) & (g < self._window_len) & (p < br[..., None])
        profile = np.exp(-(g - centre[..., None]) ** 2 / (2 * self.sigma ** 2))
        return np.where(inside, profile, 0.0), outside

    def encode(self, keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """Keypoints (N, K, 2) input-crop pixels, visibility (N, K) -> ``heatmaps`` (K, H, W)
        float32 (maximum over instances) and ``keypoint_weights`` (N, K) float32."""
        keypoints, visible = self._check_keypoints('UDPHeatmap', keypoints, keypoints_visible)
        k = keypoints.shape[1]
        w, h = self.heatmap_size
        mu = keypoints / self.stride
        gx, out_x = self._axis_profile(mu[..., 0], w)
        gy, out_y = self._axis_profile(mu[..., 1], h)
        weights = ((visible > 0) & ~out_x & ~out_y).astype(np.float32)
        gx = np.where(weights[..., None] > 0.5, gx, 0.0)
        n = keypoints.shape[0]
        if n == 0:
            heatmaps = np.zeros((k, h, w), np.float32)
        else:
            heatmaps = np.einsum('nki,nkj->nkij', gy, gx).max(axis=0).astype(np.float32)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    def batch_decode(self, heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(N, K, H, W) -> keypoints (N, K, 2) float32 input-crop pixels (MMPose's UDP scaling,
        see the class docstring), scores (N, K) float32 (the unblurred maxima)."""
        heatmaps = self._check_heatmaps('UDPHeatmap', heatmaps)
        coords, scores = get_heatmap_maximum(heatmaps)
        if self.refine == 'dark_udp':
            coords = refine_dark_udp(heatmaps, coords, scores, self.blur_kernel_size)
        w, h = self.heatmap_size
        keypoints = coords / np.array([w - 1, h - 1], np.float64) * np.array(self.input_size)
        return keypoints.astype(np.float32), scores
