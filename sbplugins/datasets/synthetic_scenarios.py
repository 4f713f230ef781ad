"""The scenarios of the synthetic tracking clips: who walks where, each frame drawn and labelled,
and the detector's boxes.

Each clip is a scenario of the tracking problem: ``walking`` (two people side by side),
``turning`` (a walker turns round: face to back, left and right swap in the image),
``crossing`` (two people pass each other, the nearer one in front), ``occluding`` (a walker
passes behind a pillar and is hidden for a few frames), ``entering`` and ``leaving`` (people walk
in and out through the image border) and ``crowd`` (four people crossing at different depths).
A person keeps one appearance and one ground-truth track ID for the whole clip; nearer people
(larger, lower in the image) are drawn over farther ones, and joints they cover are labelled
hidden (v = 1), as in ``synthetic_drawing``.

The detection boxes are the ground-truth boxes jittered as in ``synthetic_people``, with low-score
false positives, and each person missed (no box) in ``miss_rate`` of the frames and in every frame
where less than 40 % of its body is visible.

Determinism: clip ``c`` draws only from ``np.random.default_rng([seed, c, ...])``.

``synthetic_video`` writes the clips as PoseTrack 2018 files.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from .synthetic_drawing import label_keypoints, make_background
from .synthetic_painter import Painter, draw_person
from .synthetic_people import jitter_detections
from .synthetic_pose import rotation, walk_pose

SCENARIOS = ('walking', 'turning', 'crossing', 'occluding', 'entering', 'leaving', 'crowd')
_STREAM_SCENE, _STREAM_LOOK, _STREAM_DET, _STREAM_NOISE = 0, 1, 2, 3
_VISIBLE_FOR_DETECTION = 0.4  # the detector misses people with less of their body in view


def scenario_people(name: str, rng: np.random.Generator, w: int, h: int) -> List[dict]:
    """The people of a scenario: start x, speed (px/frame), feet y, height (px), facing, turn frame,
    stride; positions and speeds are perturbed by ``rng`` so seeds give different clips."""
    def person(x0, vx, feet, height, front=True, turn_at=None, stride=1.0):
        return dict(x0=x0 + rng.uniform(-8, 8), vx=vx * rng.uniform(0.9, 1.1),
                    feet=feet * h + rng.uniform(-4, 4), height=height * h * rng.uniform(0.95, 1.05),
                    front=front, turn_at=turn_at, stride=stride)
    if name == 'walking':
        return [person(0.15 * w, 2.0, 0.95, 0.62), person(0.55 * w, 1.5, 0.8, 0.5, front=False)]
    if name == 'turning':
        return [person(0.25 * w, 3.0, 0.95, 0.65, turn_at=18), person(0.8 * w, 0.0, 0.82, 0.52, stride=0.3)]
    if name == 'crossing':
        return [person(0.1 * w, 5.0, 0.97, 0.68), person(0.9 * w, -5.0, 0.86, 0.6)]
    if name == 'occluding':
        return [person(0.08 * w, 4.0, 0.92, 0.6), person(0.85 * w, 0.0, 0.97, 0.66, stride=0.2)]
    if name == 'entering':
        return [person(-0.15 * w, 4.0, 0.95, 0.64), person(1.15 * w + 40, -4.0, 0.85, 0.55)]
    if name == 'leaving':
        return [person(0.6 * w, 4.5, 0.95, 0.64), person(0.35 * w, -4.0, 0.85, 0.55, front=False)]
    if name == 'crowd':
        return [person(0.05 * w, 4.5, 0.98, 0.68), person(0.95 * w, -4.0, 0.9, 0.6),
                person(0.3 * w, 2.5, 0.8, 0.5, front=False), person(0.75 * w, -3.0, 0.86, 0.56)]
    raise ValueError(f'unknown scenario {name!r}; known: {SCENARIOS}')


def scenario_occluders(name: str, w: int, h: int) -> List[Tuple[np.ndarray, Tuple[int, int, int]]]:
    """Static occluders (polygon, BGR colour) drawn over the people."""
    if name != 'occluding':
        return []
    x0, x1 = 0.42 * w, 0.6 * w
    return [(np.array([[x0, 0], [x1, 0], [x1, h], [x0, h]]), (90, 90, 110))]


def render_clip(name: str, num_frames: int, image_size: Tuple[int, int], seed: int,
                clip_index: int) -> Tuple[List[np.ndarray], List[List[dict]]]:
    """Frames and per-frame people of one scenario clip.

    Returns:
        frames: ``num_frames`` (h, w, 3) uint8 BGR images.
        people: per frame, per person in view: ``track_id``, ``keypoints`` (17, 3) [x, y, v],
            ``bbox`` [x, y, w, h] of the visible silhouette, ``area``, ``bbox_head`` [x, y, w, h],
            ``visible_fraction`` (visible pixels / pixels drawn unoccluded).
    """
    w, h = image_size
    scene_rng = np.random.default_rng([seed, clip_index, _STREAM_SCENE])
    background = make_background(scene_rng, h, w, difficulty=0.5)
    people = scenario_people(name, scene_rng, w, h)
    occluders = scenario_occluders(name, w, h)
    frames, labels = [], []
    for t in range(num_frames):
        image, cover = background.copy(), np.zeros((h, w), np.uint8)
        paint = Painter(image, cover)
        placed = []
        for pid, p in enumerate(people):
            turned = p['turn_at'] is not None and t >= p['turn_at']
            x = p['x0'] + p['vx'] * (min(t, p['turn_at']) if p['turn_at'] is not None else t)
            if turned:
                x -= p['vx'] * (t - p['turn_at'])
            front = p['front'] != turned
            local, head_r = walk_pose(0.55 * t + pid, front, stride=p['stride'])
            local = local @ rotation(2.0 * np.sin(0.3 * t + pid)).T  # a little sway
            joints = local * p['height'] + (x, p['feet'] - 0.49 * p['height'])
            placed.append((p['height'], pid, joints, head_r, front))
        solo_area = {}
        for layer, (height, pid, joints, head_r, front) in enumerate(sorted(placed, key=lambda q: q[0]), 1):
            alone = Painter(np.zeros((h, w, 3), np.uint8), np.zeros((h, w), np.uint8))
            alone.layer = 1
            draw_person(alone, np.random.default_rng([seed, clip_index, _STREAM_LOOK, pid]),
                        joints, height, head_r, front)
            solo_area[pid] = int((alone.cover > 0).sum())
            paint.layer = layer
            draw_person(paint, np.random.default_rng([seed, clip_index, _STREAM_LOOK, pid]),
                        joints, height, head_r, front)
        for k, (poly, color) in enumerate(occluders):
            paint.layer = 100 + k
            paint.polygon(poly, color)
        frame_people = []
        for layer, (height, pid, joints, head_r, front) in enumerate(sorted(placed, key=lambda q: q[0]), 1):
            ys, xs = np.nonzero(cover == layer)
            if xs.size == 0:
                continue
            r = head_r * height
            frame_people.append(dict(
                track_id=pid, keypoints=label_keypoints(joints[:17], cover, layer, front),
                bbox=[int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)],
                area=int(xs.size), bbox_head=[float(joints[17, 0] - r), float(joints[17, 1] - r), 2 * r, 2 * r],
                visible_fraction=xs.size / max(1, solo_area[pid])))
        noise_rng = np.random.default_rng([seed, clip_index, _STREAM_NOISE, t])
        image = np.clip(image + noise_rng.normal(0, 2.0, image.shape), 0, 255).astype(np.uint8)
        frames.append(image)
        labels.append(sorted(frame_people, key=lambda q: q['track_id']))
    return frames, labels


def clip_detections(people_per_frame: List[List[dict]], image_ids: Sequence[int],
                    image_size: Tuple[int, int], seed: int, clip_index: int,
                    miss_rate: float) -> List[dict]:
    """Detector-like boxes for every frame (COCO detection schema, see the module docstring)."""
    dets = []
    for t, (people, image_id) in enumerate(zip(people_per_frame, image_ids)):
        rng = np.random.default_rng([seed, clip_index, _STREAM_DET, t])
        seen = [p for p in people if p['visible_fraction'] >= _VISIBLE_FOR_DETECTION
                and rng.random() >= miss_rate]
        dets += jitter_detections(rng, image_id, seen, image_size)
    return dets
