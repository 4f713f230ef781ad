"""Top-down pipeline steps between loading and the affine crop, plus target generation.

All randomness comes from ``results['rng']`` (an ``np.random.Generator``; created if absent), so a
sample's augmentation depends only on the seed the data loader gives it. Keys follow the results
convention of docs/design.md: per-instance arrays carry a leading instance axis N (1 in top-down).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import cv2
import numpy as np

from sbplugins.registries import CODECS
from sbplugins.utils.geometry.boxes import PIXEL_STD, bbox_xywh_to_center_scale
from sbplugins.utils.geometry.flip import flip_keypoints


def get_rng(results: Dict[str, Any]) -> np.random.Generator:
    """The sample's generator; a fresh unseeded one is stored when the results carry none."""
    rng = results.get('rng')
    if rng is None:
        rng = results['rng'] = np.random.default_rng()
    elif not isinstance(rng, np.random.Generator):
        raise TypeError(f'results["rng"] must be a numpy.random.Generator, got {type(rng).__name__}')
    return rng


def _require(results: Dict[str, Any], key: str, step: str) -> Any:
    if key not in results:
        raise KeyError(f'{step}: results has no {key!r} (keys: {sorted(results)}); '
                       f'is an earlier pipeline step missing?')
    return results[key]


class GetBBoxCenterScale:
    """``bbox`` (N, 4) xywh -> ``bbox_center`` (N, 2) and ``bbox_scale`` (N, 2) in units of 200 px.

    Kept as given when the results already carry both (e.g. MPII's annotated center/scale).
    Also keeps the untouched image-space ground truth as ``gt_keypoints`` (N, K, 2) and
    ``gt_keypoints_visible`` (N, K) for metrics, and sets ``bbox_rotation`` (N,) = 0 if absent.

    Args:
        padding: box enlargement (official 1.25).
        aspect_ratio: w/h to grow the box to here (the official order); None leaves it to
            TopdownAffine, which fixes it to its input size (same result up to float rounding).
    """

    def __init__(self, padding: float = 1.25, aspect_ratio: Optional[float] = None):
        self.padding = padding
        self.aspect_ratio = aspect_ratio

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        if 'bbox_center' not in results or 'bbox_scale' not in results:
            bbox = np.asarray(_require(results, 'bbox', 'GetBBoxCenterScale'), np.float32)
            center, scale = bbox_xywh_to_center_scale(bbox.reshape(-1, 4), self.aspect_ratio,
                                                      self.padding)
            results['bbox_center'], results['bbox_scale'] = center, scale
        num = np.asarray(results['bbox_center']).reshape(-1, 2).shape[0]
        results.setdefault('bbox_rotation', np.zeros(num, np.float64))
        if 'keypoints' in results and 'gt_keypoints' not in results:
            results['gt_keypoints'] = np.array(results['keypoints'], np.float32)
            results['gt_keypoints_visible'] = np.array(results['keypoints_visible'], np.float32)
        return results

    def __repr__(self) -> str:
        return f'GetBBoxCenterScale(padding={self.padding}, aspect_ratio={self.aspect_ratio})'


class RandomFlip:
    """Mirror the image, box and keypoints with probability ``prob`` (official: draw <= 0.5).

    x -> W - 1 - x for the box center and keypoints, left/right joints swapped by
    ``results['flip_indices']`` (from the dataset meta). ``gt_keypoints`` stay in the original
    image. Sets ``flip`` (bool).
    """

    def __init__(self, prob: float = 0.5):
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomFlip: prob must be in [0, 1], got {prob}')
        self.prob = prob

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        flip = self.prob > 0 and get_rng(results).random() <= self.prob
        results['flip'] = bool(flip)
        if not flip:
            return results
        img = _require(results, 'img', 'RandomFlip')
        width = img.shape[1]
        results['img'] = cv2.flip(img, 1)
        center = np.array(_require(results, 'bbox_center', 'RandomFlip'), np.float32)
        center[..., 0] = width - 1 - center[..., 0]
        results['bbox_center'] = center
        if 'bbox' in results:
            bbox = np.array(results['bbox'], np.float32)
            bbox[..., 0] = width - 1 - bbox[..., 0] - bbox[..., 2]  # keeps center = x + w/2
            results['bbox'] = bbox
        if 'keypoints' in results:
            flip_indices = _require(results, 'flip_indices', 'RandomFlip')
            results['keypoints'], results['keypoints_visible'] = flip_keypoints(
                results['keypoints'], results['keypoints_visible'], width, flip_indices)
        return results

    def __repr__(self) -> str:
        return f'RandomFlip(prob={self.prob})'


