"""The last pipeline step: a flat dict of fixed-shape numeric arrays, one instance per sample."""
from __future__ import annotations

from typing import Any, Dict, Sequence, Tuple

import numpy as np

# output key -> (results key, dtype, drop the leading instance axis). ``keypoints`` and
# ``keypoints_visible`` are the ORIGINAL image-space ground truth (kept by GetBBoxCenterScale),
# not the crop-space ones the target was made from: metrics such as PCKh compare in the image.
PACKED_KEYS: Dict[str, Tuple[str, Any, bool]] = {
    'img': ('img', np.uint8, False),
    'heatmaps': ('heatmaps', np.float32, False),
    'keypoint_weights': ('keypoint_weights', np.float32, True),
    'bbox_center': ('bbox_center', np.float32, True),
    'bbox_scale': ('bbox_scale', np.float32, True),
    'bbox_score': ('bbox_score', np.float32, True),
    'img_id': ('img_id', np.int64, False),
    'id': ('id', np.int64, False),
    'keypoints': ('gt_keypoints', np.float32, True),
    'keypoints_visible': ('gt_keypoints_visible', np.float32, True),
    'head_size': ('head_size', np.float32, True),  # MPII's PCKh normaliser
}
DEFAULT_KEYS = tuple(PACKED_KEYS)
# present in every packed sample even when the results lack them, so batches stack
DEFAULT_VALUES = {'id': -1}


class PackPoseInputs:
    """Pack ``keys`` of the results into ``dict[str, np.ndarray]`` for the data loader.

    Known keys (see ``PACKED_KEYS``) get their dtype and lose the instance axis (top-down: one
    instance): ``img`` (H, W, 3) uint8, ``heatmaps`` (K, h, w), ``keypoint_weights`` (K,),
    ``bbox_center``/``bbox_scale`` (2,), ``bbox_score`` (), ``img_id``/``id`` () int64 (``id`` -1
    when absent), ``keypoints`` (K, 2) / ``keypoints_visible`` (K,) image-space ground truth.
    Other listed keys pass through as arrays if numeric. Missing keys are left out; ``rng`` and
    strings never pass.
    """

    def __init__(self, keys: Sequence[str] = DEFAULT_KEYS):
        self.keys = tuple(keys)
        if 'rng' in self.keys:
            raise ValueError('PackPoseInputs: "rng" cannot be packed (it is not an array)')

    def __call__(self, results: Dict[str, Any]) -> Dict[str, np.ndarray]:
        packed: Dict[str, np.ndarray] = {}
        for key in self.keys:
            source, dtype, per_instance = PACKED_KEYS.get(key, (key, None, False))
            if source in results:
                value = results[source]
            elif key in DEFAULT_VALUES:
                value = DEFAULT_VALUES[key]
            else:
                continue
            array = np.asarray(value) if dtype is None else np.asarray(value, dtype=dtype)
            if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
                raise TypeError(f'PackPoseInputs: key {key!r} is not numeric '
                                f'({type(value).__name__} {value!r:.60}); only numeric arrays pack')
            if per_instance:
                if array.ndim == 0 or array.shape[0] != 1:
                    raise ValueError(f'PackPoseInputs: {source!r} must have one instance on its '
                                     f'leading axis (top-down), got shape {array.shape}')
                array = array[0]
            packed[key] = np.asarray(array, order='C')  # (ascontiguousarray makes 0-d 1-d)
        return packed

    def __repr__(self) -> str:
        return f'PackPoseInputs(keys={self.keys})'
