"""Dense optical flow between frames and joint warping along it (the paper's joint propagation)."""
from __future__ import annotations

import cv2
import numpy as np

from sbcore.errors import ConfigError

_DIS_PRESETS = {'ultrafast': 0, 'fast': 1, 'medium': 2}


class DenseFlow:
    """Dense flow from the previous frame to the current one, in full-image pixels.

    The paper uses FlowNet2-S; OpenCV's DIS (default) or Farneback flow stands in for it (no
    download, a few ms per 320x256 frame on CPU). ``downscale`` < 1 computes the flow on a
    smaller image and scales it back (faster on large frames).

    Args:
        method: ``'dis'`` or ``'farneback'``.
        preset: DIS preset, ``'ultrafast'``, ``'fast'`` or ``'medium'``.
        downscale: image scale at which the flow is computed (0 < downscale <= 1).
    """

    def __init__(self, method: str = 'dis', preset: str = 'fast', downscale: float = 1.0):
        if method not in ('dis', 'farneback'):
            raise ConfigError(f'DenseFlow: method must be "dis" or "farneback", got {method!r}')
        if preset not in _DIS_PRESETS:
            raise ConfigError(f'DenseFlow: preset must be one of {sorted(_DIS_PRESETS)}, '
                              f'got {preset!r}')
        if not 0 < downscale <= 1:
            raise ConfigError(f'DenseFlow: downscale must be in (0, 1], got {downscale}')
        self.method, self.downscale = method, float(downscale)
        self._dis = cv2.DISOpticalFlow_create(_DIS_PRESETS[preset]) if method == 'dis' else None

    @staticmethod
    def to_gray(image: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image

    def __call__(self, prev_gray: np.ndarray, gray: np.ndarray) -> np.ndarray:
        """(H, W, 2) float32 flow: pixel (x, y) of the previous frame moves to (x, y) + flow[y, x]."""
        h, w = gray.shape[:2]
        if prev_gray.shape != gray.shape:  # a resolution change (e.g. a webcam reconfigured)
            return np.zeros((h, w, 2), np.float32)
        a, b = prev_gray, gray
        if self.downscale < 1:
            size = (max(8, int(w * self.downscale)), max(8, int(h * self.downscale)))
            a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
            b = cv2.resize(b, size, interpolation=cv2.INTER_AREA)
        if self._dis is not None:
            flow = self._dis.calc(a, b, None)
        else:
            flow = cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 3, 15, 3, 5, 1.2, 0)
        if self.downscale < 1:
            flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR) / self.downscale
        return flow.astype(np.float32)


def warp_points(points: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Points of the previous frame moved along ``flow`` (bilinear flow lookup, border clamped).

    Args:
        points: (..., 2) image pixels; flow: (H, W, 2).

    Returns:
        (..., 2) float32 points in the current frame.
    """
    pts = np.asarray(points, np.float32)
    flat = pts.reshape(-1, 1, 2)
    if flat.shape[0] == 0:
        return pts.copy()
    map_x = np.ascontiguousarray(flat[..., 0])
    map_y = np.ascontiguousarray(flat[..., 1])
    moved = cv2.remap(flow, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return (flat + moved.reshape(-1, 1, 2)).reshape(pts.shape)
