"""MPII top-down dataset from SimpleBaseline's MPII JSON ({image, center, scale, joints, joints_vis})."""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from sbplugins.utils.geometry.boxes import PIXEL_STD, fix_aspect_ratio

from .base import BaseTopdownDataset, under_data_root
from .coco import read_json
from sbcore.errors import DataError, MissingFileError

HEAD_SIZE_FACTOR = 0.6  # the MPII benchmark's SC_BIAS: head size = 0.6 * head-box diagonal
UPPER_NECK, HEAD_TOP = 8, 9


def load_head_boxes(path: str, num_instances: int) -> np.ndarray:
    """Head boxes (N, 4) x1, y1, x2, y2 from ``gt_valid.mat``-style files or a JSON list.

    ``.mat``: the official evaluation file with ``headboxes_src`` of shape (2, 2, N) (corner, xy, n).
    ``.json``: a list of N ``[x1, y1, x2, y2]``. Either way there is one box per JSON entry, in order.
    """
    if not os.path.isfile(path):
        raise MissingFileError(f'MPII head-box file {path!r} not found')
    if path.endswith('.mat'):
        from scipy.io import loadmat  # only needed for the official .mat file
        mat = loadmat(path)
        if 'headboxes_src' not in mat:
            raise DataError(
                f'MPII head-box file {path!r} has no "headboxes_src" (keys: {sorted(mat)})')
        src = np.asarray(mat['headboxes_src'], dtype=np.float64)
        boxes = np.concatenate([src[0].T, src[1].T], axis=1)
    else:
        boxes = np.asarray(read_json(path, 'MPII head-box file'), dtype=np.float64)
    if boxes.shape != (num_instances, 4):
        raise DataError(
            f'MPII head-box file {path!r} gives boxes of shape {boxes.shape}, expected '
            f'({num_instances}, 4): one [x1, y1, x2, y2] per annotation entry')
    return boxes