class RandomHalfBody:
    """Replace the box by the upper or lower body's visible keypoints (MMPose/HRNet, not in the
    official SimpleBaseline recipe), with MMPose's rules and draw order.

    Applied with probability ``prob`` to instances with at least ``min_total_keypoints`` visible
    keypoints; upper half preferred with probability 0.5; a half needs ``min_upper_keypoints`` /
    ``min_lower_keypoints`` visible keypoints. New center = their mean, new scale = their extent
    grown to the current box's aspect ratio, / 200, x ``padding``.

    Args:
        upper_body_ids, lower_body_ids: keypoint indices; default ``results['upper_body_ids']`` /
            ``results['lower_body_ids']`` (dataset meta); lower defaults to the rest.
    """

    def __init__(self, min_total_keypoints: int = 9, min_upper_keypoints: int = 2,
                 min_lower_keypoints: int = 3, padding: float = 1.5, prob: float = 0.3,
                 upper_body_ids: Optional[Sequence[int]] = None,
                 lower_body_ids: Optional[Sequence[int]] = None):
        self.min_total_keypoints = min_total_keypoints
        self.min_upper_keypoints = min_upper_keypoints
        self.min_lower_keypoints = min_lower_keypoints
        self.padding = padding
        self.prob = prob
        self.upper_body_ids = None if upper_body_ids is None else list(upper_body_ids)
        self.lower_body_ids = None if lower_body_ids is None else list(lower_body_ids)

    def _select(self, visible: np.ndarray, upper: Sequence[int], lower: Sequence[int],
                rng: np.random.Generator) -> Optional[np.ndarray]:
        """Keypoint indices of the chosen half, or None (draw order as MMPose)."""
        if (visible > 0).sum() < self.min_total_keypoints or rng.random() > self.prob:
            return None
        upper_ids = [i for i in upper if visible[i] > 0]
        lower_ids = [i for i in lower if visible[i] > 0]
        prefer_upper = rng.random() < 0.5
        if len(upper_ids) < self.min_upper_keypoints and len(lower_ids) < self.min_lower_keypoints:
            return None
        if len(lower_ids) < self.min_lower_keypoints:
            return np.array(upper_ids)
        if len(upper_ids) < self.min_upper_keypoints:
            return np.array(lower_ids)
        return np.array(upper_ids if prefer_upper else lower_ids)

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        keypoints = np.asarray(_require(results, 'keypoints', 'RandomHalfBody'), np.float32)
        visible = np.asarray(results['keypoints_visible'])
        num_keypoints = keypoints.shape[1]
        upper = self.upper_body_ids or results.get('upper_body_ids')
        if upper is None:
            raise KeyError('RandomHalfBody: no upper_body_ids given and results has none '
                           '(set them in the dataset meta or the transform config)')
        lower = self.lower_body_ids or results.get('lower_body_ids')
        if lower is None:
            lower = [i for i in range(num_keypoints) if i not in set(upper)]
        rng = get_rng(results)
        center = np.array(results['bbox_center'], np.float32)
        scale = np.array(results['bbox_scale'], np.float32)
        for i in range(keypoints.shape[0]):
            ids = self._select(visible[i], upper, lower, rng)
            if ids is None:
                continue
            if not (scale[i] > 0).all():
                continue  # a degenerate (0 x 0) box has no aspect ratio to keep: leave it
            points = keypoints[i, ids]
            w, h = points.max(axis=0) - points.min(axis=0)
            aspect = scale[i, 0] / scale[i, 1]
            if w > h * aspect:
                h = w / aspect
            else:
                w = h * aspect
            center[i] = points.mean(axis=0)
            scale[i] = np.array([w, h], np.float32) / PIXEL_STD * self.padding
        results['bbox_center'], results['bbox_scale'] = center, scale
        return results

    def __repr__(self) -> str:
        return (f'RandomHalfBody(min_total_keypoints={self.min_total_keypoints}, '
                f'padding={self.padding}, prob={self.prob})')


