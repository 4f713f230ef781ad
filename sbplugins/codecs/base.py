"""The keypoint codec contract: keypoints <-> the training target a head predicts.

A codec is a plain numpy object built from ``sbplugins.registries.CODECS`` (entry-point group
``sbpose.codecs``). ``GenerateTarget`` calls ``encode`` once per sample in the data pipeline; the
estimator calls ``batch_decode`` on the network's output. Keypoint coordinates on both sides are in
*input-crop pixels* (the ``TopdownAffine`` output); going back to the image is the estimator's job
(``sbplugins.utils.geometry.affine.crop_to_image``), so a codec never sees a box.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from sbcore.errors import ConfigError


class BaseKeypointCodec:
    """Base class of keypoint codecs (MMPose's ``BaseKeypointCodec`` API).

    Subclasses implement ``encode`` and ``batch_decode``; ``decode`` (one instance) is derived.

    Attributes:
        input_size: (w, h) of the network input crop.
        heatmap_size: (w, h) of the encoded target (heatmap codecs).
    """

    input_size: Tuple[int, int]
    heatmap_size: Tuple[int, int]

    def encode(self, keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """Keypoints of the instances of one sample -> training target.

        Args:
            keypoints: (N, K, 2) input-crop pixels.
            keypoints_visible: (N, K) visibility (> 0 counts); None means all visible.

        Returns:
            dict with at least ``keypoint_weights`` (N, K) float32; heatmap codecs add
            ``heatmaps`` (K, H, W) float32 (the maximum over instances).
        """
        raise NotImplementedError

    def batch_decode(self, heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Network output of a batch -> keypoints and scores.

        Args:
            heatmaps: (N, K, H, W).

        Returns:
            keypoints (N, K, 2) float32 input-crop pixels, scores (N, K) float32.
        """
        raise NotImplementedError

    def decode(self, heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """One instance: (K, H, W) -> keypoints (1, K, 2) input-crop pixels, scores (1, K)."""
        heatmaps = np.asarray(heatmaps)
        if heatmaps.ndim != 3:
            raise ValueError(f'{type(self).__name__}.decode: heatmaps must be (K, H, W), '
                             f'got {heatmaps.shape}')
        return self.batch_decode(heatmaps[None])

    # helpers shared by the heatmap codecs ---------------------------------------------------------
    @staticmethod
    def _check_sizes(name: str, input_size: Sequence[int], heatmap_size: Sequence[int],
                     sigma: float) -> Tuple[Tuple[int, int], Tuple[int, int]]:
        if len(input_size) != 2 or len(heatmap_size) != 2:
            raise ConfigError(f'{name}: input_size and heatmap_size must be (w, h), got '
                             f'{input_size!r} and {heatmap_size!r}')
        if sigma <= 0:
            raise ConfigError(f'{name}: sigma must be > 0, got {sigma}')
        return ((int(input_size[0]), int(input_size[1])),
                (int(heatmap_size[0]), int(heatmap_size[1])))

    @staticmethod
    def _check_keypoints(name: str, keypoints: np.ndarray,
                         keypoints_visible: Optional[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        """(N, K, 2) float64 keypoints and (N, K) float32 visibility, shapes checked."""
        keypoints = np.asarray(keypoints, dtype=np.float64)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f'{name}.encode: keypoints must be (N, K, 2), got {keypoints.shape}')
        n, k = keypoints.shape[:2]
        if keypoints_visible is None:
            return keypoints, np.ones((n, k), np.float32)
        visible = np.asarray(keypoints_visible, dtype=np.float32)
        if visible.shape != (n, k):
            raise ValueError(f'{name}.encode: keypoints_visible must be ({n}, {k}), '
                             f'got {visible.shape}')
        return keypoints, visible

    @staticmethod
    def _check_heatmaps(name: str, heatmaps: np.ndarray) -> np.ndarray:
        heatmaps = np.asarray(heatmaps)
        if heatmaps.ndim != 4:
            raise ValueError(f'{name}.batch_decode: heatmaps must be (N, K, H, W), '
                             f'got {heatmaps.shape}')
        return heatmaps
