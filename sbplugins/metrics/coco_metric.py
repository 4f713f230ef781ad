"""COCO keypoint AP/AR: the reference's rescoring and OKS-NMS, then COCOeval (pycocotools, or
xtcocotools for the protocols of datasets without a segmentation area or with crowd levels)."""
from __future__ import annotations

import contextlib
import io
import json
import os
from typing import Dict, List, Optional

import numpy as np
from sbcore.errors import ConfigError, MissingFileError
from sbcore.metric import BaseMetric

from sbplugins.utils.geometry.boxes import PIXEL_STD  # bbox_scale is in units of 200 px

from .cocoeval_io import CROWD_METRIC_NAMES, METRIC_NAMES, load_keypoint_results, summary_stats
from .oks import oks_nms, soft_oks_nms

COCO_INFO_FILE = 'coco'
IOU_TYPES = ('keypoints', 'keypoints_crowd')
NMS_MODES = ('oks_nms', 'soft_oks_nms', 'none')


class CocoMetric(BaseMetric):
    """COCO keypoint evaluation of top-down predictions.

    Pipeline (reference doc, "COCO evaluation"): per pose, score = box score * mean of the joint
    scores > ``keypoint_score_thr`` (0 if none) when ``score_mode='bbox_keypoint'`` (``'bbox'``: the
    box score alone); per image OKS-NMS at ``nms_thr`` (``'soft_oks_nms'``: Soft-OKS-NMS with
    decay ``nms_thr``, keeping ``max_dets``; ``'none'`` skips it), with area = product of the
    enlarged box size in pixels; results in the official schema written to
    ``keypoints_results.json`` in ``outfile_prefix`` (a folder) or else ``work_dir`` (none
    written when neither is set); COCOeval scores them (its summary table is printed).

    The protocol: COCO's by default (pycocotools). A dataset's own comes from its dataset info
    (``metainfo=dict(from_file='crowdpose')``: its ``evaluation`` entry and sigmas) or from the
    arguments, which win: ``use_area=False`` scores OKS against the ground-truth box area x 0.53
    instead of the segmentation area, ``iou_type='keypoints_crowd'`` adds CrowdPose's AP per
    crowd level (easy / medium / hard by the images' ``crowdIndex``), ``max_dets`` the detections
    per image. Those go through xtcocotools (what MMPose and CrowdPose's own tools use).

    The ground-truth file is checked when the metric is built (``check_coco_keypoint_file``:
    missing ``iscrowd``/``num_keypoints`` filled, ``area`` filled by the dataset info's rule or
    required when ``use_area``, ``crowdIndex`` required for crowd levels), so a gap stops the
    run before training, with the file, annotation id and field named.

    Args:
        ann_file: COCO-style keypoint annotation file (ground truth), or AI Challenger's
            published JSON (converted on load, ``sbplugins.datasets.aic``).
        use_area: OKS against the annotations' ``area`` (True) or the box area (False).
        iou_type: ``'keypoints'`` or ``'keypoints_crowd'``.
        max_dets: detections per image that count (COCO and CrowdPose: 20).
        metainfo: a dataset info (``dict(from_file=NAME_OR_PATH)``) supplying the protocol
            defaults, the annotation rules and the sigmas.
        score_mode: ``'bbox_keypoint'`` or ``'bbox'``.
        keypoint_score_thr: joints with a score above it count in the rescoring mean.
        nms_mode: ``'oks_nms'``, ``'soft_oks_nms'`` or ``'none'``.
        nms_thr: OKS above which a lower-scored pose of the same image is dropped (Soft-OKS-NMS:
            the Gaussian decay parameter).
        prefix: metric-name prefix (``'coco'``: ``coco/AP``; CrowdPose recipes use
            ``'crowdpose'``).
        outfile_prefix: folder for ``keypoints_results.json`` (overrides ``work_dir``).

    The evaluator sets ``work_dir`` (the evaluator writes ``metrics.json`` there) and
    ``dataset_meta`` (its ``sigmas`` (K,) are used; else those of ``metainfo``; else the COCO
    sigmas).
    """

    def __init__(self,
                 ann_file: str,
                 use_area: Optional[bool] = None,
                 iou_type: Optional[str] = None,
                 max_dets: Optional[int] = None,
                 metainfo: Optional[dict] = None,
                 score_mode: str = 'bbox_keypoint',
                 keypoint_score_thr: float = 0.2,
                 nms_mode: str = 'oks_nms',
                 nms_thr: float = 0.9,
                 prefix: str = 'coco',
                 outfile_prefix: Optional[str] = None):
        from sbplugins.datasets.coco import check_coco_keypoint_file, load_keypoint_json
        from sbplugins.datasets.dataset_info import build_metainfo
        self.metainfo = build_metainfo(metainfo) if metainfo is not None else None
        protocol = self.metainfo['evaluation'] if self.metainfo else {}
        self.use_area = bool(protocol.get('use_area', True) if use_area is None else use_area)
        self.iou_type = protocol.get('iou_type', 'keypoints') if iou_type is None else iou_type
        self.max_dets = int(protocol.get('max_dets', 20) if max_dets is None else max_dets)
        if self.iou_type not in IOU_TYPES:
            raise ConfigError(f'CocoMetric: iou_type {self.iou_type!r}, expected one of '
                              f'{IOU_TYPES}')
        if score_mode not in ('bbox_keypoint', 'bbox'):
            raise ConfigError(
                f"CocoMetric: score_mode {score_mode!r}, expected 'bbox_keypoint' or 'bbox'")
        if nms_mode not in NMS_MODES:
            raise ConfigError(f'CocoMetric: nms_mode {nms_mode!r}, expected one of {NMS_MODES}')
        if self.max_dets < 1:
            raise ConfigError(f'CocoMetric: max_dets must be >= 1, got {self.max_dets}')
        if not os.path.isfile(ann_file):
            raise MissingFileError(f'CocoMetric: annotation file {ann_file!r} not found')
        self.ann_file = ann_file
        self.score_mode = score_mode
        self.keypoint_score_thr = float(keypoint_score_thr)
        self.nms_mode = nms_mode
        self.nms_thr = float(nms_thr)
        self.prefix = prefix
        self.outfile_prefix = outfile_prefix
        super().__init__()  # results, dataset_meta, work_dir (set by the evaluator)
        # xtcocotools implements the box-area OKS and the crowd levels; COCO's own protocol
        # stays on pycocotools (the two agree there: tests/test_metrics_protocols.py)
        self.backend = ('pycocotools' if self.use_area and self.iou_type == 'keypoints'
                        and self.max_dets == 20 else 'xtcocotools')
        data = load_keypoint_json(ann_file)
        num_keypoints = (self.metainfo['num_keypoints'] if self.metainfo else
                         _keypoints_per_annotation(data, ann_file))
        rules = self.metainfo['annotation_rules'] if self.metainfo else None
        check_coco_keypoint_file(data, ann_file, num_keypoints, rules, need_area=self.use_area,
                                 need_crowd_index=self.iou_type == 'keypoints_crowd')
        with contextlib.redirect_stdout(io.StringIO()):  # the COCO classes print loading chatter
            if self.backend == 'pycocotools':
                from pycocotools.coco import COCO
                self.coco = COCO()
                self.coco.dataset = data
                self.coco.createIndex()
            else:
                from xtcocotools.coco import COCO
                self.coco = COCO(ann_file, ann_data=data)

    # --- collecting ---------------------------------------------------------------------------------
    def process(self, batch: Dict[str, np.ndarray], predictions: Dict[str, np.ndarray]) -> None:
        """Append one record per sample.

        Args:
            batch: ``img_id`` (N,), ``id`` (N,) (optional), ``bbox_center`` (N, 2),
                ``bbox_scale`` (N, 2) in units of 200 px, ``bbox_score`` (N,) (a trailing axis of 1
                is accepted). Only the scale's product (the OKS-NMS area) and the ids are used.
            predictions: ``keypoints`` (N, K, 2) image pixels, ``keypoint_scores`` (N, K).
        """
        img_ids = np.asarray(batch['img_id']).reshape(-1)
        ids = np.asarray(batch.get('id', np.full(len(img_ids), -1))).reshape(-1)
        scale = np.asarray(batch['bbox_scale'], dtype=np.float64).reshape(len(img_ids), 2)
        areas = np.prod(scale * PIXEL_STD, axis=1)
        bbox_scores = np.asarray(batch['bbox_score'], dtype=np.float64).reshape(-1)
        kpts = np.array(predictions['keypoints'], dtype=np.float32)  # copy: callers may reuse buffers
        kpts = kpts.reshape(len(img_ids), -1, 2)
        kscores = np.array(predictions['keypoint_scores'], dtype=np.float32)
        kscores = kscores.reshape(len(img_ids), -1)
        for i in range(len(img_ids)):
            self.results.append(
                dict(img_id=int(img_ids[i]),
                     id=int(ids[i]),
                     keypoints=kpts[i],
                     keypoint_scores=kscores[i],
                     bbox_score=float(bbox_scores[i]),
                     area=float(areas[i])))

    # --- scoring ------------------------------------------------------------------------------------
    def _sigmas(self, num_keypoints: int) -> np.ndarray:
        if self.dataset_meta.get('sigmas') is not None:
            sigmas = np.asarray(self.dataset_meta['sigmas'], dtype=np.float64)
        elif self.metainfo is not None:
            sigmas = self.metainfo['sigmas'].astype(np.float64)
        else:
            from sbplugins.datasets.dataset_info import load_dataset_info
            sigmas = load_dataset_info(COCO_INFO_FILE)['sigmas'].astype(np.float64)
        if sigmas.shape != (num_keypoints, ):
            raise ValueError(
                f'CocoMetric: {len(sigmas)} sigmas for {num_keypoints} predicted keypoints')
        return sigmas

    def rescore(self, kscores: np.ndarray, bbox_scores: np.ndarray) -> np.ndarray:
        """(N,) pose scores from (N, K) joint scores and (N,) box scores (see class docstring)."""
        if self.score_mode == 'bbox':
            return bbox_scores.astype(np.float64)
        mask = kscores > self.keypoint_score_thr
        count = mask.sum(axis=1)
        mean = np.where(count > 0, (kscores * mask).sum(axis=1) / np.maximum(count, 1), 0.0)
        return bbox_scores * mean

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """AP/AR over ``results`` (``process`` records): ``{prefix}/AP`` ... (COCO: the ten
        ``METRIC_NAMES``; ``keypoints_crowd``: the nine ``CROWD_METRIC_NAMES``)."""
        if not results:
            raise ValueError('CocoMetric: no predictions to evaluate')
        img_ids = np.array([r['img_id'] for r in results], dtype=np.int64)
        kpts = np.stack([r['keypoints'] for r in results]).astype(np.float64)  # (N, K, 2)
        kscores = np.stack([r['keypoint_scores'] for r in results]).astype(np.float64)  # (N, K)
        bbox_scores = np.array([r['bbox_score'] for r in results], dtype=np.float64)
        areas = np.array([r['area'] for r in results], dtype=np.float64)
        sigmas = self._sigmas(kpts.shape[1])

        scores = self.rescore(kscores, bbox_scores)
        if self.nms_mode == 'oks_nms':
            keep = np.flatnonzero(oks_nms(kpts, scores, areas, img_ids, sigmas, self.nms_thr))
        elif self.nms_mode == 'soft_oks_nms':
            keep = np.flatnonzero(soft_oks_nms(kpts, scores, areas, img_ids, sigmas, self.nms_thr,
                                               self.max_dets))
        else:
            keep = np.arange(len(results))
        coco_results = self._to_coco_results(img_ids[keep], kpts[keep], kscores[keep], scores[keep])

        out_dir = self.outfile_prefix or self.work_dir
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
            flat_lists = np.stack([r['keypoints'] for r in coco_results]).tolist()  # one bulk call
            file_records = [dict(r, keypoints=k) for r, k in zip(coco_results, flat_lists)]
            with open(os.path.join(out_dir, 'keypoints_results.json'), 'w') as f:
                # one-shot dumps runs the C encoder; json.dump would use the slow Python one
                f.write(json.dumps(file_records))

        stats = self._evaluate(coco_results, sigmas)
        names = CROWD_METRIC_NAMES if self.iou_type == 'keypoints_crowd' else METRIC_NAMES
        metrics = {f'{self.prefix}/{name}': float(v) for name, v in zip(names, stats)}
        return metrics

    def _evaluate(self, coco_results: List[dict], sigmas: np.ndarray) -> np.ndarray:
        """COCOeval of the official-schema results; prints the summary table, returns the stats."""
        with contextlib.redirect_stdout(io.StringIO()):
            coco_dt = load_keypoint_results(self.coco, coco_results)
            if self.backend == 'pycocotools':
                from pycocotools.cocoeval import COCOeval
                coco_eval = COCOeval(self.coco, coco_dt, 'keypoints')
                coco_eval.params.kpt_oks_sigmas = sigmas
            else:
                from xtcocotools.cocoeval import COCOeval
                coco_eval = COCOeval(self.coco, coco_dt, self.iou_type, sigmas, self.use_area)
                # its crowd-level split re-reads the ground-truth file (loadRes would record
                # the results file second; our vectorised loader does not)
                coco_eval.anno_file = (self.ann_file, None)
            coco_eval.params.useSegm = None
            coco_eval.params.maxDets = [self.max_dets]
            coco_eval.evaluate()
            coco_eval.accumulate()
        if self.max_dets == 20:  # the libraries' summaries are written for 20 detections
            coco_eval.summarize()  # prints the standard table
            return np.asarray(coco_eval.stats, dtype=np.float64)
        return summary_stats(coco_eval, self.iou_type, verbose=True)

    @staticmethod
    def _to_coco_results(img_ids: np.ndarray, kpts: np.ndarray, kscores: np.ndarray,
                         scores: np.ndarray) -> List[dict]:
        """Official results schema: {image_id, category_id 1, keypoints [x, y, score] * K, score}.

        ``keypoints`` is a (3K,) float64 array row (see below); the results file holds lists.

        Coordinates are rounded to 1e-3 px and joint scores to 1e-4 (COCOeval ignores them): below the
        float32 resolution of the predictions at image scale, and short numbers make the results
        file about twice as fast to write. Pose scores (which rank the poses) are kept exact.
        """
        flat = np.concatenate([np.round(kpts, 3), np.round(kscores[..., None], 4)], axis=-1)
        flat = flat.reshape(len(img_ids), -1)
        # Keypoints stay numpy rows here (pycocotools' loadRes/computeOks index and np.array() them,
        # much faster than on lists); the results file gets lists.
        return [dict(image_id=i, category_id=1, keypoints=k, score=s)
                for i, k, s in zip(img_ids.tolist(), flat, scores.tolist())]


def _keypoints_per_annotation(data: dict, path: str) -> int:
    """K of a COCO-style file without a dataset info: its keypoint category, else 1/3 of the
    first annotation's keypoints."""
    from sbcore.errors import DataError
    for cat in data.get('categories', []) if isinstance(data, dict) else []:
        if cat.get('keypoints'):
            return len(cat['keypoints'])
    for ann in data.get('annotations', []) if isinstance(data, dict) else []:
        if 'keypoints' in ann:
            return len(ann['keypoints']) // 3
    raise DataError(f'CocoMetric: annotation file {path!r} has no keypoint category and no '
                    f'annotation with keypoints; pass metainfo=dict(from_file=...)')
