"""COCO-format top-down keypoint dataset: person instances from ground-truth or detection boxes."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

import numpy as np

from sbplugins.utils.geometry import clip_bbox_xywh

from .base import BaseTopdownDataset
from sbcore.errors import DataError, MissingFileError


def read_json(path: str, what: str) -> Any:
    """Load a JSON file; errors name the file and what it was supposed to be."""
    if not os.path.isfile(path):
        raise MissingFileError(f'{what} {path!r} not found')
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise DataError(f'{what} {path!r} is not valid JSON: {err}') from err


def _require(record: dict, keys: tuple, where: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise DataError(f'{where} lacks field(s) {missing} (has {sorted(record)})')


class CocoDataset(BaseTopdownDataset):
    """Top-down COCO keypoints: one sample per person box.

    Ground-truth boxes (no ``bbox_file``): a person annotation becomes a sample when it is not crowd,
    has at least one labelled keypoint (v > 0; v = 1 and v = 2 both count), its annotation ``area``
    is > 0 and its box survives the reference's clipping to the image (``clip_bbox_xywh``). That rule
    keeps a zero or negative width/height as 0 (x2 = x1 + max(0, w - 1)) and drops only boxes
    starting outside the image or with ``area`` <= 0; neither is reported as an error.

    Detection boxes (``bbox_file``, a list of ``{image_id, category_id, bbox, score}``): category 1
    with ``score >= det_score_thr``, kept as given (no clipping), keypoints zero and all visible
    (like the reference code), ``id`` -1.

    The number of keypoints K comes from the dataset info, so any COCO-format keypoint file with
    another joint layout works with its own dataset-info file.

    Per-instance dict: ``img_path`` str, ``img_id`` int, ``id`` int, ``category_id`` int,
    ``bbox`` (1, 4) float32 xywh, ``bbox_score`` (1,) float32 (1.0 for ground truth),
    ``keypoints`` (1, K, 2) float32, ``keypoints_visible`` (1, K) float32 (v > 0 -> 1),
    ``num_keypoints`` int, ``area`` (1,) float32, ``img_shape`` (2,) int64 (height, width).
    """

    default_metainfo_file = 'coco'

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 bbox_file: Optional[str] = None,
                 det_score_thr: float = 0.0,
                 metainfo: Optional[dict] = None,
                 pipeline=(),
                 test_mode: bool = False):
        self.ann_file = os.path.join(data_root, ann_file) if data_root else ann_file
        self.bbox_file = (os.path.join(data_root, bbox_file)
                          if data_root and bbox_file else bbox_file)
        self.img_dir = os.path.join(data_root, (data_prefix or dict(img='images/')).get('img', ''))
        self.det_score_thr = float(det_score_thr)
        super().__init__(metainfo=metainfo, pipeline=pipeline, test_mode=test_mode)

    # --- loading -----------------------------------------------------------------------------------
    def load_data_list(self) -> List[Dict[str, Any]]:
        coco = read_json(self.ann_file, 'COCO annotation file')
        if not isinstance(coco, dict):
            raise DataError(f'COCO annotation file {self.ann_file!r} must hold a JSON object')
        _require(coco, ('images', 'annotations'), f'COCO annotation file {self.ann_file!r}')
        images = {}
        for i, img in enumerate(coco['images']):
            _require(img, ('id', 'file_name', 'width', 'height'), f'{self.ann_file}: images[{i}]')
            images[img['id']] = img
        if self.bbox_file is not None:
            return self._load_detections(images)
        return self._load_ground_truth(coco, images)

    def _base_instance(self, img: dict) -> Dict[str, Any]:
        return dict(img_path=os.path.join(self.img_dir, img['file_name']),
                    img_id=img['id'],
                    img_shape=np.array([img['height'], img['width']], dtype=np.int64))

    def _load_ground_truth(self, coco: dict, images: dict) -> List[Dict[str, Any]]:
        num_kpt = self.metainfo['num_keypoints']
        # COCO keypoint files may list categories without keypoints; only keypoint categories count.
        kpt_cats = {c['id'] for c in coco.get('categories', []) if c.get('keypoints')}
        data_list = []
        for i, ann in enumerate(coco['annotations']):
            where = f'{self.ann_file}: annotations[{i}] (id {ann.get("id")})'
            _require(ann, ('id', 'image_id', 'bbox', 'keypoints'), where)
            if kpt_cats and ann.get('category_id', 1) not in kpt_cats:
                continue
            if ann['image_id'] not in images:
                raise DataError(f'{where} refers to image_id {ann["image_id"]} absent from "images"')
            kpts = np.asarray(ann['keypoints'], dtype=np.float32)
            if kpts.size != 3 * num_kpt:
                raise DataError(f'{where} has {kpts.size} keypoint values, expected 3 x {num_kpt} '
                                f'for dataset {self.metainfo["dataset_name"]!r}')
            kpts = kpts.reshape(num_kpt, 3)
            visible = kpts[:, 2] > 0
            if ann.get('iscrowd', 0) or not visible.any():
                continue
            img = images[ann['image_id']]
            bbox = clip_bbox_xywh(np.asarray(ann['bbox'], dtype=np.float64),
                                  img['width'],
                                  img['height'],
                                  area=ann.get('area'))
            if bbox is None:  # the reference's clipping rule (box inside the image, area > 0) failed
                continue
            inst = self._base_instance(img)
            inst.update(id=ann['id'],
                        category_id=ann.get('category_id', 1),
                        bbox=np.asarray(bbox, dtype=np.float32).reshape(1, 4),
                        bbox_score=np.ones(1, dtype=np.float32),
                        keypoints=kpts[None, :, :2].copy(),
                        keypoints_visible=visible[None].astype(np.float32),
                        num_keypoints=int(ann.get('num_keypoints', visible.sum())),
                        area=np.array([ann.get('area', 0.0)], dtype=np.float32))
            data_list.append(inst)
        return data_list

    def _load_detections(self, images: dict) -> List[Dict[str, Any]]:
        dets = read_json(self.bbox_file, 'detection file')
        if not isinstance(dets, list):
            raise DataError(f'detection file {self.bbox_file!r} must hold a JSON list of '
                            f'{{image_id, category_id, bbox, score}}')
        num_kpt = self.metainfo['num_keypoints']
        unknown = sorted({d.get('image_id')
                          for d in dets if d.get('image_id') not in images},
                         key=str)
        if unknown:
            raise DataError(
                f'detection file {self.bbox_file!r} has image ids absent from the annotation '
                f'file {self.ann_file!r}: {unknown[:20]}{" ..." if len(unknown) > 20 else ""}')
        data_list = []
        for i, det in enumerate(dets):
            _require(det, ('image_id', 'category_id', 'bbox', 'score'), f'{self.bbox_file}: [{i}]')
            if det['category_id'] != 1 or det['score'] < self.det_score_thr:
                continue
            bbox = np.asarray(det['bbox'], dtype=np.float32).reshape(1, 4)
            inst = self._base_instance(images[det['image_id']])
            inst.update(id=-1,
                        category_id=1,
                        bbox=bbox,
                        bbox_score=np.array([det['score']], dtype=np.float32),
                        keypoints=np.zeros((1, num_kpt, 2), dtype=np.float32),
                        keypoints_visible=np.ones((1, num_kpt), dtype=np.float32),
                        num_keypoints=0,
                        area=np.array([bbox[0, 2] * bbox[0, 3]], dtype=np.float32))
            data_list.append(inst)
        return data_list
