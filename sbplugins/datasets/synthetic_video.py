"""Synthetic video clips for pose tracking: the cartoon people of ``synthetic_drawing``, walking.

The scenarios (walking, turning, crossing, occluding, entering, leaving, crowd), their frames, labels
and detection boxes are drawn by ``synthetic_scenarios``; this module writes them as files
(``generate_clips``), laid out as PoseTrack 2018:

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
``vid_id``. How the detection boxes are drawn from the ground truth (jitter, false positives,
misses) is said in ``synthetic_scenarios``.

Determinism: the same arguments give the same files (each clip draws from its own random streams,
see ``synthetic_scenarios``).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from .synthetic_people import PERSON_CATEGORY, read_meta, swap_into_place, write_json
from .synthetic_scenarios import SCENARIOS, clip_detections, render_clip, scenario_occluders

# bump when synthetic_scenarios (or the drawing modules it uses) changes, so ensure_clips()
# regenerates old copies
VIDEO_GENERATOR_VERSION = 1


def posetrack_image_id(vid_id: int, frame: int) -> int:
    """PoseTrack 2018's image id: '1' + 6-digit video id + 4-digit frame index."""
    return int(f'1{vid_id:06d}{frame:04d}')


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
        regions = [poly for poly, _ in scenario_occluders(name, *size)] if ignore_occluders else []
        ann = posetrack_annotation(seq, vid_id, people, size, regions)
        write_json(ann, paths['ann'])
        ids = [im['id'] for im in ann['images']]
        write_json(clip_detections(people, ids, size, seed, index, miss_rate), paths['det'])
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
    if read_meta(meta_path) == wanted:
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
        if read_meta(meta_path) == wanted:
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

