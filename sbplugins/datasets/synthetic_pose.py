"""Poses of the synthetic cartoon people: joint positions from a 2-D kinematic skeleton.

Adult proportions in units of body height (y down, hip centre at the origin), the 17 COCO joints
then the head centre. ``sample_pose`` draws the varied poses of the still images
(``synthetic_drawing``), ``walk_pose`` the walking cycle of the video clips
(``synthetic_scenarios``). A change to either changes what the generators draw: bump
``GENERATOR_VERSION`` / ``VIDEO_GENERATOR_VERSION`` (see ``synthetic_drawing``).
"""
from __future__ import annotations

from typing import Tuple

import numpy as np


def rotation(deg: float) -> np.ndarray:
    """(2, 2) matrix rotating column vectors by ``deg`` degrees (clockwise on screen, y down)."""
    r = np.deg2rad(deg)
    return np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])


def limb_direction(deg: float, outward: float) -> np.ndarray:
    """Unit vector ``deg`` degrees away from straight down, towards ``outward`` (+1 = image right)."""
    r = np.deg2rad(deg)
    return np.array([outward * np.sin(r), np.cos(r)])


def trunk(side: float, yaw: float, torso: float) -> np.ndarray:
    """(18, 2) zeros with the shoulders and hips set: ``side`` is the image-x sign of the
    person's left, ``yaw`` narrows shoulders and hips, ``torso`` is the shoulder height."""
    j = np.zeros((18, 2))
    for s, (sh, hip) in ((side, (5, 11)), (-side, (6, 12))):
        j[sh] = (s * 0.115 * yaw, -torso)
        j[hip] = (s * 0.085 * yaw, 0.0)
    return j


def face_points(side: float, yaw: float, head_r: float) -> np.ndarray:
    """(5, 2) nose, eyes and ears about the head centre, before the head's tilt."""
    return np.array([[0, 0.3], [side * 0.38 * yaw, -0.12], [-side * 0.38 * yaw, -0.12],
                     [side * 0.95, 0.05], [-side * 0.95, 0.05]]) * head_r


def sample_pose(rng: np.random.Generator, front: bool, difficulty: float = 1.0) -> Tuple[np.ndarray, float]:
    """Joint positions of one figure in body-height units (y down, hip centre at the origin).

    ``difficulty`` scales the share of strongly tilted figures (10 % at 1.0).

    Returns:
        points: (18, 2) float64: the 17 COCO joints in order, then the head centre.
        head_radius: the head circle's radius in the same units.
    """
    side = 1.0 if front else -1.0  # image-x sign of the person's left
    yaw = rng.uniform(0.6, 1.0)  # body turned away from the camera narrows shoulders and hips
    torso = rng.uniform(0.28, 0.31)
    head_r = rng.uniform(0.064, 0.072)  # a little large, so the face points are learnable
    j = trunk(side, yaw, torso)
    for s, (sh, el, wr) in ((side, (5, 7, 9)), (-side, (6, 8, 10))):
        u = rng.random()  # arms down, half raised or above the shoulder
        abduct = rng.normal(12, 12) if u < 0.5 else rng.uniform(20, 100) if u < 0.8 else rng.uniform(100, 175)
        flex = rng.uniform(0, 40) if rng.random() < 0.6 else rng.uniform(0, 150)
        flex *= -0.5 if rng.random() < 0.2 else 1.0  # mostly bent towards the body
        j[el] = j[sh] + 0.165 * rng.uniform(0.8, 1.0) * limb_direction(abduct, s)
        j[wr] = j[el] + 0.15 * rng.uniform(0.8, 1.0) * limb_direction(abduct - flex, s)
    for s, (hip, kn, an) in ((side, (11, 13, 15)), (-side, (12, 14, 16))):
        abduct = rng.normal(4, 6) if rng.random() < 0.75 else rng.uniform(-25, 60)
        bend = (rng.uniform(0, 15) if rng.random() < 0.7 else rng.uniform(0, 80)) * rng.choice((-1, 1))
        j[kn] = j[hip] + 0.245 * rng.uniform(0.8, 1.0) * limb_direction(abduct, s)
        j[an] = j[kn] + 0.245 * rng.uniform(0.8, 1.0) * limb_direction(abduct + bend, s)
    neck_top = np.array([0.0, -torso - 0.045])
    tilt = rotation(rng.normal(0, 10))
    head_c = neck_top + tilt @ (0.0, -head_r)
    face = face_points(side, yaw, head_r)
    j[:5] = head_c + face @ tilt.T
    j[17] = head_c
    upper = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17]  # the upper body leans about the hips
    j[upper] = j[upper] @ rotation(rng.normal(0, 8)).T
    spin = rng.normal(0, 8) if rng.random() >= 0.1 * difficulty else rng.uniform(-45, 45)
    return j @ rotation(spin).T, head_r


def walk_pose(phase: float, front: bool, yaw: float = 0.85, stride: float = 1.0) -> Tuple[np.ndarray, float]:
    """Joints of a walking figure in body-height units (y down, hip centre at the origin).

    ``phase`` (radians) drives the leg and arm swing; ``stride`` scales it (0: standing).

    Returns:
        (18, 2) the 17 COCO joints then the head centre, and the head radius.
    """
    side = 1.0 if front else -1.0
    torso, head_r = 0.295, 0.068
    swing = np.sin(phase) * stride
    j = trunk(side, yaw, torso)
    for s, sign, (sh, el, wr) in ((side, 1, (5, 7, 9)), (-side, -1, (6, 8, 10))):
        abduct = 12 - 10 * sign * swing
        j[el] = j[sh] + 0.16 * limb_direction(abduct, s)
        j[wr] = j[el] + 0.145 * limb_direction(abduct - 20 - 15 * max(0.0, sign * swing), s)
    for s, sign, (hip, kn, an) in ((side, 1, (11, 13, 15)), (-side, -1, (12, 14, 16))):
        abduct = 4 + 14 * sign * swing
        j[kn] = j[hip] + 0.24 * limb_direction(abduct, s)
        j[an] = j[kn] + 0.24 * limb_direction(abduct - 18 * max(0.0, -sign * swing), s)
    head_c = np.array([0.0, -torso - 0.045 - head_r])
    face = face_points(side, yaw, head_r)
    j[:5] = head_c + face
    j[17] = head_c
    return j, head_r
