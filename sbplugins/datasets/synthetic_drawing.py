"""Cartoon people on textured scenes for the synthetic datasets: the scenes and their labels.

Each image holds 1..``max_people_per_image`` articulated figures built from a 2-D kinematic skeleton
(adult proportions in units of body height), drawn with OpenCV, and labelled with the 17 COCO joints.
The figures are meant to be learnable by a small network in minutes of CPU training while keeping
what makes person keypoints a real problem: varied pose, scale, in-plane rotation, clothing and skin
colours, cluttered backgrounds, truncation at the image border, overlap between people and occluders.

Left/right cue: the training pipeline mirrors images and swaps the left/right labels, so the cue
must survive mirroring, as it does for real people: it is the facing direction. Front-facing figures
(80 %) show a face (eyes, nose, mouth, hair cap) and have their left side on the image's right;
back-facing figures show only hair, have their left on the image's left, and their eyes and nose are
not labelled (v = 0), as in COCO. The figure's left side is also drawn in a darker shade (light from
the person's right); that tells the two arms (legs) apart where they cross, but it is NOT a left/right
cue after a flip (a mirror turns it into "darker = right"), so the network has to use the face.

Labels follow the COCO rules: v = 2 visible, v = 1 labelled but hidden (covered by an occluder or a
person drawn in front), v = 0 and (0, 0) outside the image (or an unseen face point);
``num_keypoints`` counts v > 0; ``bbox`` is the tight box of the person's in-image silhouette and
``area`` its pixel count (the role of the segmentation area in COCO's OKS).

The figures' poses come from ``synthetic_pose`` and their drawing from ``synthetic_painter``; this
module composes a scene (background, figures, occluders, noise) and labels it.

The images of ``synthetic_people`` and the clips of ``synthetic_video`` are drawn with these
functions and those of ``synthetic_pose`` and ``synthetic_painter``, so a change to what they draw
or label must bump ``GENERATOR_VERSION`` there (and ``VIDEO_GENERATOR_VERSION``), or
``ensure_dataset`` / ``ensure_clips`` keep serving old copies.
"""
from __future__ import annotations

from typing import List, Tuple

import cv2
import numpy as np

from .synthetic_painter import Painter, draw_person, random_color
from .synthetic_pose import sample_pose

_FACE = (0, 1, 2)  # nose, eyes: unlabelled on back-facing figures


