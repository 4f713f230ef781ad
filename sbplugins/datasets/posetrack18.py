"""PoseTrack 2018 keypoint annotations as a top-down dataset (one sample per labelled person)."""
from __future__ import annotations

import glob
import os
from typing import Any, Dict, List, Optional, Sequence

import cv2
import numpy as np

from sbcore.errors import MissingFileError
from sbplugins.utils.geometry.boxes import clip_bbox_xywh

from .base import BaseTopdownDataset, under_data_root


class PoseTrack18Dataset(BaseTopdownDataset):
    """PoseTrack 2018 person keypoints, from one annotation file or a folder of per-video files
    (the official ``annotations/val/*.json`` layout).

    Only labelled frames (``is_labeled``) count; a person becomes a sample when it has a labelled
    joint and its box survives the clipping rule of ``CocoDataset``. Frames carry no size in
    PoseTrack files: it is read once per video from its first frame's image.

    Per-instance dict: the keys of ``CocoDataset``'s instances plus ``track_id`` int, ``vid_id``
    str, ``frame_id`` int, ``bbox_head`` (4,) float32 (zeros when absent) and ``ignore_regions``:
    its frame's PoseTrack ignore regions, a list of (N, 2) float32 polygons (x, y), empty when the
    frame has none. ``self.ignore_regions`` maps every labelled frame's image id to the same list,
    frames without annotated persons included (what an evaluation needs per frame).

    Args:
        ann_file: a PoseTrack 2018 JSON file or a folder of them.
        data_root: prefix of ``ann_file`` and the image folder.
        data_prefix: ``dict(img=...)``, the folder the images' ``file_name``s are relative to
            (PoseTrack's ``file_name`` is ``images/val/<seq>/000000.jpg``, relative to the root).
        metainfo, pipeline, test_mode: as ``BaseTopdownDataset``.
    """

    default_metainfo_file = 'posetrack18'

    def __init__(self, ann_file: str, data_root: str = '', data_prefix: Optional[dict] = None,
                 metainfo: Optional[dict] = None, pipeline: Sequence = (), test_mode: bool = False):
        self.ann_file = under_data_root(data_root, ann_file)
        self.img_dir = under_data_root(data_root, (data_prefix or dict(img='')).get('img', ''))
        super().__init__(metainfo=metainfo, pipeline=pipeline, test_mode=test_mode)

    def ann_files(self) -> List[str]:
        if os.path.isdir(self.ann_file):
            files = sorted(glob.glob(os.path.join(self.ann_file, '*.json')))
            if not files:
                raise MissingFileError(f'PoseTrack18Dataset: no *.json in {self.ann_file}')
            return files
        if not os.path.isfile(self.ann_file):
            raise MissingFileError(f'PoseTrack18Dataset: ann_file {self.ann_file} not found')
        return [self.ann_file]

    def _image_size(self, images: List[dict], path: str) -> tuple:
        for img in images:
            if 'width' in img and 'height' in img:
                return int(img['height']), int(img['width'])
        first = os.path.join(self.img_dir, images[0]['file_name'])
        im = cv2.imread(first, cv2.IMREAD_GRAYSCALE)
        if im is None:
            raise MissingFileError(f'PoseTrack18Dataset: {path} gives no image size and its first '
                                   f'frame {first} cannot be read')
        return im.shape[:2]

    def load_data_list(self) -> List[Dict[str, Any]]:
        from sbplugins.tracking.posetrack import read_posetrack18
        num_kpt = self.metainfo['num_keypoints']
        data_list = []
        self.ignore_regions: Dict[int, List[np.ndarray]] = {}
        for path in self.ann_files():
            video = read_posetrack18(path)
            labelled = [im for im in video['images'] if im.get('is_labeled', True)]
            if not labelled:
                continue
            height, width = self._image_size(labelled, path)
            for img in labelled:
                regions = [r.astype(np.float32) for r in img['ignore_regions']]
                self.ignore_regions[img['id']] = regions
                for ann in video['persons'][img['id']]:
                    kpts = ann['keypoints']
                    if kpts.shape[0] != num_kpt:
                        raise ValueError(f'{path}: annotation {ann.get("id")} has {kpts.shape[0]} '
                                         f'joints, expected {num_kpt} for dataset '
                                         f'{self.metainfo["dataset_name"]!r}')
                    visible = kpts[:, 2] > 0
                    if not visible.any() or 'bbox' not in ann:
                        continue
                    bbox = clip_bbox_xywh(np.asarray(ann['bbox'], np.float64), width, height,
                                          area=ann.get('area'))
                    if bbox is None:
                        continue
                    data_list.append(dict(
                        img_path=os.path.join(self.img_dir, img['file_name']), img_id=img['id'],
                        img_shape=np.array([height, width], np.int64), id=ann.get('id', -1),
                        category_id=1, bbox=np.asarray(bbox, np.float32).reshape(1, 4),
                        bbox_score=np.ones(1, np.float32),
                        keypoints=kpts[None, :, :2].astype(np.float32),
                        keypoints_visible=visible[None].astype(np.float32),
                        num_keypoints=int(visible.sum()),
                        area=np.array([ann.get('area', bbox[2] * bbox[3])], np.float32),
                        track_id=int(ann['track_id']), vid_id=str(img.get('vid_id', '')),
                        frame_id=int(img['frame_id']),
                        bbox_head=np.asarray(ann.get('bbox_head', [0, 0, 0, 0]), np.float32),
                        ignore_regions=regions))
        return data_list
