"""A deterministic synthetic COCO-format person keypoint dataset: cartoon people on textured scenes.

The figures, their scenes and their labels are drawn by ``synthetic_drawing``; this module writes
them as a COCO-format dataset: images, keypoint annotations, jittered detection boxes and
``meta.json``.

Determinism: image ``i`` of a split draws only from ``np.random.default_rng([seed, split, i])``, so
the same arguments give byte-identical files (with the same OpenCV build), and growing a split keeps
its first images unchanged.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from sbcore.errors import ConfigError

from .synthetic_drawing import render_image

# bump when synthetic_drawing (or synthetic_pose, synthetic_painter) changes, so ensure_dataset()
# regenerates old copies
GENERATOR_VERSION = 1

KEYPOINT_NAMES = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
                  'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
                  'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
# The official COCO person skeleton (1-based joint indices), as in person_keypoints_val2017.json.
COCO_SKELETON = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
                 [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]]
PERSON_CATEGORY = dict(supercategory='person', id=1, name='person', keypoints=list(KEYPOINT_NAMES),
                       skeleton=COCO_SKELETON)

_SPLIT_CODE = {'train': 0, 'val': 1}
_DET_STREAM = 2  # RNG stream of the detection boxes, separate from the images'
_VAL_ID_OFFSET = 1_000_000  # val image ids start here so ids are unique across the two splits


# --- detections -----------------------------------------------------------------------------------
def jitter_detections(rng: np.random.Generator, image_id: int, people: List[dict],
                      image_size: Tuple[int, int]) -> List[dict]:
    """Detector-like boxes: every person's box jittered (score 0.5-1), plus low-score false positives."""
    w, h = image_size
    dets = []
    for p in people:
        x, y, bw, bh = p['bbox']
        cx, cy = x + bw / 2 + rng.normal(0, 0.04 * bw), y + bh / 2 + rng.normal(0, 0.04 * bh)
        bw, bh = bw * np.exp(rng.normal(0, 0.06)), bh * np.exp(rng.normal(0, 0.06))
        dets.append((cx - bw / 2, cy - bh / 2, bw, bh, np.clip(rng.normal(0.92, 0.05), 0.5, 0.999)))
    for _ in range(int(rng.poisson(0.6))):
        bh = rng.uniform(0.15, 0.6) * h
        bw = bh * rng.uniform(0.3, 0.9)
        dets.append((rng.uniform(0, w - bw), rng.uniform(0, h - bh), bw, bh, rng.uniform(0.02, 0.35)))
    return [dict(image_id=image_id, category_id=1, bbox=[round(float(v), 2) for v in d[:4]],
                 score=round(float(d[4]), 4)) for d in dets]


# --- files ------------------------------------------------------------------------------------------
def dataset_paths(out_dir: str) -> Dict[str, str]:
    """Where ``generate_dataset`` puts each file under ``out_dir``."""
    return dict(root=out_dir, meta=os.path.join(out_dir, 'meta.json'),
                train_images=os.path.join(out_dir, 'images', 'train'),
                val_images=os.path.join(out_dir, 'images', 'val'),
                train_ann=os.path.join(out_dir, 'annotations', 'person_keypoints_train.json'),
                val_ann=os.path.join(out_dir, 'annotations', 'person_keypoints_val.json'),
                val_det=os.path.join(out_dir, 'person_detection_results', 'val_detections.json'))


def write_json(obj, path: str) -> None:
    """``obj`` as compact JSON (no spaces) at ``path``: the generated annotation and box files."""
    with open(path, 'w') as f:
        json.dump(obj, f, separators=(',', ':'))


def generate_split(out_dir: str, split: str, num_images: int, image_size: Tuple[int, int],
                   max_people_per_image: int, seed: int, difficulty: float = 1.0) -> Tuple[dict, List[dict]]:
    """Write one split's images; return its COCO annotation dict and its detection list."""
    if split not in _SPLIT_CODE:
        raise ConfigError(f'split must be one of {sorted(_SPLIT_CODE)}, got {split!r}')
    img_dir = dataset_paths(out_dir)[f'{split}_images']
    os.makedirs(img_dir, exist_ok=True)
    id_offset = _VAL_ID_OFFSET if split == 'val' else 0
    images, annotations, detections = [], [], []
    for i in range(num_images):
        image_id = id_offset + i + 1
        image, people = render_image(np.random.default_rng([seed, _SPLIT_CODE[split], i]),
                                     image_size, max_people_per_image, difficulty)
        name = f'{image_id:012d}.jpg'
        ok, buf = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        if not ok:
            raise RuntimeError(f'JPEG encoding failed for {name}')
        with open(os.path.join(img_dir, name), 'wb') as f:
            f.write(buf.tobytes())
        images.append(dict(id=image_id, file_name=name, width=image_size[0], height=image_size[1]))
        for p in people:
            kpts = p['keypoints']
            annotations.append(dict(
                id=id_offset + len(annotations) + 1, image_id=image_id, category_id=1, iscrowd=0,
                keypoints=[round(float(v), 2) if k % 3 < 2 else int(v) for k, v in enumerate(kpts.ravel())],
                num_keypoints=int((kpts[:, 2] > 0).sum()), bbox=[float(v) for v in p['bbox']],
                area=float(p['area'])))
        if split == 'val':
            detections += jitter_detections(np.random.default_rng([seed, _DET_STREAM, i]), image_id,
                                            people, image_size)
    coco = dict(info=dict(description=f'sbpose synthetic people ({split}), generator v{GENERATOR_VERSION}, '
                                      f'seed {seed}'),
                images=images, annotations=annotations, categories=[PERSON_CATEGORY])
    return coco, detections