# --- scenes -----------------------------------------------------------------------------------------
def make_background(rng: np.random.Generator, h: int, w: int, difficulty: float = 1.0) -> np.ndarray:
    """A textured (h, w, 3) uint8 BGR scene: gradient, blotchy noise or stripes, plus up to
    ``round(6 * difficulty)`` clutter shapes."""
    kind = rng.integers(3)
    c0, c1 = (rng.uniform(0, 255, 3) for _ in range(2))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == 0:
        ang = rng.uniform(0, 2 * np.pi)
        t = (xx * np.cos(ang) + yy * np.sin(ang)) / (np.hypot(h, w))
        t = (t - t.min()) / (np.ptp(t) + 1e-6)
    elif kind == 1:
        coarse = rng.uniform(0, 1, (int(rng.integers(3, 12)), int(rng.integers(3, 12)))).astype(np.float32)
        t = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    else:
        ang, period = rng.uniform(0, np.pi), rng.uniform(6, 40)
        t = 0.5 + 0.5 * np.sin((xx * np.cos(ang) + yy * np.sin(ang)) * (2 * np.pi / period))
    img = c0 + np.clip(t, 0, 1)[..., None] * (c1 - c0)
    img = np.clip(img + rng.normal(0, rng.uniform(2, 12), (h, w, 1)), 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(0, int(round(6 * difficulty)) + 1))):  # clutter: boxes, blobs, poles
        c, p = random_color(rng, 0, 255), (int(rng.integers(0, w)), int(rng.integers(0, h)))
        u = rng.random()
        if u < 0.4:
            q = (p[0] + int(rng.integers(10, w // 3)), p[1] + int(rng.integers(10, h // 3)))
            cv2.rectangle(img, p, q, c, -1)
        elif u < 0.8:
            axes = (int(rng.integers(5, w // 6)), int(rng.integers(5, h // 6)))
            cv2.ellipse(img, p, axes, float(rng.uniform(0, 180)), 0, 360, c, -1, cv2.LINE_AA)
        else:
            q = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            cv2.line(img, p, q, c, int(rng.integers(2, 10)), cv2.LINE_AA)
    return img


def _place(rng: np.random.Generator, local: np.ndarray, height: float, w: int, h: int,
           others: List[float], difficulty: float = 1.0) -> np.ndarray:
    """Pixel positions of a figure: inside the image (15 % x difficulty may be cut by the border),
    horizontally apart from the already placed figures' centres ``others`` where possible."""
    lo = local.min(0) * height - (0, 0.11 * height)  # head top above the eyes
    hi = local.max(0) * height + (0, 0.03 * height)  # shoes below the ankles
    cut = 0.3 * height if rng.random() < 0.15 * difficulty else 0.0
    x_rng = (-lo[0] - cut, w - hi[0] + cut)
    y_rng = (-lo[1] - cut, h - hi[1] + cut)
    for _ in range(10):
        tx = rng.uniform(min(x_rng), max(x_rng))
        if all(abs(tx - o) > 0.3 * height for o in others):
            break
    ty = rng.uniform(min(y_rng), max(y_rng))
    return local * height + (tx, ty)


def render_image(rng: np.random.Generator, image_size: Tuple[int, int],
                 max_people: int, difficulty: float = 1.0) -> Tuple[np.ndarray, List[dict]]:
    """One scene. ``image_size`` is (width, height); ``difficulty`` (0..1) scales the rates of the
    hard cases: back-facing figures (20 %), occluders (30 % of images), truncation, strong tilt, clutter.

    Returns:
        image: (h, w, 3) uint8 BGR.
        people: per person ``keypoints`` (17, 3) float64 [x, y, v], ``bbox`` [x, y, w, h],
            ``area`` int (silhouette pixels), ``front`` bool, and ``joints`` (18, 2) / ``layer`` int
            (drawing internals); people whose silhouette left the image are dropped.
    """
    w, h = image_size
    image = make_background(rng, h, w, difficulty)
    cover = np.zeros((h, w), dtype=np.uint8)
    paint = Painter(image, cover)
    people, centres = [], []
    for layer in range(1, int(rng.integers(1, max_people + 1)) + 1):
        front = rng.random() >= 0.2 * difficulty
        local, head_r = sample_pose(rng, front, difficulty)
        height = rng.uniform(0.5, 0.9) * h
        joints = _place(rng, local, height, w, h, centres, difficulty)
        centres.append(float(joints[11:13, 0].mean()))
        paint.layer = layer
        draw_person(paint, rng, joints, height, head_r, front)
        ys, xs = np.nonzero(cover == layer)
        if xs.size:
            people.append(dict(layer=layer, joints=joints, front=front, area=int(xs.size),
                               bbox=[int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                                     int(ys.max() - ys.min() + 1)]))
    for k in range(int(rng.integers(1, 3)) if rng.random() < 0.3 * difficulty and people else 0):
        paint.layer = 100 + k  # occluders: a box or disc over a random joint of a random person
        target = people[int(rng.integers(len(people)))]['joints'][int(rng.integers(17))]
        size = rng.uniform(0.1, 0.25) * h
        c = target + rng.uniform(-0.5, 0.5, 2) * size
        if rng.random() < 0.6:
            half = np.array([size * rng.uniform(0.5, 1.2), size * rng.uniform(0.5, 1.2)]) / 2
            paint.polygon([c - half, c + (half[0], -half[1]), c + half, c + (-half[0], half[1])],
                          random_color(rng))
        else:
            paint.circle(c, size / 2, random_color(rng))
    for p in people:
        p['keypoints'] = label_keypoints(p['joints'][:17], cover, p['layer'], p['front'])
    image = np.clip(image + rng.normal(0, rng.uniform(1, 6), image.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), 0)
    return image, people


def label_keypoints(joints: np.ndarray, cover: np.ndarray, layer: int, front: bool) -> np.ndarray:
    """COCO [x, y, v] (17, 3): v = 0 outside the image or unseen face, 1 covered by a later layer, 2 else."""
    h, w = cover.shape
    inside = (joints[:, 0] >= 0) & (joints[:, 0] <= w - 1) & (joints[:, 1] >= 0) & (joints[:, 1] <= h - 1)
    if not front:
        inside[list(_FACE)] = False
    px = np.clip(np.round(joints).astype(int), 0, (w - 1, h - 1))
    hidden = cover[px[:, 1], px[:, 0]] > layer
    v = np.where(inside, np.where(hidden, 1, 2), 0)
    xy = np.where(inside[:, None], joints, 0.0)
    return np.concatenate([xy, v[:, None]], axis=1)