class MpiiDataset(BaseTopdownDataset):
    """MPII single-person instances from SimpleBaseline's JSON annotation.

    Follows the reference code: joints and center are 1-based in the JSON (1 is subtracted);
    center y += 15 * s and s *= 1.25 (s in units of 200 px) to avoid cutting off limbs. The box is
    given directly as ``bbox_center`` (1, 2) pixels and ``bbox_scale`` (1, 2) in units of 200 px,
    aspect-fixed for ``input_size`` (MPII boxes are square, so nothing changes for 256x256), so the
    pipeline must skip ``GetBBoxCenterScale``. ``bbox`` (1, 4) xywh is the unpadded square box
    (side s * 200 around the shifted center), from which ``GetBBoxCenterScale`` with padding 1.25
    would give the same center/scale.

    ``head_size`` (1,) is the PCKh normaliser 0.6 * head-box diagonal (the benchmark's SC_BIAS):
    from ``headbox_file`` (official ``gt_valid.mat`` or a JSON list of [x1, y1, x2, y2]) when given.
    Fallback without a head-box file (an approximation, not the benchmark): the head box is taken
    as a square of side |head_top - upper_neck|, i.e. diagonal = sqrt(2) * that distance; 0 when
    either joint is unlabelled (PCKh then skips the instance).

    Per-instance dict: ``img_path``, ``img_id`` (int of the image name, else the entry index),
    ``id`` (entry index), ``category_id`` 1, ``bbox``, ``bbox_center``, ``bbox_scale``,
    ``bbox_score`` (1,) = 1, ``keypoints`` (1, 16, 2), ``keypoints_visible`` (1, 16),
    ``num_keypoints``, ``area`` (1,), ``head_size`` (1,).
    """

    default_metainfo_file = 'mpii'

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: Optional[dict] = None,
                 headbox_file: Optional[str] = None,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 input_size: Sequence[int] = (256, 256)):
        self.ann_file = under_data_root(data_root, ann_file)
        self.headbox_file = under_data_root(data_root, headbox_file)
        self.img_dir = under_data_root(data_root, (data_prefix or dict(img='images/')).get('img', ''))
        self.aspect_ratio = float(input_size[0]) / float(input_size[1])
        super().__init__(metainfo=metainfo, pipeline=pipeline, test_mode=test_mode)

    def load_data_list(self) -> List[Dict[str, Any]]:
        anns = read_json(self.ann_file, 'MPII annotation file')
        if not isinstance(anns, list):
            raise DataError(f'MPII annotation file {self.ann_file!r} must hold a JSON list of '
                            f'{{image, center, scale, joints, joints_vis}}')
        num_kpt = self.metainfo['num_keypoints']
        for i, ann in enumerate(anns):
            missing = [
                k for k in ('image', 'center', 'scale', 'joints', 'joints_vis') if k not in ann
            ]
            if missing:
                raise DataError(f'{self.ann_file}: entry {i} lacks field(s) {missing}')
            if np.asarray(ann['joints']).shape != (num_kpt, 2) or len(ann['joints_vis']) != num_kpt:
                raise DataError(f'{self.ann_file}: entry {i} has joints of shape '
                                f'{np.asarray(ann["joints"]).shape} / {len(ann["joints_vis"])} '
                                f'visibilities, expected ({num_kpt}, 2) / {num_kpt}')
        if not anns:
            return []
        # Vectorised over all entries: (N, 2) centers, (N,) scales, (N, K, 2) joints.
        center = np.asarray([a['center'] for a in anns], dtype=np.float64)
        scale = np.asarray([a['scale'] for a in anns], dtype=np.float64)
        joints = np.asarray([a['joints']
                             for a in anns], dtype=np.float64) - 1.0  # 1-based -> 0-based
        visible = (np.asarray([a['joints_vis'] for a in anns], dtype=np.float64)
                   > 0).astype(np.float32)
        # Reference quirk: shift the center down by 15 * s (only for valid centers), enlarge by 1.25,
        # and make the center 0-based too.
        valid = center[:, 0] != -1
        center[valid, 1] += 15.0 * scale[valid]
        center -= 1.0
        side = scale * PIXEL_STD
        box_w, box_h = side.copy(), side.copy()
        # The reference's 1.25 enlargement, then its aspect fix (a no-op for square input sizes).
        padded_scale = fix_aspect_ratio(
            np.stack([side, side], axis=1) * 1.25 / PIXEL_STD, self.aspect_ratio)

        if self.headbox_file is not None:
            boxes = load_head_boxes(self.headbox_file, len(anns))
            diag = np.linalg.norm(boxes[:, 2:] - boxes[:, :2], axis=1)
        else:
            labelled = (visible[:, UPPER_NECK] > 0) & (visible[:, HEAD_TOP] > 0)
            diag = np.sqrt(2.0) * np.linalg.norm(joints[:, HEAD_TOP] - joints[:, UPPER_NECK],
                                                 axis=1)
            diag = np.where(labelled, diag, 0.0)
        head_size = HEAD_SIZE_FACTOR * diag

        data_list = []
        for i, ann in enumerate(anns):
            stem = os.path.splitext(os.path.basename(ann['image']))[0]
            bbox = np.array(
                [[center[i, 0] - box_w[i] / 2, center[i, 1] - box_h[i] / 2, box_w[i], box_h[i]]],
                dtype=np.float32)
            data_list.append(
                dict(img_path=os.path.join(self.img_dir, ann['image']),
                     img_id=int(stem) if stem.isdigit() else i,
                     id=i,
                     category_id=1,
                     bbox=bbox,
                     bbox_center=center[i][None].astype(np.float32),
                     bbox_scale=padded_scale[i][None].astype(np.float32),
                     bbox_score=np.ones(1, dtype=np.float32),
                     keypoints=joints[i][None].astype(np.float32),
                     keypoints_visible=visible[i][None],
                     num_keypoints=int(visible[i].sum()),
                     area=np.array([box_w[i] * box_h[i]], dtype=np.float32),
                     head_size=np.array([head_size[i]], dtype=np.float32)))
        return data_list