def generate_dataset(out_dir: str, num_train_images: int = 1500, num_val_images: int = 200,
                     image_size: Tuple[int, int] = (320, 256), max_people_per_image: int = 2,
                     seed: int = 0, difficulty: float = 1.0) -> Dict[str, str]:
    """Write the whole dataset under ``out_dir`` (created; existing files are overwritten).

    Args:
        image_size: (width, height) of every image in pixels.
        difficulty: 0..1, scales the rates of back-facing, occluded, truncated and strongly tilted
            figures and of background clutter (1.0: the default mix; 0: none of them).

    Returns:
        The paths of ``dataset_paths(out_dir)``.
    """
    if max_people_per_image < 1 or num_train_images < 0 or num_val_images < 0 or not 0 <= difficulty <= 1:
        raise ConfigError(f'need max_people_per_image >= 1, image counts >= 0 and 0 <= difficulty <= 1, got '
                          f'max_people_per_image={max_people_per_image}, num_train_images={num_train_images}, '
                          f'num_val_images={num_val_images}, difficulty={difficulty}')
    paths = dataset_paths(out_dir)
    for sub in ('annotations', 'person_detection_results'):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    size = (int(image_size[0]), int(image_size[1]))
    coco, _ = generate_split(out_dir, 'train', num_train_images, size, max_people_per_image, seed, difficulty)
    write_json(coco, paths['train_ann'])
    coco, dets = generate_split(out_dir, 'val', num_val_images, size, max_people_per_image, seed, difficulty)
    write_json(coco, paths['val_ann'])
    write_json(dets, paths['val_det'])
    write_json(dataset_meta(num_train_images, num_val_images, size, max_people_per_image, seed, difficulty),
               paths['meta'])
    return paths


def dataset_meta(num_train_images: int, num_val_images: int, image_size: Tuple[int, int],
                 max_people_per_image: int, seed: int, difficulty: float = 1.0) -> dict:
    """What ``meta.json`` records: everything the generated files depend on."""
    return dict(generator_version=GENERATOR_VERSION, num_train_images=int(num_train_images),
                num_val_images=int(num_val_images), image_size=[int(v) for v in image_size],
                max_people_per_image=int(max_people_per_image), seed=int(seed), difficulty=float(difficulty))


def ensure_dataset(out_dir: str, num_train_images: int = 1500, num_val_images: int = 200,
                   image_size: Tuple[int, int] = (320, 256), max_people_per_image: int = 2,
                   seed: int = 0, difficulty: float = 1.0) -> Dict[str, str]:
    """Generate the dataset at ``out_dir`` unless ``meta.json`` there already records these arguments.

    Generation goes to a temporary sibling folder that is renamed into place, so an interrupted run
    never leaves a half-written dataset behind. An existing ``out_dir`` is replaced only when it holds
    a ``meta.json`` (i.e. was made by this generator); any other existing folder is an error.

    Returns:
        The paths of ``dataset_paths(out_dir)``.
    """
    out_dir = os.path.abspath(out_dir)
    paths = dataset_paths(out_dir)
    args = (num_train_images, num_val_images, image_size, max_people_per_image, seed, difficulty)
    wanted = dataset_meta(*args)
    if read_meta(paths['meta']) == wanted and all(os.path.exists(p) for p in paths.values()):
        return paths
    if os.path.exists(out_dir) and not os.path.isfile(paths['meta']):
        raise FileExistsError(f'{out_dir!r} exists but has no meta.json of the synthetic generator; '
                              f'refusing to replace it (choose another data_root or remove it)')
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + '.tmp-', dir=parent)
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the dataset is ordinary shared data
    try:
        generate_dataset(tmp, *args)
        if read_meta(paths['meta']) == wanted:  # another process finished the same job meanwhile
            shutil.rmtree(tmp)
            return paths
        swap_into_place(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if read_meta(paths['meta']) == wanted:  # another process finished the same job first
            return paths
        raise
    return paths


def swap_into_place(new_dir: str, out_dir: str) -> None:
    """Replace ``out_dir`` by the finished ``new_dir`` (a sibling): the old folder is renamed
    aside first and removed after, so ``out_dir`` is never half-written."""
    if os.path.exists(out_dir):
        old = tempfile.mkdtemp(prefix=os.path.basename(out_dir) + '.old-', dir=os.path.dirname(out_dir))
        os.replace(out_dir, os.path.join(old, 'data'))
        shutil.rmtree(old)
    os.replace(new_dir, out_dir)


def read_meta(path: str) -> Optional[dict]:
    """The JSON in a generator's ``meta.json`` at ``path``; None where it is missing or not JSON
    (the ``ensure_*`` functions then generate the files again)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
