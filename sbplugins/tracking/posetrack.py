"""The PoseTrack 2018 JSON format: one file per video.

    {"images": [{"id", "file_name", "frame_id", "vid_id", "nframes", "is_labeled", ...}],
     "annotations": [{"id", "image_id", "track_id", "category_id": 1, "keypoints": [x, y, v|score] * K,
                      "scores": [K] (predictions), "bbox": [x, y, w, h], "bbox_head" (ground truth)}],
     "categories": [{"id": 1, "name": "person", "keypoints": [...], "skeleton": [...]}]}

Ground truth carries a visibility (0/1/2) as third value; predictions carry the joint score there
and in ``scores``. ``read_posetrack18`` checks the fields and returns the frames in order;
``write_posetrack18`` writes tracked poses.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from sbcore.errors import DataError, MissingFileError

from sbplugins.datasets.synthetic_people import PERSON_CATEGORY


def read_posetrack18(path: str) -> Dict[str, Any]:
    """One PoseTrack 2018 file as ``{'images': [...] sorted by frame_id, 'persons': {image_id:
    [annotation, ...]}, 'categories': [...], 'path': path}``; every annotation gets
    ``keypoints`` as a (K, 3) float64 array. Errors name the file and the field."""
    if not os.path.isfile(path):
        raise MissingFileError(f'PoseTrack file {path}: not found')
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise DataError(f'PoseTrack file {path}: not valid JSON: {err}') from None
    if not isinstance(data, dict) or not isinstance(data.get('images'), list) \
            or not isinstance(data.get('annotations', []), list):
        raise DataError(f'PoseTrack file {path}: expected an object with "images" and '
                        f'"annotations" lists (PoseTrack 2018 format)')
    images = []
    for i, img in enumerate(data['images']):
        missing = [k for k in ('id', 'file_name') if k not in img]
        if missing:
            raise DataError(f'PoseTrack file {path}: images[{i}] lacks {missing}')
        images.append(dict(img, frame_id=img.get('frame_id', img['id'])))
    images.sort(key=lambda im: im['frame_id'])
    ids = {im['id'] for im in images}
    persons: Dict[int, List[dict]] = {im['id']: [] for im in images}
    for i, ann in enumerate(data.get('annotations', [])):
        missing = [k for k in ('image_id', 'track_id', 'keypoints') if k not in ann]
        if missing:
            raise DataError(f'PoseTrack file {path}: annotations[{i}] lacks {missing}')
        if ann['image_id'] not in ids:
            raise DataError(f'PoseTrack file {path}: annotations[{i}] refers to image_id '
                            f'{ann["image_id"]} absent from "images"')
        kpts = np.asarray(ann['keypoints'], np.float64)
        if kpts.size % 3:
            raise DataError(f'PoseTrack file {path}: annotations[{i}] has {kpts.size} keypoint '
                            f'values, not a multiple of 3')
        persons[ann['image_id']].append(dict(ann, keypoints=kpts.reshape(-1, 3)))
    return dict(images=images, persons=persons, categories=data.get('categories', []), path=path)


def tracked_frame(image_id: int, file_name: str, frame_id: Optional[int] = None,
                  persons: Sequence[dict] = (), **extra) -> dict:
    """One frame for ``write_posetrack18``: its image record and its tracked persons (dicts with
    ``track_id``, ``keypoints`` (K, 2), ``keypoint_scores`` (K,), ``bbox``, ``bbox_score``)."""
    return dict(image=dict(id=int(image_id), file_name=file_name,
                           frame_id=int(image_id if frame_id is None else frame_id), **extra),
                persons=list(persons))


def posetrack18_predictions(frames: Sequence[dict], joint_thr: float = 0.0,
                            categories: Optional[list] = None) -> dict:
    """The PoseTrack 2018 dict of tracked frames (``tracked_frame``); joints scoring below
    ``joint_thr`` are written as (0, 0, 0), i.e. not predicted (the paper drops joints < 0.4)."""
    images, annotations = [], []
    nframes = len(frames)
    for frame in frames:
        image = dict(frame['image'])
        image.setdefault('nframes', nframes)
        image.setdefault('is_labeled', True)
        images.append(image)
        for person in frame['persons']:
            kpts = np.asarray(person['keypoints'], np.float64).reshape(-1, 2)
            scores = np.asarray(person['keypoint_scores'], np.float64).reshape(-1)
            keep = scores >= joint_thr
            triples = np.concatenate([np.where(keep[:, None], kpts, 0.0),
                                      np.where(keep, scores, 0.0)[:, None]], axis=1)
            annotations.append(dict(
                id=len(annotations), image_id=image['id'], track_id=int(person['track_id']),
                category_id=1, keypoints=np.round(triples, 3).ravel().tolist(),
                scores=np.round(np.where(keep, scores, 0.0), 4).tolist(),
                bbox=[round(float(v), 2) for v in np.asarray(person['bbox']).reshape(4)],
                bbox_score=round(float(person.get('bbox_score', 1.0)), 4)))
    return dict(images=images, annotations=annotations,
                categories=categories if categories is not None else [PERSON_CATEGORY])


def write_posetrack18(path: str, frames: Sequence[dict], joint_thr: float = 0.0,
                      categories: Optional[list] = None) -> None:
    """Write tracked frames as a PoseTrack 2018 file (atomically: a temporary file renamed)."""
    data = posetrack18_predictions(frames, joint_thr, categories)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp-{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, separators=(',', ':'))
    os.replace(tmp, path)
