"""The PoseTrack 2018 JSON format: one file per video.

    {"images": [{"id", "file_name", "frame_id", "vid_id", "nframes", "is_labeled",
                 "ignore_regions_x": [[x, ...], ...], "ignore_regions_y": [[y, ...], ...], ...}],
     "annotations": [{"id", "image_id", "track_id", "category_id": 1, "keypoints": [x, y, v|score] * K,
                      "scores": [K] (predictions), "bbox": [x, y, w, h], "bbox_head" (ground truth)}],
     "categories": [{"id": 1, "name": "person", "keypoints": [...], "skeleton": [...]}]}

Ground truth carries a visibility (0/1/2) as third value; predictions carry the joint score there
and in ``scores`` (the one the evaluation reads, as poseval). A joint written (0, 0, 0) is absent;
any other triple, v = 0 at real coordinates included, is a joint (poseval's reading). A
ground-truth frame may name ignore regions: polygons, region r having the vertices
``(ignore_regions_x[r][i], ignore_regions_y[r][i])``, around people left unannotated; the
evaluation drops what falls inside them (``sbplugins.metrics.posetrack_eval``).
``read_posetrack18`` checks the fields and returns the frames in order; ``write_posetrack18``
writes tracked poses.
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
    ``keypoints`` as a (K, 3) float64 array, every image ``ignore_regions``: a list of (N, 2)
    float64 polygons (x, y), empty when the frame has none. Errors name the file and the field."""
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
        images.append(dict(img, frame_id=img.get('frame_id', img['id']),
                           ignore_regions=ignore_regions(img, f'PoseTrack file {path}: images[{i}]')))
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


def ignore_regions(image: dict, where: str = 'image') -> List[np.ndarray]:
    """The ignore regions of a PoseTrack 2018 image record as (N, 2) float64 polygons (x, y).

    ``ignore_regions_x`` / ``ignore_regions_y`` hold one list of coordinates per region; a flat
    list of numbers is read as a single region (some PoseTrack files write one region so).
    ``where`` prefixes the error, naming the file and the record."""
    xs, ys = image.get('ignore_regions_x'), image.get('ignore_regions_y')
    if xs is None and ys is None:
        return []
    if xs is None or ys is None:
        raise DataError(f'{where} has {"ignore_regions_x" if ys is None else "ignore_regions_y"} '
                        f'without {"ignore_regions_y" if ys is None else "ignore_regions_x"}')
    if not isinstance(xs, list) or not isinstance(ys, list):
        raise DataError(f'{where}: ignore_regions_x and ignore_regions_y must be lists of '
                        f'coordinate lists, got {type(xs).__name__} and {type(ys).__name__}')
    if xs and not isinstance(xs[0], list):
        xs, ys = [xs], [ys]
    if len(xs) != len(ys):
        raise DataError(f'{where}: {len(xs)} regions in ignore_regions_x but {len(ys)} in '
                        f'ignore_regions_y')
    regions = []
    for r, (x, y) in enumerate(zip(xs, ys)):
        try:
            x, y = np.asarray(x, np.float64).reshape(-1), np.asarray(y, np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise DataError(f'{where}: ignore region {r} has coordinates that are not numbers') from None
        if x.shape != y.shape:
            raise DataError(f'{where}: ignore region {r} has {x.size} x but {y.size} y coordinates')
        regions.append(np.stack([x, y], axis=1))
    return regions


def tracked_frame(image_id: int, file_name: str, frame_id: Optional[int] = None,
                  persons: Sequence[dict] = (), **extra) -> dict:
    """One frame for ``write_posetrack18``: its image record and its tracked persons (dicts with
    ``track_id``, ``keypoints`` (K, 2), ``keypoint_scores`` (K,), ``bbox``, ``bbox_score``)."""
    return dict(image=dict(id=int(image_id), file_name=file_name,
                           frame_id=int(image_id if frame_id is None else frame_id), **extra),
                persons=list(persons))


def person_category(keypoint_names: Optional[Sequence[str]] = None) -> dict:
    """The person category naming the keypoints (default COCO's). poseval maps the joints of a
    prediction file by these names, so a PoseTrack model's file must carry PoseTrack's
    (``head_bottom``, ``head_top``): with COCO's it is refused."""
    if keypoint_names is None or list(keypoint_names) == PERSON_CATEGORY['keypoints']:
        return dict(PERSON_CATEGORY)
    skeleton = PERSON_CATEGORY['skeleton'] if len(keypoint_names) == 17 else []
    return dict(PERSON_CATEGORY, keypoints=list(keypoint_names), skeleton=skeleton)


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
