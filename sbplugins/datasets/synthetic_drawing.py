"""Cartoon people on textured scenes for the synthetic datasets: pose, drawing, scenes and labels.

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

The images of ``synthetic_people`` and the clips of ``synthetic_video`` are drawn with these
functions, so a change to what they draw or label must bump ``GENERATOR_VERSION`` there (and
``VIDEO_GENERATOR_VERSION``), or ``ensure_dataset`` / ``ensure_clips`` keep serving old copies.
"""
from __future__ import annotations

from typing import List, Tuple

import cv2
import numpy as np

_SUBPIXEL = 4  # cv2 fixed-point drawing: coordinates carry 4 fractional bits (1/16 px)
_LEFT_SHADE = 0.62  # brightness factor of the figure's left side (tells crossing limbs apart)
_FACE = (0, 1, 2)  # nose, eyes: unlabelled on back-facing figures


# --- pose -------------------------------------------------------------------------------------------
def _rot(deg: float) -> np.ndarray:
    r = np.deg2rad(deg)
    return np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])


def _down(deg: float, outward: float) -> np.ndarray:
    """Unit vector ``deg`` degrees away from straight down, towards ``outward`` (+1 = image right)."""
    r = np.deg2rad(deg)
    return np.array([outward * np.sin(r), np.cos(r)])


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
    j = np.zeros((18, 2))
    for s, (sh, hip) in ((side, (5, 11)), (-side, (6, 12))):
        j[sh] = (s * 0.115 * yaw, -torso)
        j[hip] = (s * 0.085 * yaw, 0.0)
    for s, (sh, el, wr) in ((side, (5, 7, 9)), (-side, (6, 8, 10))):
        u = rng.random()  # arms down, half raised or above the shoulder
        abduct = rng.normal(12, 12) if u < 0.5 else rng.uniform(20, 100) if u < 0.8 else rng.uniform(100, 175)
        flex = rng.uniform(0, 40) if rng.random() < 0.6 else rng.uniform(0, 150)
        flex *= -0.5 if rng.random() < 0.2 else 1.0  # mostly bent towards the body
        j[el] = j[sh] + 0.165 * rng.uniform(0.8, 1.0) * _down(abduct, s)
        j[wr] = j[el] + 0.15 * rng.uniform(0.8, 1.0) * _down(abduct - flex, s)
    for s, (hip, kn, an) in ((side, (11, 13, 15)), (-side, (12, 14, 16))):
        abduct = rng.normal(4, 6) if rng.random() < 0.75 else rng.uniform(-25, 60)
        bend = (rng.uniform(0, 15) if rng.random() < 0.7 else rng.uniform(0, 80)) * rng.choice((-1, 1))
        j[kn] = j[hip] + 0.245 * rng.uniform(0.8, 1.0) * _down(abduct, s)
        j[an] = j[kn] + 0.245 * rng.uniform(0.8, 1.0) * _down(abduct + bend, s)
    neck_top = np.array([0.0, -torso - 0.045])
    tilt = _rot(rng.normal(0, 10))
    head_c = neck_top + tilt @ (0.0, -head_r)
    face = np.array([[0, 0.3], [side * 0.38 * yaw, -0.12], [-side * 0.38 * yaw, -0.12],
                     [side * 0.95, 0.05], [-side * 0.95, 0.05]]) * head_r
    j[:5] = head_c + face @ tilt.T
    j[17] = head_c
    upper = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17]  # the upper body leans about the hips
    j[upper] = j[upper] @ _rot(rng.normal(0, 8)).T
    spin = rng.normal(0, 8) if rng.random() >= 0.1 * difficulty else rng.uniform(-45, 45)
    return j @ _rot(spin).T, head_r


# --- drawing ----------------------------------------------------------------------------------------
class _Painter:
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


def _random_color(rng: np.random.Generator, lo: int = 20, hi: int = 235) -> Tuple[int, ...]:
    return tuple(int(v) for v in rng.integers(lo, hi, 3))


_SKIN_TONES = np.array([[60, 80, 120], [90, 125, 175], [120, 160, 210], [150, 185, 230],
                        [45, 60, 95], [110, 140, 190]])  # BGR


def draw_person(paint: _Painter, rng: np.random.Generator, joints: np.ndarray, height: float,
                head_r: float, front: bool) -> None:
    """Draw one figure; ``joints`` (18, 2) from ``sample_pose`` in image pixels, ``height`` the body
    height in pixels, ``head_r`` the head radius in body heights."""
    H = height
    skin = _SKIN_TONES[rng.integers(len(_SKIN_TONES))] + rng.integers(-12, 13, 3)
    skin = tuple(int(v) for v in np.clip(skin, 0, 255))
    shirt, trousers = _random_color(rng), _random_color(rng, 10, 200)
    hair, shoes = _random_color(rng, 0, 90), _random_color(rng, 0, 110)
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
        c, p = _random_color(rng, 0, 255), (int(rng.integers(0, w)), int(rng.integers(0, h)))
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
    paint = _Painter(image, cover)
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
                          _random_color(rng))
        else:
            paint.circle(c, size / 2, _random_color(rng))
    for p in people:
        p['keypoints'] = _label(p['joints'][:17], cover, p['layer'], p['front'])
    image = np.clip(image + rng.normal(0, rng.uniform(1, 6), image.shape), 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        image = cv2.GaussianBlur(image, (3, 3), 0)
    return image, people


def _label(joints: np.ndarray, cover: np.ndarray, layer: int, front: bool) -> np.ndarray:
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
