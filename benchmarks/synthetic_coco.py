"""A synthetic COCO keypoint ground truth + detections set at val2017 scale, for timing the metric.

val2017 has 5,000 images and 6,352 people with keypoints; the SimpleBaseline detector gives about
100,000 person boxes (20 per image after its own NMS on crowded images). Here each image holds
1-3 people and every image gets ``persons / images`` detections, most of them noisy copies of a
real person (so OKS-NMS and COCOeval do real matching work), the rest anywhere in the image.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, Tuple

import numpy as np

from sbplugins.utils.geometry.boxes import PIXEL_STD

NUM_JOINTS = 17
IMAGE_W, IMAGE_H = 640, 480


def _people(rng: np.random.Generator, count: int) -> Tuple[np.ndarray, np.ndarray]:
    """``count`` random person boxes (count, 4) xywh and their keypoints (count, 17, 2)."""
    w = rng.uniform(40, 250, count)
    h = w * rng.uniform(1.5, 2.5, count)
    h = np.minimum(h, IMAGE_H - 2)
    x = rng.uniform(0, IMAGE_W - w)
    y = rng.uniform(0, IMAGE_H - h)
    rel = rng.uniform(0.1, 0.9, (count, NUM_JOINTS, 2))
    kpts = np.stack([x[:, None] + rel[..., 0] * w[:, None], y[:, None] + rel[..., 1] * h[:, None]],
                    axis=-1)
    return np.stack([x, y, w, h], axis=1), kpts


def make_val_scale_set(folder: Path, images: int = 5000, persons: int = 100000, seed: int = 0
                       ) -> Tuple[Path, Dict[str, np.ndarray], Dict[str, np.ndarray]]:
    """Write ``folder/person_keypoints_synthetic.json``; return it with detections.

    Returns:
        ``(ann_file, batch, predictions)`` in the shapes ``CocoMetric.process`` takes: batch
        ``img_id`` (N,), ``bbox_center`` (N,2), ``bbox_scale`` (N,2) (units of 200 px),
        ``bbox_score`` (N,); predictions ``keypoints`` (N,17,2), ``keypoint_scores`` (N,17).
    """
    rng = np.random.default_rng(seed)
    gt_per_image = rng.integers(1, 4, images)
    gt_boxes, gt_kpts = _people(rng, int(gt_per_image.sum()))
    gt_img = np.repeat(np.arange(1, images + 1), gt_per_image)
    visible = rng.random((len(gt_img), NUM_JOINTS)) < 0.8
    annotations = []
    for i in range(len(gt_img)):
        flat = np.concatenate([gt_kpts[i], 2.0 * visible[i][:, None]], axis=1)
        flat[~visible[i], :2] = 0
        x, y, w, h = gt_boxes[i]
        annotations.append(dict(id=i + 1, image_id=int(gt_img[i]), category_id=1, iscrowd=0,
                                bbox=[float(x), float(y), float(w), float(h)],
                                area=float(w * h * 0.6), num_keypoints=int(visible[i].sum()),
                                keypoints=np.round(flat, 2).reshape(-1).tolist()))
    dataset = dict(
        images=[dict(id=i, width=IMAGE_W, height=IMAGE_H, file_name=f'{i:012d}.jpg')
                for i in range(1, images + 1)],
        annotations=annotations,
        categories=[dict(id=1, name='person', supercategory='person',
                         keypoints=[f'joint_{j}' for j in range(NUM_JOINTS)], skeleton=[])])
    ann_file = Path(folder) / 'person_keypoints_synthetic.json'
    ann_file.write_text(json.dumps(dataset))

    # detections: 80% jittered copies of a person of the same image, 20% anywhere
    det_img = np.repeat(np.arange(1, images + 1), persons // images)
    n = len(det_img)
    first_gt = np.concatenate([[0], np.cumsum(gt_per_image)[:-1]])
    pick = first_gt[det_img - 1] + rng.integers(0, gt_per_image[det_img - 1])
    boxes, kpts = _people(rng, n)
    copy = rng.random(n) < 0.8
    scale = gt_boxes[pick, 2:4].max(axis=1)
    noisy = gt_kpts[pick] + rng.normal(0, 1, (n, NUM_JOINTS, 2)) * (scale * 0.05)[:, None, None]
    kpts[copy] = noisy[copy]
    boxes[copy] = gt_boxes[pick][copy] * rng.uniform(0.9, 1.1, (int(copy.sum()), 4))
    center = boxes[:, :2] + boxes[:, 2:] / 2
    batch = dict(img_id=det_img.astype(np.int64), bbox_center=center.astype(np.float32),
                 bbox_scale=(boxes[:, 2:] * 1.25 / PIXEL_STD).astype(np.float32),
                 bbox_score=rng.uniform(0.05, 1.0, n).astype(np.float32))
    predictions = dict(keypoints=kpts.astype(np.float32),
                       keypoint_scores=rng.uniform(0, 1, (n, NUM_JOINTS)).astype(np.float32))
    return ann_file, batch, predictions
