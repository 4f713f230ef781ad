"""Synthetic video clips for pose tracking: the cartoon people of ``synthetic_drawing``, walking.

Each clip is a scenario of the tracking problem: ``walking`` (two people side by side),
``turning`` (a walker turns round: face to back, left and right swap in the image),
``crossing`` (two people pass each other, the nearer one in front), ``occluding`` (a walker
passes behind a pillar and is hidden for a few frames), ``entering`` and ``leaving`` (people walk
in and out through the image border) and ``crowd`` (four people crossing at different depths).
A person keeps one appearance and one ground-truth track ID for the whole clip; nearer people
(larger, lower in the image) are drawn over farther ones, and joints they cover are labelled
hidden (v = 1), as in ``synthetic_drawing``.

Files (``generate_clips``), laid out as PoseTrack 2018:

    <root>/images/val/<seq>/000000.jpg ...    frames
    <root>/videos/<seq>.mp4                     the same frames as a video (mp4v, or MJPG .avi)
    <root>/annotations/val/<seq>.json           PoseTrack 2018 annotations (track_id per person)
    <root>/person_detection_results/<seq>.json  jittered ground-truth boxes, COCO detection schema
    <root>/meta.json                            what the files were generated from

With ``ignore_occluders=True`` every frame's annotation names the clip's occluders (the pillar of
``occluding``) as PoseTrack 2018 ignore regions (``ignore_regions_x`` / ``ignore_regions_y``), so
the evaluation drops the joints behind and on them, as it does for PoseTrack's unannotated
crowds; off by default (the clips then have no ignore regions).

Image ids follow PoseTrack 2018: ``int('1' + vid_id + frame as 4 digits)`` with a 6-digit
``vid_id``. The detection boxes are the ground-truth boxes jittered as in ``synthetic_people``,
with low-score false positives, and each person missed (no box) in ``miss_rate`` of the frames
and in every frame where less than 40 % of its body is visible.

Determinism: clip ``c`` draws only from ``np.random.default_rng([seed, c, ...])``.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .synthetic_drawing import _label, _Painter, _rot, draw_person, make_background
from .synthetic_people import PERSON_CATEGORY, jitter_detections, swap_into_place

VIDEO_GENERATOR_VERSION = 1
SCENARIOS = ('walking', 'turning', 'crossing', 'occluding', 'entering', 'leaving', 'crowd')
_STREAM_SCENE, _STREAM_LOOK, _STREAM_DET, _STREAM_NOISE = 0, 1, 2, 3
_VISIBLE_FOR_DETECTION = 0.4  # the detector misses people with less of their body in view


def posetrack_image_id(vid_id: int, frame: int) -> int:
    """PoseTrack 2018's image id: '1' + 6-digit video id + 4-digit frame index."""
    return int(f'1{vid_id:06d}{frame:04d}')


def walk_pose(phase: float, front: bool, yaw: float = 0.85, stride: float = 1.0) -> Tuple[np.ndarray, float]:
    """Joints of a walking figure in body-height units (y down, hip centre at the origin).

    ``phase`` (radians) drives the leg and arm swing; ``stride`` scales it (0: standing).

    Returns:
        (18, 2) the 17 COCO joints then the head centre, and the head radius.
    """
    side = 1.0 if front else -1.0
    torso, head_r = 0.295, 0.068
    swing = np.sin(phase) * stride
    j = np.zeros((18, 2))
    for s, (sh, hip) in ((side, (5, 11)), (-side, (6, 12))):
        j[sh] = (s * 0.115 * yaw, -torso)
        j[hip] = (s * 0.085 * yaw, 0.0)

    def down(deg, outward):
        r = np.deg2rad(deg)
        return np.array([outward * np.sin(r), np.cos(r)])

    for s, sign, (sh, el, wr) in ((side, 1, (5, 7, 9)), (-side, -1, (6, 8, 10))):
        abduct = 12 - 10 * sign * swing
        j[el] = j[sh] + 0.16 * down(abduct, s)
        j[wr] = j[el] + 0.145 * down(abduct - 20 - 15 * max(0.0, sign * swing), s)
    for s, sign, (hip, kn, an) in ((side, 1, (11, 13, 15)), (-side, -1, (12, 14, 16))):
        abduct = 4 + 14 * sign * swing
        j[kn] = j[hip] + 0.24 * down(abduct, s)
        j[an] = j[kn] + 0.24 * down(abduct - 18 * max(0.0, -sign * swing), s)
    head_c = np.array([0.0, -torso - 0.045 - head_r])
    face = np.array([[0, 0.3], [side * 0.38 * yaw, -0.12], [-side * 0.38 * yaw, -0.12],
                     [side * 0.95, 0.05], [-side * 0.95, 0.05]]) * head_r
    j[:5] = head_c + face
    j[17] = head_c
    return j, head_r


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


