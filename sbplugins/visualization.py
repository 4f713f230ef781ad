"""Pictures of poses and target heatmaps, drawn with OpenCV on BGR images.

Colours come from the dataset info (``keypoint_colors`` and ``skeleton_link_colors``, RGB there,
e.g. COCO: left limbs green, right limbs orange, centre blue) and are drawn in BGR.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np

BOX_COLOR_BGR = (255, 255, 255)
TEXT_COLOR_BGR = (255, 255, 255)
OUTLINE_COLOR_BGR = (0, 0, 0)
_FALLBACK_RGB = (255, 255, 255)


def _bgr(rgb: Sequence[int]) -> Tuple[int, int, int]:
    r, g, b = (int(c) for c in rgb)
    return b, g, r


def _line_sizes(image_shape: Tuple[int, ...]) -> Tuple[int, int, float]:
    """(joint radius, limb thickness, font scale) growing with the image size so lines stay
    visible on large images and do not swamp small crops."""
    size = max(image_shape[:2])
    radius = max(2, int(round(size / 160)))
    return radius, max(1, radius // 2 + 1), max(0.3, size / 1600)


def _put_text(canvas: np.ndarray, text: str, origin: Tuple[int, int], font_scale: float) -> None:
    """White text with a black outline, readable on snow and on shadows alike."""
    for color, thickness in ((OUTLINE_COLOR_BGR, 3), (TEXT_COLOR_BGR, 1)):
        cv2.putText(canvas, text, origin, cv2.FONT_HERSHEY_SIMPLEX, font_scale, color, thickness,
                    cv2.LINE_AA)


def track_color(track_id: int) -> Tuple[int, int, int]:
    """A BGR colour per track ID: golden-ratio steps around the hue circle, so consecutive IDs
    differ strongly and an ID keeps its colour for the whole video."""
    hue = int((int(track_id) * 0.618033988749895 % 1.0) * 180)
    hsv = np.uint8([[[hue, 220, 255]]])
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def draw_poses(image: np.ndarray, results: Sequence[Dict[str, Any]], dataset_meta: dict,
               kpt_thr: float = 0.3, show_scores: bool = False,
               draw_bbox: bool = True) -> np.ndarray:
    """Draw boxes, limbs and joints of each person on a copy of ``image``.

    A person with a ``track_id`` is drawn in its track's colour (``track_color``: box and limbs;
    joints keep the dataset's colours) with the ID written once, at its box's top-left corner.
    Scores are written only when asked (``show_scores``): in a crowd they bury the picture.

    Args:
        image: (H, W, 3) uint8 BGR.
        results: per person ``keypoints`` (K, 2) image pixels, ``keypoint_scores`` (K,), and
            optionally ``bbox`` (4,) xywh, ``bbox_score`` and ``track_id`` (as from
            ``inference_topdown`` and the trackers).
        dataset_meta: dataset meta with ``skeleton_links``, ``skeleton_link_colors`` (L, 3) RGB and
            ``keypoint_colors`` (K, 3) RGB.
        kpt_thr: joints scoring below this are not drawn, nor limbs touching them.
        show_scores: write each drawn joint's score and each box's score (2 decimals).
        draw_bbox: draw each person's box.

    Returns:
        (H, W, 3) uint8 BGR, a new array.
    """
    canvas = np.ascontiguousarray(image, dtype=np.uint8).copy()
    if canvas.ndim != 3 or canvas.shape[2] != 3:
        raise ValueError(f'draw_poses: image must be (H, W, 3) BGR, got shape {canvas.shape}')
    radius, thickness, font_scale = _line_sizes(canvas.shape)
    links = list(dataset_meta.get('skeleton_links', []))
    link_colors = np.asarray(dataset_meta.get('skeleton_link_colors', []), np.int64).reshape(-1, 3)
    joint_colors = np.asarray(dataset_meta.get('keypoint_colors', []), np.int64).reshape(-1, 3)
    for person in results:
        keypoints = np.asarray(person['keypoints'], np.float64).reshape(-1, 2)
        scores = np.asarray(person.get('keypoint_scores', np.ones(len(keypoints))),
                            np.float64).reshape(-1)
        if scores.shape[0] != keypoints.shape[0]:
            raise ValueError(f'draw_poses: {keypoints.shape[0]} keypoints but {scores.shape[0]} '
                             f'keypoint_scores')
        track_id = person.get('track_id')
        person_bgr = track_color(track_id) if track_id is not None else None
        shown = (scores >= kpt_thr) & np.isfinite(keypoints).all(axis=1)
        points = np.round(keypoints).astype(np.int64)
        if person.get('bbox') is not None:
            x, y, w, h = (float(v) for v in np.asarray(person['bbox']).reshape(4))
        elif shown.any():
            (x, y), (x2, y2) = keypoints[shown].min(0), keypoints[shown].max(0)
            w, h = x2 - x, y2 - y
        else:
            x = y = w = h = None
        if draw_bbox and person.get('bbox') is not None:
            cv2.rectangle(canvas, (int(round(x)), int(round(y))),
                          (int(round(x + w)), int(round(y + h))), person_bgr or BOX_COLOR_BGR,
                          thickness)
        labels = []
        if track_id is not None:
            labels.append(f'ID {int(track_id)}')
        if show_scores and person.get('bbox_score') is not None:
            labels.append(f'{float(person["bbox_score"]):.2f}')
        if labels and x is not None:
            _put_text(canvas, ' '.join(labels), (int(x) + 2, int(y) + int(round(14 * font_scale / 0.4))),
                      font_scale * (1.25 if track_id is not None else 1.0))
        for li, (a, b) in enumerate(links):
            if a < len(points) and b < len(points) and shown[a] and shown[b]:
                color = person_bgr or _bgr(link_colors[li] if li < len(link_colors) else _FALLBACK_RGB)
                cv2.line(canvas, tuple(int(v) for v in points[a]), tuple(int(v) for v in points[b]),
                         color, thickness, cv2.LINE_AA)
        for k in np.flatnonzero(shown):
            color = joint_colors[k] if k < len(joint_colors) else _FALLBACK_RGB
            center = (int(points[k, 0]), int(points[k, 1]))
            cv2.circle(canvas, center, radius, _bgr(color), -1, cv2.LINE_AA)
            if show_scores:
                _put_text(canvas, f'{scores[k]:.2f}', (center[0] + radius + 1, center[1]),
                          font_scale * 0.8)
    return canvas


def draw_heatmaps(image: np.ndarray, heatmaps: np.ndarray, alpha: float = 0.5,
                  colormap: int = cv2.COLORMAP_JET) -> np.ndarray:
    """Overlay the per-pixel maximum over joints of ``heatmaps`` on ``image``.

    Args:
        image: (H, W, 3) uint8 BGR, e.g. the network input crop.
        heatmaps: (K, h, w) float targets or predictions (resized to W x H, bilinear).
        alpha: weight of the colour-mapped heatmap in the blend.

    Returns:
        (H, W, 3) uint8 BGR; the colour map is blended in with weight ``alpha * heat``, so
        where all heatmaps are 0 the image is unchanged.
    """
    image = np.ascontiguousarray(image, dtype=np.uint8)
    heatmaps = np.asarray(heatmaps, np.float32)
    if heatmaps.ndim != 3:
        raise ValueError(f'draw_heatmaps: heatmaps must be (K, h, w), got shape {heatmaps.shape}')
    height, width = image.shape[:2]
    peak = heatmaps.max(axis=0) if heatmaps.shape[0] else np.zeros(heatmaps.shape[1:], np.float32)
    peak = np.clip(peak, 0.0, 1.0)
    resized = cv2.resize(peak, (width, height), interpolation=cv2.INTER_LINEAR)
    colored = cv2.applyColorMap(np.round(resized * 255).astype(np.uint8), colormap)
    # Blend only where there is heat, so the crop stays readable between the blobs.
    weight = (alpha * resized)[..., None]
    blended = image.astype(np.float32) * (1 - weight) + colored.astype(np.float32) * weight
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def side_by_side(images: Sequence[np.ndarray], gap: int = 4,
                 fill: Optional[Tuple[int, int, int]] = (0, 0, 0)) -> np.ndarray:
    """Images of equal height (H, W_i, 3) placed left to right with ``gap`` pixels between."""
    height = images[0].shape[0]
    if any(im.shape[0] != height for im in images):
        raise ValueError(f'side_by_side: heights differ: {[im.shape[0] for im in images]}')
    spacer = np.full((height, gap, 3), fill, np.uint8)
    parts = []
    for i, im in enumerate(images):
        parts += ([spacer] if i else []) + [im]
    return np.concatenate(parts, axis=1)
