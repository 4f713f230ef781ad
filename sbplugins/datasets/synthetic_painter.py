"""Drawing the synthetic cartoon people: the painter (colour image + cover map) and one figure.

``draw_person`` paints a figure from its joints (``synthetic_pose``) with OpenCV: clothes, skin,
face or hair, its left side in a darker shade (the cue that tells crossing limbs apart, see
``synthetic_drawing``). ``Painter`` also records which layer is on top of each pixel, from which
``synthetic_drawing`` and ``synthetic_scenarios`` derive silhouettes and hidden joints. A change to
what is drawn must bump ``GENERATOR_VERSION`` / ``VIDEO_GENERATOR_VERSION``.
"""
from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

_SUBPIXEL = 4  # cv2 fixed-point drawing: coordinates carry 4 fractional bits (1/16 px)
_LEFT_SHADE = 0.62  # brightness factor of the figure's left side (tells crossing limbs apart)


class Painter:
    """Draws every shape on the colour image and, with the layer id, on the cover map.

    The cover map (H, W) uint8 records which layer (person or occluder) is on top of each pixel; it
    gives each person's silhouette and tells which joints later layers hide.
    """

    def __init__(self, image: np.ndarray, cover: np.ndarray):
        self.image, self.cover, self.layer = image, cover, 0

    @staticmethod
    def _pt(p) -> Tuple[int, int]:
        return int(round(p[0] * 16)), int(round(p[1] * 16))

    def line(self, a, b, color, width: float) -> None:
        t = max(1, int(round(width)))
        cv2.line(self.image, self._pt(a), self._pt(b), color, t, cv2.LINE_AA, _SUBPIXEL)
        cv2.line(self.cover, self._pt(a), self._pt(b), self.layer, t, cv2.LINE_8, _SUBPIXEL)

    def circle(self, c, radius: float, color) -> None:
        r = max(16, int(round(radius * 16)))
        cv2.circle(self.image, self._pt(c), r, color, -1, cv2.LINE_AA, _SUBPIXEL)
        cv2.circle(self.cover, self._pt(c), r, self.layer, -1, cv2.LINE_8, _SUBPIXEL)

    def polygon(self, pts, color) -> None:
        p = np.array([self._pt(q) for q in pts], dtype=np.int32)
        cv2.fillConvexPoly(self.image, p, color, cv2.LINE_AA, _SUBPIXEL)
        cv2.fillConvexPoly(self.cover, p, self.layer, cv2.LINE_8, _SUBPIXEL)

    def half_disc(self, c, radius: float, angle: float, color) -> None:
        """The upper half of a disc rotated by ``angle`` degrees (hair over the forehead)."""
        r = max(16, int(round(radius * 16)))
        cv2.ellipse(self.image, self._pt(c), (r, r), angle, 180, 360, color, -1, cv2.LINE_AA, _SUBPIXEL)
        cv2.ellipse(self.cover, self._pt(c), (r, r), angle, 180, 360, self.layer, -1, cv2.LINE_8, _SUBPIXEL)


def _shade(color, left: bool) -> Tuple[int, ...]:
    return tuple(int(v * _LEFT_SHADE) for v in color) if left else tuple(int(v) for v in color)


def random_color(rng: np.random.Generator, lo: int = 20, hi: int = 235) -> Tuple[int, ...]:
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


_SKIN_TONES = np.array([[60, 80, 120], [90, 125, 175], [120, 160, 210], [150, 185, 230],
                        [45, 60, 95], [110, 140, 190]])  # BGR