def _occluders(name: str, w: int, h: int) -> List[Tuple[np.ndarray, Tuple[int, int, int]]]:
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
    occluders = _occluders(name, w, h)
    frames, labels = [], []
    for t in range(num_frames):
        image, cover = background.copy(), np.zeros((h, w), np.uint8)
        paint = _Painter(image, cover)
        placed = []
        for pid, p in enumerate(people):
            turned = p['turn_at'] is not None and t >= p['turn_at']
            x = p['x0'] + p['vx'] * (min(t, p['turn_at']) if p['turn_at'] is not None else t)
            if turned:
                x -= p['vx'] * (t - p['turn_at'])
            front = p['front'] != turned
            local, head_r = walk_pose(0.55 * t + pid, front, stride=p['stride'])
            local = local @ _rot(2.0 * np.sin(0.3 * t + pid)).T  # a little sway
            joints = local * p['height'] + (x, p['feet'] - 0.49 * p['height'])
            placed.append((p['height'], pid, joints, head_r, front))
        solo_area = {}
        for layer, (height, pid, joints, head_r, front) in enumerate(sorted(placed, key=lambda q: q[0]), 1):
            alone = _Painter(np.zeros((h, w, 3), np.uint8), np.zeros((h, w), np.uint8))
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
                track_id=pid, keypoints=_label(joints[:17], cover, layer, front),
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


def posetrack_annotation(seq: str, vid_id: int, people_per_frame: List[List[dict]],
                         image_size: Tuple[int, int], ignore_regions: Sequence[np.ndarray] = ()
                         ) -> dict:
    """The PoseTrack 2018 annotation dict of one clip (every frame labelled); ``ignore_regions``
    ((N, 2) polygons, x, y) are written into every frame."""
    images, annotations = [], []
    regions_x = [[round(float(x), 2) for x in r[:, 0]] for r in ignore_regions]
    regions_y = [[round(float(y), 2) for y in r[:, 1]] for r in ignore_regions]
    n = len(people_per_frame)
    for t, people in enumerate(people_per_frame):
        image_id = posetrack_image_id(vid_id, t)
        images.append(dict(id=image_id, frame_id=image_id, vid_id=f'{vid_id:06d}', nframes=n,
                           file_name=f'images/val/{seq}/{t:06d}.jpg', is_labeled=True,
                           width=image_size[0], height=image_size[1],
                           ignore_regions_x=regions_x, ignore_regions_y=regions_y))
        for p in people:
            k = p['keypoints']
            annotations.append(dict(
                id=image_id * 100 + p['track_id'], image_id=image_id, track_id=int(p['track_id']),
                category_id=1, iscrowd=0,
                keypoints=[round(float(v), 2) if i % 3 < 2 else int(v) for i, v in enumerate(k.ravel())],
                num_keypoints=int((k[:, 2] > 0).sum()), bbox=[float(v) for v in p['bbox']],
                bbox_head=[round(float(v), 2) for v in p['bbox_head']], area=float(p['area'])))
    return dict(images=images, annotations=annotations, categories=[PERSON_CATEGORY])


def clip_paths(root: str, seq: str) -> Dict[str, str]:
    return dict(images=os.path.join(root, 'images', 'val', seq),
                video=os.path.join(root, 'videos', f'{seq}.mp4'),
                ann=os.path.join(root, 'annotations', 'val', f'{seq}.json'),
                det=os.path.join(root, 'person_detection_results', f'{seq}.json'))