class RandomBBoxTransform:
    """Random scale, rotation (and optional shift) of the box, official distributions and order.

    Per instance: s *= clip(randn * scale_factor + 1, 1 - scale_factor, 1 + scale_factor);
    then r = clip(randn * rotate_factor, -2 rotate_factor, 2 rotate_factor) if a uniform draw
    <= rotate_prob, else 0 (the normal is drawn only then, as the official conditional
    expression does); then, only when ``shift_prob > 0`` (so the official stream is unchanged),
    the center moves by clip(randn(2), -1, 1) * shift_factor * box size if a uniform draw
    <= shift_prob. Sets ``bbox_scale``, ``bbox_rotation`` (degrees) and ``bbox_center``.
    """

    def __init__(self, scale_factor: float = 0.3, rotate_factor: float = 40.,
                 rotate_prob: float = 0.6, shift_factor: float = 0., shift_prob: float = 0.):
        self.scale_factor = scale_factor
        self.rotate_factor = rotate_factor
        self.rotate_prob = rotate_prob
        self.shift_factor = shift_factor
        self.shift_prob = shift_prob

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        rng = get_rng(results)
        center = np.array(_require(results, 'bbox_center', 'RandomBBoxTransform'), np.float32)
        scale = np.array(_require(results, 'bbox_scale', 'RandomBBoxTransform'), np.float32)
        rotation = np.zeros(center.shape[0], np.float64)  # degrees; float64 as the official r
        sf, rf = self.scale_factor, self.rotate_factor
        for i in range(center.shape[0]):
            scale[i] *= np.float32(np.clip(rng.standard_normal() * sf + 1, 1 - sf, 1 + sf))
            if rng.random() <= self.rotate_prob:
                rotation[i] = np.clip(rng.standard_normal() * rf, -rf * 2, rf * 2)
            if self.shift_prob > 0 and rng.random() <= self.shift_prob:
                offset = np.clip(rng.standard_normal(2), -1, 1) * self.shift_factor
                center[i] += (offset * scale[i] * PIXEL_STD).astype(np.float32)
        results['bbox_center'], results['bbox_scale'] = center, scale
        results['bbox_rotation'] = rotation
        return results

    def __repr__(self) -> str:
        return (f'RandomBBoxTransform(scale_factor={self.scale_factor}, rotate_factor='
                f'{self.rotate_factor}, rotate_prob={self.rotate_prob}, shift_factor='
                f'{self.shift_factor}, shift_prob={self.shift_prob})')


class GenerateTarget:
    """Encode ``keypoints`` (input-crop pixels) into ``heatmaps`` (K, h, w) and
    ``keypoint_weights`` (N, K) with a codec.

    Args:
        encoder: codec config, e.g. ``dict(type='MSRAHeatmap', input_size=(192, 256),
            heatmap_size=(48, 64), sigma=2)``, built from ``sbplugins.registries.CODECS``.
        use_dataset_keypoint_weights: multiply the weights by ``results['dataset_keypoint_weights']``
            (K,) (the official USE_DIFFERENT_JOINTS_WEIGHT option).
    """

    def __init__(self, encoder: dict, use_dataset_keypoint_weights: bool = False):
        self.encoder = CODECS.build(encoder) if isinstance(encoder, dict) else encoder
        self.use_dataset_keypoint_weights = use_dataset_keypoint_weights

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        keypoints = _require(results, 'keypoints', 'GenerateTarget')
        encoded = self.encoder.encode(keypoints, results.get('keypoints_visible'))
        weights = encoded['keypoint_weights']
        if self.use_dataset_keypoint_weights:
            joint_weights = np.asarray(_require(results, 'dataset_keypoint_weights',
                                                'GenerateTarget'), np.float32)
            weights = weights * joint_weights
        results['heatmaps'] = encoded['heatmaps']
        results['keypoint_weights'] = weights.astype(np.float32)
        return results

    def __repr__(self) -> str:
        return (f'GenerateTarget(encoder={self.encoder!r}, '
                f'use_dataset_keypoint_weights={self.use_dataset_keypoint_weights})')
