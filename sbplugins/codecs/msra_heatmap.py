"""The MSRA heatmap codec of SimpleBaseline: Gaussian targets in, argmax + quarter-pixel out.

Encoding follows the official ``generate_target`` rule for rule (reference doc "Heatmap target"),
vectorised over instances and joints: the 2-D window is the outer product of a 1-D row and a 1-D
column (the Gaussian is separable), so one instance of 17 joints costs a few microseconds instead
of a Python loop per joint.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from sbcore.errors import ConfigError

REFINE_MODES = ('official', 'mmpose', 'none')


class MSRAHeatmap:
    """Unnormalised Gaussian heatmaps at ``heatmap_size`` for keypoints in ``input_size`` pixels.

    Args:
        input_size: (w, h) of the network input crop.
        heatmap_size: (w, h) of the heatmaps (stride = input_size / heatmap_size per axis).
        sigma: Gaussian sigma in heatmap pixels (2 for 64x48, 3 for 96x72).
        refine: quarter-pixel refinement of the decoded argmax: ``'official'`` (only when
            1 < x < W-1 and 1 < y < H-1, both shifts together), ``'mmpose'`` (x and y bounds tested
            independently) or ``'none'``.
    """

    def __init__(self, input_size: Sequence[int] = (192, 256),
                 heatmap_size: Sequence[int] = (48, 64), sigma: float = 2.0,
                 refine: str = 'official'):
        if refine not in REFINE_MODES:
            raise ConfigError(f'MSRAHeatmap: refine must be one of {REFINE_MODES}, got {refine!r}')
        if len(input_size) != 2 or len(heatmap_size) != 2:
            raise ConfigError(f'MSRAHeatmap: input_size and heatmap_size must be (w, h), got '
                              f'{input_size!r} and {heatmap_size!r}')
        if sigma <= 0:
            raise ConfigError(f'MSRAHeatmap: sigma must be > 0, got {sigma}')
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
                f'sigma={self.sigma}, refine={self.refine!r})')

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
        """Keypoints in input-crop pixels -> heatmaps and per-keypoint weights.

        Args:
            keypoints: (N, K, 2) input-crop pixels.
            keypoints_visible: (N, K) visibility (> 0 counts); None means all visible.

        Returns:
            dict(heatmaps=(K, H, W) float32, the maximum over instances;
                 keypoint_weights=(N, K) float32: visibility (0/1), 0 where the window lies fully
                 outside the heatmap (ul >= size or br < 0; br == 0 keeps weight 1 and draws
                 nothing, the official quirk)).
        """
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f'MSRAHeatmap.encode: keypoints must be (N, K, 2), got {keypoints.shape}')
        n, k = keypoints.shape[:2]
        if keypoints_visible is None:
            visible = np.ones((n, k), np.float32)
        else:
            visible = np.asarray(keypoints_visible, dtype=np.float32)
            if visible.shape != (n, k):
                raise ValueError(f'MSRAHeatmap.encode: keypoints_visible must be ({n}, {k}), '
                                 f'got {visible.shape}')
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
        if n == 1:
            heatmaps = np.einsum('ki,kj->kij', gy[0], gx[0])
        elif n == 0:
            heatmaps = np.zeros((k, h, w), np.float32)
        else:
            heatmaps = np.einsum('nki,nkj->nkij', gy, gx).max(axis=0)
        return dict(heatmaps=heatmaps, keypoint_weights=weights)

    # decode ------------------------------------------------------------------------------------
    def batch_decode(self, heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Heatmaps -> keypoints in input-crop pixels and scores (the heatmap maxima).

        Argmax with the first maximum winning; a non-positive maximum gives (0, 0); then the
        quarter-pixel refinement of ``self.refine``; then heatmap -> input pixels by the stride.

        Args:
            heatmaps: (N, K, H, W).

        Returns:
            keypoints (N, K, 2) float32 input-crop pixels, scores (N, K) float32.
        """
        heatmaps = np.asarray(heatmaps)
        if heatmaps.ndim != 4:
            raise ValueError(f'MSRAHeatmap.batch_decode: heatmaps must be (N, K, H, W), '
                             f'got {heatmaps.shape}')
        n, k, h, w = heatmaps.shape
        flat = heatmaps.reshape(n, k, h * w)
        idx = flat.argmax(axis=-1)
        scores = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0].astype(np.float32)
        x = idx % w
        y = idx // w
        found = scores > 0
        x = np.where(found, x, 0)
        y = np.where(found, y, 0)

        coords = np.stack([x, y], axis=-1).astype(np.float32)
        if self.refine != 'none':
            coords += self._refinement(heatmaps.reshape(n * k, h, w), x.ravel(), y.ravel()
                                       ).reshape(n, k, 2)
        keypoints = (coords * self.stride).astype(np.float32)
        return keypoints, scores

    def _refinement(self, hm: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(M, H, W) heatmaps and (M,) integer argmax -> (M, 2) quarter-pixel shifts."""
        m, h, w = hm.shape
        if self.refine == 'official':
            ok = (x > 1) & (x < w - 1) & (y > 1) & (y < h - 1)
            ok_x = ok_y = ok
        else:  # mmpose: each axis tests its own bounds (and that the other index is in range)
            ok_x = (x > 1) & (x < w - 1) & (y > 0) & (y < h)
            ok_y = (y > 1) & (y < h - 1) & (x > 0) & (x < w)
        rows = np.arange(m)
        xc = np.clip(x, 1, max(w - 2, 1))
        yc = np.clip(y, 1, max(h - 2, 1))
        yi = np.clip(y, 0, h - 1)
        xi = np.clip(x, 0, w - 1)
        if w >= 3:
            dx = hm[rows, yi, np.minimum(xc + 1, w - 1)] - hm[rows, yi, xc - 1]
        else:
            dx = np.zeros(m, hm.dtype)
        if h >= 3:
            dy = hm[rows, np.minimum(yc + 1, h - 1), xi] - hm[rows, yc - 1, xi]
        else:
            dy = np.zeros(m, hm.dtype)
        shift = np.stack([np.where(ok_x, np.sign(dx), 0), np.where(ok_y, np.sign(dy), 0)], axis=-1)
        return (shift * 0.25).astype(np.float32)

    def decode(self, heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """One instance: (K, H, W) -> keypoints (1, K, 2) input-crop pixels, scores (1, K)."""
        heatmaps = np.asarray(heatmaps)
        if heatmaps.ndim != 3:
            raise ValueError(f'MSRAHeatmap.decode: heatmaps must be (K, H, W), got {heatmaps.shape}')
        return self.batch_decode(heatmaps[None])
