"""COCO-format top-down keypoint dataset: person instances from ground-truth or detection boxes."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from sbcore.errors import DataError, MissingFileError
from sbplugins.utils.geometry.boxes import clip_bbox_xywh

from .base import BaseTopdownDataset, under_data_root


def read_json(path: str, what: str) -> Any:
    """Load a JSON file; errors name the file and what it was supposed to be."""
    if not os.path.isfile(path):
        raise MissingFileError(f'{what} {path!r} not found')
    try:
        with open(path) as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise DataError(f'{what} {path!r} is not valid JSON: {err}') from err


def load_keypoint_json(path: str, image_dir: Optional[str] = None) -> Any:
    """A keypoint annotation file as loaded JSON: COCO-style as it is; AI Challenger's published
    list converted to COCO style (``sbplugins.datasets.aic``; image sizes read from
    ``image_dir`` when given)."""
    from .aic import aic_to_coco, is_aic_records
    data = read_json(path, 'COCO annotation file')
    return aic_to_coco(data, path, image_dir) if is_aic_records(data) else data


class MissingFieldError(DataError, KeyError):
    """A dataset record lacks a field (also a KeyError, what this code raised before)."""


def _require(record: dict, keys: tuple, where: str) -> None:
    missing = [k for k in keys if k not in record]
    if missing:
        raise MissingFieldError(f'{where} lacks field(s) {missing} (has {sorted(record)})')


AREA_RULES = ('required', 'bbox')


def check_coco_keypoint_file(coco: Any, path: str, num_keypoints: int,
                             rules: Optional[dict] = None, need_area: bool = True,
                             need_crowd_index: bool = False) -> dict:
    """Check a COCO-style keypoint file and complete it in place by the dataset's rules.

    The one place where the dataset and the metric (``CocoMetric``) meet a file's gaps, so a gap
    is reported when either is built, never as a ``KeyError`` inside pycocotools after training.

    Filled, as documented by the datasets that leave them out: ``iscrowd`` 0; ``num_keypoints``
    = the number of labelled joints (v > 0); ``area`` = the box's w * h when the dataset info's
    ``annotation_rules.area`` is ``'bbox'`` (CrowdPose, AI Challenger: no segmentation area).
    ``annotation_rules.keypoints_field`` (Human-Art's ``'keypoints_21'``) is copied to
    ``keypoints``. Any other gap raises ``DataError`` naming the file, the annotation id and the
    field: images need ``id``, ``file_name``, ``width``, ``height`` (and ``crowdIndex`` for
    CrowdPose's crowd-level AP); annotations need ``id``, ``image_id``, ``category_id``, ``bbox``
    (4 numbers), the keypoints (3 K numbers for keypoint categories) and, unless filled or not
    needed (``need_area=False``), ``area``.

    Args:
        coco: the loaded JSON.
        path: the file, for messages.
        num_keypoints: K of the dataset info.
        rules: the dataset info's ``annotation_rules`` (``area``, ``keypoints_field``).
        need_area: whether a missing, unfilled ``area`` is an error.
        need_crowd_index: whether images must carry ``crowdIndex``.

    Returns:
        ``coco`` itself, completed.
    """
    rules = dict(rules or {})
    unknown = sorted(set(rules) - {'area', 'keypoints_field'})
    if unknown:
        raise DataError(f'annotation_rules: unknown key(s) {unknown} (known: area, keypoints_field)')
    area_rule = rules.get('area', 'required')
    if area_rule not in AREA_RULES:
        raise DataError(f'annotation_rules.area must be one of {AREA_RULES}, got {area_rule!r}')
    field = rules.get('keypoints_field', 'keypoints')
    if not isinstance(coco, dict):
        raise DataError(f'COCO annotation file {path!r} must hold a JSON object')
    _require(coco, ('images', 'annotations'), f'COCO annotation file {path!r}')
    image_keys = ('id', 'file_name', 'width', 'height') + (('crowdIndex',) if need_crowd_index
                                                            else ())
    image_ids = set()
    for i, img in enumerate(coco['images']):
        _require(img, image_keys, f'{path}: images[{i}]')
        image_ids.add(img['id'])
    # COCO keypoint files may list categories without keypoints; only keypoint categories count.
    kpt_cats = {c['id'] for c in coco.get('categories', []) if c.get('keypoints')}
    for i, ann in enumerate(coco['annotations']):
        where = f'{path}: annotations[{i}] (id {ann.get("id")})'
        _require(ann, ('id', 'image_id', 'category_id', 'bbox', field), where)
        if ann['image_id'] not in image_ids:
            raise MissingFieldError(f'{where} refers to image_id {ann["image_id"]} absent from '
                                    f'"images"')
        if not isinstance(ann['bbox'], (list, tuple)) or len(ann['bbox']) != 4:
            raise DataError(f'{where} has bbox {ann["bbox"]!r}, expected [x, y, w, h]')
        if field != 'keypoints':
            ann['keypoints'] = ann[field]
        if kpt_cats and ann['category_id'] not in kpt_cats:
            continue
        if not isinstance(ann['keypoints'], (list, tuple)) or \
                len(ann['keypoints']) != 3 * num_keypoints:
            raise DataError(f'{where} has {np.size(ann["keypoints"])} keypoint values, expected '
                            f'3 x {num_keypoints} (field {field!r}; K from the dataset info)')
        ann.setdefault('iscrowd', 0)
        if 'num_keypoints' not in ann:
            ann['num_keypoints'] = int((np.asarray(ann['keypoints'])[2::3] > 0).sum())
        if 'area' not in ann:
            if area_rule == 'bbox':
                ann['area'] = float(ann['bbox'][2]) * float(ann['bbox'][3])
            elif need_area:
                raise MissingFieldError(
                    f"{where} lacks field(s) ['area'] (COCO's OKS needs the segmentation area; "
                    f"a dataset without one says annotation_rules=dict(area='bbox') in its "
                    f"dataset info, and its metric use_area=False)")
    return coco


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
                 pipeline: Sequence = (),
                 test_mode: bool = False):
        self.ann_file = under_data_root(data_root, ann_file)
        self.bbox_file = under_data_root(data_root, bbox_file)
        self.img_dir = under_data_root(data_root, (data_prefix or dict(img='images/')).get('img', ''))
        self.det_score_thr = float(det_score_thr)
        super().__init__(metainfo=metainfo, pipeline=pipeline, test_mode=test_mode)

    # --- loading -----------------------------------------------------------------------------------
    def load_data_list(self) -> List[Dict[str, Any]]:
        coco = check_coco_keypoint_file(load_keypoint_json(self.ann_file, self.img_dir),
                                        self.ann_file, self.metainfo['num_keypoints'],
                                        self.metainfo.get('annotation_rules'))
        images = {img['id']: img for img in coco['images']}
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
        for ann in coco['annotations']:
            if kpt_cats and ann['category_id'] not in kpt_cats:
                continue
            kpts = np.asarray(ann['keypoints'], dtype=np.float32).reshape(num_kpt, 3)
            visible = kpts[:, 2] > 0
            if ann['iscrowd'] or not visible.any():
                continue
            img = images[ann['image_id']]
            bbox = clip_bbox_xywh(np.asarray(ann['bbox'], dtype=np.float64),
                                  img['width'],
                                  img['height'],
                                  area=ann['area'])
            if bbox is None:  # the reference's clipping rule (box inside the image, area > 0) failed
                continue
            inst = self._base_instance(img)
            inst.update(id=ann['id'],
                        category_id=ann['category_id'],
                        bbox=np.asarray(bbox, dtype=np.float32).reshape(1, 4),
                        bbox_score=np.ones(1, dtype=np.float32),
                        keypoints=kpts[None, :, :2].copy(),
                        keypoints_visible=visible[None].astype(np.float32),
                        num_keypoints=int(ann['num_keypoints']),
                        area=np.array([ann['area']], dtype=np.float32))
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
            raise MissingFieldError(
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
