"""The person-detector contract shared by every detector plugin."""
from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from sbcore.errors import ConfigError


def empty_detections() -> Tuple[np.ndarray, np.ndarray]:
    """No person: boxes (0, 4) float32 and scores (0,) float32."""
    return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)


class BaseDetector:
    """A person detector.

    Subclasses implement ``_detect(image, frame_info)``; ``detect`` checks the image and drops
    boxes scoring below ``score_thr`` or with no area (the order is the detector's: best first
    after NMS, or the file's order for ``BoxFileDetector``).

    Args:
        score_thr: boxes scoring below this are dropped.
    """

    def __init__(self, score_thr: float = 0.0):
        self.score_thr = float(score_thr)

    def detect(self, image: np.ndarray,
               frame_info: Optional[dict] = None) -> Tuple[np.ndarray, np.ndarray]:
        """Persons in ``image``.

        Args:
            image: (H, W, 3) uint8 BGR.
            frame_info: what the caller knows of the frame (``file_name``, ``frame_index``,
                ``image_id``); detectors that look boxes up in a file use it, others ignore it.

        Returns:
            boxes (N, 4) float32 xywh in image pixels and scores (N,) float32.
        """
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'{type(self).__name__}.detect: image must be (H, W, 3) uint8 BGR, '
                             f'got {image.dtype} of shape {image.shape}')
        boxes, scores = self._detect(image, frame_info or {})
        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        scores = np.asarray(scores, np.float32).reshape(-1)
        keep = (scores >= self.score_thr) & (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
        return boxes[keep], scores[keep]

    def _detect(self, image: np.ndarray, frame_info: dict) -> Tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def build_detector(cfg: Any) -> BaseDetector:
    """A detector from ``dict(type=..., ...)`` (the config's ``detector``) or a detector itself."""
    from sbplugins.registries import DETECTORS
    if isinstance(cfg, BaseDetector) or hasattr(cfg, 'detect'):
        return cfg
    cfg = dict(cfg)
    if 'type' not in cfg:
        raise ConfigError(f'detector config needs a "type" (one of {DETECTORS.names()}), got {cfg}')
    return DETECTORS.build(cfg)
