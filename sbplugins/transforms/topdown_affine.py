"""The top-down crop: warp the box region of the image to the network input."""
from __future__ import annotations

from typing import Any, Dict, Sequence

import cv2
import numpy as np

from sbplugins.utils.geometry.affine import (affine_points, get_affine_transform,
                                             get_udp_affine_transform)
from sbplugins.utils.geometry.boxes import fix_aspect_ratio


class TopdownAffine:
    """Warp the box (``bbox_center``, ``bbox_scale``, ``bbox_rotation``) to an ``input_size`` crop.

    The box scale is first grown to the crop's aspect ratio (a no-op when GetBBoxCenterScale
    already did it). Bilinear interpolation, zero border (official ``cv2.warpAffine`` call).
    ``keypoints`` (N, K, 2) move into crop pixels; sets ``img`` (h, w, C), ``input_size`` (w, h),
    the updated ``bbox_scale`` and the image -> crop ``affine_matrix`` (2, 3).

    Args:
        input_size: (w, h) of the crop, e.g. (192, 256).
        use_udp: UDP's unbiased affine (``get_udp_affine_transform``: box edges onto the first and
            last crop pixels) instead of the official one; pair it with the ``UDPHeatmap`` codec
            and ``test_cfg.shift_heatmap=False``.
    """

    def __init__(self, input_size: Sequence[int] = (192, 256), use_udp: bool = False):
        if len(input_size) != 2 or min(input_size) <= 0:
            raise ValueError(f'TopdownAffine: input_size must be (w, h) > 0, got {input_size!r}')
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.use_udp = bool(use_udp)

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        for key in ('img', 'bbox_center', 'bbox_scale'):
            if key not in results:
                raise KeyError(f'TopdownAffine: results has no {key!r} (keys: {sorted(results)})')
        center = np.asarray(results['bbox_center'], np.float32).reshape(-1, 2)
        if center.shape[0] != 1:
            raise ValueError(f'TopdownAffine: top-down samples hold one instance, got '
                             f'bbox_center of shape {np.shape(results["bbox_center"])}')
        w, h = self.input_size
        scale = fix_aspect_ratio(np.asarray(results['bbox_scale'], np.float32).reshape(-1, 2), w / h)
        rotation = np.asarray(results.get('bbox_rotation', np.zeros(1)), np.float64).reshape(-1)
        affine = get_udp_affine_transform if self.use_udp else get_affine_transform
        mat = affine(center[0], scale[0], float(rotation[0]), self.input_size)
        results['img'] = cv2.warpAffine(results['img'], mat, (w, h), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        if 'keypoints' in results:
            results['keypoints'] = affine_points(np.asarray(results['keypoints'], np.float32), mat)
        results['bbox_scale'] = scale
        results['input_size'] = self.input_size
        results['affine_matrix'] = mat
        return results

    def __repr__(self) -> str:
        return f'TopdownAffine(input_size={self.input_size}, use_udp={self.use_udp})'
