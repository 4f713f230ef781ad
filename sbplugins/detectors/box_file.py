"""``BoxFileDetector``: person boxes read from a COCO detection JSON (the official schema)."""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Tuple

import numpy as np

from sbcore.errors import DataError, MissingFileError

from .base import BaseDetector


def _read_json(path: str, what: str):
    if not os.path.isfile(path):
        raise MissingFileError(f'{what} {path}: file not found')
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise DataError(f'{what} {path}: not valid JSON: {err}') from None


def load_coco_detections(path: str, score_thr: float = 0.0,
                         category_id: int = 1) -> Dict[int, np.ndarray]:
    """image_id -> (N, 5) [x, y, w, h, score] of one category scoring >= ``score_thr``.

    ``path`` holds the official COCO detection schema: a JSON list of
    ``{image_id, category_id, bbox [x, y, w, h], score}``.
    """
    dets = _read_json(path, 'detection file')
    if not isinstance(dets, list):
        raise DataError(f'detection file {path}: expected a JSON list of {{image_id, bbox, score, '
                        f'category_id}} (COCO detection results), got {type(dets).__name__}')
    by_image: Dict[int, List[List[float]]] = {}
    for i, det in enumerate(dets):
        missing = [k for k in ('image_id', 'bbox', 'score', 'category_id') if k not in det]
        if missing:
            raise DataError(f'detection file {path}: entry {i} lacks {missing} (has {sorted(det)})')
        if det['category_id'] == category_id and det['score'] >= score_thr:
            by_image.setdefault(int(det['image_id']), []).append([*det['bbox'], det['score']])
    return {k: np.asarray(v, np.float32).reshape(-1, 5) for k, v in by_image.items()}


def image_tables(ann_file: str) -> Tuple[Dict[str, int], List[int]]:
    """The ``images`` of a COCO or PoseTrack 2018 annotation file as (file name -> image id,
    image ids in frame order); base names are keys too where unique."""
    data = _read_json(ann_file, 'annotation file')
    images = data.get('images') if isinstance(data, dict) else None
    if not isinstance(images, list):
        raise DataError(f'annotation file {ann_file}: no "images" list')
    for i, im in enumerate(images):
        if 'id' not in im or 'file_name' not in im:
            raise DataError(f'annotation file {ann_file}: images[{i}] lacks "id" or "file_name"')
    images = sorted(images, key=lambda im: (im.get('frame_id', 0), im['id']))
    bases = [os.path.basename(im['file_name']) for im in images]
    by_name: Dict[str, int] = {}
    for im, base in zip(images, bases):
        by_name[im['file_name']] = int(im['id'])
        if bases.count(base) == 1:
            by_name[base] = int(im['id'])
    return by_name, [int(im['id']) for im in images]


def coco_number(file_name: str) -> Optional[int]:
    """The image id of a COCO-named file (``000000000785.jpg`` -> 785), or None."""
    stem = os.path.splitext(os.path.basename(file_name))[0]
    try:
        return int(stem.split('_')[-1])
    except ValueError:
        return None


class BoxFileDetector(BaseDetector):
    """Boxes looked up in a COCO detection JSON; frames are matched to its ``image_id``s.

    A frame is matched, in order, by ``frame_info['image_id']``; by its file name through
    ``ann_file`` (a COCO or PoseTrack 2018 annotation file whose ``images`` give ``file_name`` and
    ``id``; the base name is enough when unique); by its index in a video through the same
    ``images`` list in order (PoseTrack ``frame_id`` order); and last by the number in a COCO file
    name (``000000000785.jpg`` -> 785). A frame with no boxes in the file has no person.

    Args:
        det_file: the detection JSON.
        ann_file: optional annotation file naming the images (see above).
        score_thr: boxes scoring below this are dropped.
        category_id: the category of persons (1 in COCO).
    """

    def __init__(self, det_file: str, ann_file: Optional[str] = None, score_thr: float = 0.0,
                 category_id: int = 1):
        super().__init__(score_thr)
        self.det_file = det_file
        self.detections = load_coco_detections(det_file, score_thr, category_id)
        self.ids_by_name: Dict[str, int] = {}
        self.ids_in_order: List[int] = []
        if ann_file is not None:
            self.ids_by_name, self.ids_in_order = image_tables(ann_file)

    def image_id(self, frame_info: dict) -> Optional[int]:
        """The detection file's image id of a frame (see the class docstring), or None."""
        if frame_info.get('image_id') is not None:
            return int(frame_info['image_id'])
        name = frame_info.get('file_name')
        if name is not None:
            for key in (name, os.path.basename(name)):
                if key in self.ids_by_name:
                    return self.ids_by_name[key]
        index = frame_info.get('frame_index')
        if index is not None and self.ids_in_order:
            return self.ids_in_order[index] if index < len(self.ids_in_order) else None
        return coco_number(name) if name is not None else None

    def _detect(self, image: np.ndarray, frame_info: dict) -> Tuple[np.ndarray, np.ndarray]:
        image_id = self.image_id(frame_info)
        dets = self.detections.get(image_id) if image_id is not None else None
        if dets is None:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        return dets[:, :4], dets[:, 4]