def _write_video(path: str, frames: List[np.ndarray], fps: float) -> str:
    """Write ``frames`` as ``path`` (.mp4), or as .avi where there is no MP4 encoder."""
    from sbplugins.video_io import open_video_writer
    writer, out = open_video_writer(os.path.splitext(path)[0], fps, (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return str(out)


def generate_clips(root: str, scenarios: Sequence[str] = SCENARIOS, num_frames: int = 40,
                   image_size: Tuple[int, int] = (320, 256), seed: int = 0, fps: float = 10.0,
                   miss_rate: float = 0.05, write_video: bool = True,
                   ignore_occluders: bool = False) -> Dict[str, Dict[str, str]]:
    """Render the clips under ``root`` (see the module docstring); returns ``seq -> clip_paths``.
    ``ignore_occluders``: write each clip's occluders as ignore regions.

    Sequence names are ``<vid_id>_<scenario>`` with ``vid_id`` = ``seed * 100 + index + 1``.
    """
    out = {}
    size = (int(image_size[0]), int(image_size[1]))
    for index, name in enumerate(scenarios):
        vid_id = seed * 100 + index + 1
        seq = f'{vid_id:06d}_{name}'
        paths = clip_paths(root, seq)
        for key in ('images',):
            os.makedirs(paths[key], exist_ok=True)
        for key in ('video', 'ann', 'det'):
            os.makedirs(os.path.dirname(paths[key]), exist_ok=True)
        frames, people = render_clip(name, num_frames, size, seed, index)
        for t, frame in enumerate(frames):
            ok, buf = cv2.imencode('.jpg', frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
            if not ok:
                raise RuntimeError(f'JPEG encoding failed for {seq} frame {t}')
            with open(os.path.join(paths['images'], f'{t:06d}.jpg'), 'wb') as f:
                f.write(buf.tobytes())
        if write_video:
            paths['video'] = _write_video(paths['video'], frames, fps)
        regions = [poly for poly, _ in _occluders(name, *size)] if ignore_occluders else []
        ann = posetrack_annotation(seq, vid_id, people, size, regions)
        with open(paths['ann'], 'w') as f:
            json.dump(ann, f, separators=(',', ':'))
        ids = [im['id'] for im in ann['images']]
        with open(paths['det'], 'w') as f:
            json.dump(clip_detections(people, ids, size, seed, index, miss_rate), f, separators=(',', ':'))
        out[seq] = paths
    return out


def clips_meta(scenarios: Sequence[str], num_frames: int, image_size: Tuple[int, int], seed: int,
               fps: float, miss_rate: float, ignore_occluders: bool = False) -> dict:
    return dict(generator_version=VIDEO_GENERATOR_VERSION, scenarios=list(scenarios),
                num_frames=int(num_frames), image_size=[int(v) for v in image_size], seed=int(seed),
                fps=float(fps), miss_rate=float(miss_rate), ignore_occluders=bool(ignore_occluders))


def ensure_clips(root: str, scenarios: Sequence[str] = SCENARIOS, num_frames: int = 40,
                 image_size: Tuple[int, int] = (320, 256), seed: int = 0, fps: float = 10.0,
                 miss_rate: float = 0.05, ignore_occluders: bool = False
                 ) -> Dict[str, Dict[str, str]]:
    """``generate_clips`` unless ``root/meta.json`` records the same arguments; written to a
    temporary sibling and renamed into place (an interrupted run leaves nothing half-written).
    An existing, non-empty ``root`` without a ``meta.json`` is refused."""
    root = os.path.abspath(root)
    wanted = clips_meta(scenarios, num_frames, image_size, seed, fps, miss_rate, ignore_occluders)
    meta_path = os.path.join(root, 'meta.json')
    if _read_json(meta_path) == wanted:
        return _existing_paths(root, wanted)
    if os.path.exists(root) and not os.path.isfile(meta_path) and os.listdir(root):
        raise FileExistsError(f'{root!r} exists but has no meta.json of the clip generator; '
                              f'refusing to replace it')
    parent = os.path.dirname(root)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(root) + '.tmp-', dir=parent)
    os.chmod(tmp, 0o755)
    try:
        generate_clips(tmp, scenarios, num_frames, image_size, seed, fps, miss_rate,
                       ignore_occluders=ignore_occluders)
        with open(os.path.join(tmp, 'meta.json'), 'w') as f:
            json.dump(wanted, f)
        swap_into_place(tmp, root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if _read_json(meta_path) == wanted:
            return _existing_paths(root, wanted)
        raise
    return _existing_paths(root, wanted)


def _existing_paths(root: str, meta: dict) -> Dict[str, Dict[str, str]]:
    out = {}
    for index, name in enumerate(meta['scenarios']):
        seq = f'{meta["seed"] * 100 + index + 1:06d}_{name}'
        paths = clip_paths(root, seq)
        if not os.path.exists(paths['video']):
            paths['video'] = os.path.splitext(paths['video'])[0] + '.avi'
        out[seq] = paths
    return out


def _read_json(path: str) -> Optional[dict]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