def draw_person(paint: Painter, rng: np.random.Generator, joints: np.ndarray, height: float,
                head_r: float, front: bool) -> None:
    """Draw one figure; ``joints`` (18, 2) from ``sample_pose`` in image pixels, ``height`` the body
    height in pixels, ``head_r`` the head radius in body heights."""
    H = height
    skin = _SKIN_TONES[rng.integers(len(_SKIN_TONES))] + rng.integers(-12, 13, 3)
    skin = tuple(int(v) for v in np.clip(skin, 0, 255))
    shirt, trousers = random_color(rng), random_color(rng, 10, 200)
    hair, shoes = random_color(rng, 0, 90), random_color(rng, 0, 110)
    short_sleeves, shorts = rng.random() < 0.6, rng.random() < 0.35
    # legs first (behind the torso): thigh, shin, knee cap, shoe
    for left, (hip, kn, an) in ((True, (11, 13, 15)), (False, (12, 14, 16))):
        leg_col = _shade(trousers, left)
        shin_col = _shade(skin if shorts else trousers, left)
        paint.line(joints[hip], joints[kn], leg_col, 0.088 * H)
        paint.circle(joints[kn], 0.04 * H, leg_col)
        paint.line(joints[kn], joints[an], shin_col, 0.068 * H)
        shin = joints[an] - joints[kn]
        toe = joints[an] + 0.045 * H * shin / (np.linalg.norm(shin) + 1e-6)
        paint.line(joints[an], toe, _shade(shoes, left), 0.06 * H)
    # torso: each half in its own shade; hips band in the trousers' colour
    mid_sh, mid_hip = (joints[5] + joints[6]) / 2, (joints[11] + joints[12]) / 2
    for left, (sh, hip) in ((True, (5, 11)), (False, (6, 12))):
        out_sh = joints[sh] + 0.25 * (joints[sh] - mid_sh)
        out_hip = joints[hip] + 0.45 * (joints[hip] - mid_hip)
        paint.polygon([mid_sh, out_sh, out_hip, mid_hip], _shade(shirt, left))
        paint.line(joints[hip], mid_hip, _shade(trousers, left), 0.088 * H)
    if front:  # a V neckline: a second, larger facing cue than the eyes
        half_sh = (joints[5] - joints[6]) / 2
        paint.polygon([mid_sh + 0.3 * half_sh, mid_sh - 0.3 * half_sh,
                       mid_sh + 0.28 * (mid_hip - mid_sh)], skin)
    # neck and head (ears first so they peek out at the sides)
    head_c = joints[17]
    paint.line(mid_sh, head_c, skin, 0.045 * H)
    for left, ear in ((True, 3), (False, 4)):
        paint.circle(joints[ear], 0.24 * head_r * H, _shade(skin, left))
    paint.circle(head_c, head_r * H, skin)
    across = joints[3] - joints[4] if front else joints[4] - joints[3]  # image-right along the face
    angle = float(np.degrees(np.arctan2(across[1], across[0])))
    if front:  # hair cap above the eyes, then eyes (white and pupil), nose, mouth
        up = np.array([np.sin(np.radians(angle)), -np.cos(np.radians(angle))])
        paint.half_disc(head_c + 0.35 * head_r * H * up, head_r * H * 1.02, angle, hair)
        for eye in (1, 2):
            paint.circle(joints[eye], 0.2 * head_r * H, (235, 235, 235))
            paint.circle(joints[eye], 0.11 * head_r * H, (25, 25, 25))
        paint.circle(joints[0], 0.14 * head_r * H, tuple(int(v * 0.65) for v in skin))
        mouth = joints[0] + (joints[0] - (joints[1] + joints[2]) / 2) * 0.8
        paint.circle(mouth, 0.09 * head_r * H, (40, 40, 150))
    else:
        paint.circle(head_c, head_r * H * 0.97, hair)
    # arms over the torso: upper arm, forearm, hand
    for left, (sh, el, wr) in ((True, (5, 7, 9)), (False, (6, 8, 10))):
        fore = _shade(skin if short_sleeves else shirt, left)
        paint.line(joints[sh], joints[el], _shade(shirt, left), 0.06 * H)
        paint.circle(joints[el], 0.027 * H, fore)
        paint.line(joints[el], joints[wr], fore, 0.048 * H)
        d = joints[wr] - joints[el]
        paint.circle(joints[wr] + 0.027 * H * d / (np.linalg.norm(d) + 1e-6), 0.03 * H, _shade(skin, left))
