"""COCO keypoint AP/AR: the reference's rescoring and OKS-NMS, then pycocotools' COCOeval."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import os
from typing import Dict, List, Optional

import numpy as np

from .oks import oks_nms
from sbcore.errors import ConfigError, MissingFileError

PIXEL_STD = 200.0  # bbox_scale is in units of 200 px
METRIC_NAMES = ('AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)',
                'AR (L)')
COCO_INFO_FILE = 'coco'


class CocoMetric:
    """COCO keypoint evaluation of top-down predictions.

    Pipeline (reference doc, "COCO evaluation"): per pose, score = box score * mean of the joint
    scores > ``keypoint_score_thr`` (0 if none) when ``score_mode='bbox_keypoint'`` (``'bbox'``: the
    box score alone); OKS-NMS per image at ``nms_thr`` with area = product of the enlarged box size
    in pixels (``nms_mode='none'`` skips it); results in the official schema written to
    ``keypoints_results.json`` in ``outfile_prefix`` (a folder) or else ``work_dir`` (none written
    when neither is set); pycocotools ``COCOeval`` scores them (its summary table is printed).

    Args:
        ann_file: COCO keypoint annotation file (ground truth).
        use_area: use the annotations' ``area`` for OKS; False replaces it by the box area w * h.
        iou_type: COCOeval's iouType (``'keypoints'``).
        score_mode: ``'bbox_keypoint'`` or ``'bbox'``.
        keypoint_score_thr: joints with a score above it count in the rescoring mean.
        nms_mode: ``'oks_nms'`` or ``'none'``.
        nms_thr: OKS above which a lower-scored pose of the same image is dropped.
        outfile_prefix: folder for ``keypoints_results.json`` (overrides ``work_dir``).

    The runner sets ``work_dir`` (``metrics.json`` is written there) and ``dataset_meta``
    (its ``sigmas`` (K,) are used; fallback: the COCO sigmas of the COCO dataset-info file).
    """

    def __init__(self,
                 ann_file: str,
                 use_area: bool = True,
                 iou_type: str = 'keypoints',
                 score_mode: str = 'bbox_keypoint',
                 keypoint_score_thr: float = 0.2,
                 nms_mode: str = 'oks_nms',
                 nms_thr: float = 0.9,
                 outfile_prefix: Optional[str] = None):
        from pycocotools.coco import COCO
        if score_mode not in ('bbox_keypoint', 'bbox'):
            raise ValueError(
                f"CocoMetric: score_mode {score_mode!r}, expected 'bbox_keypoint' or 'bbox'")
        if nms_mode not in ('oks_nms', 'none'):
            raise ConfigError(f"CocoMetric: nms_mode {nms_mode!r}, expected 'oks_nms' or 'none'")
        if not os.path.isfile(ann_file):
            raise MissingFileError(f'CocoMetric: annotation file {ann_file!r} not found')
        self.ann_file = ann_file
        self.iou_type = iou_type
        self.score_mode = score_mode
        self.keypoint_score_thr = float(keypoint_score_thr)
        self.nms_mode = nms_mode
        self.nms_thr = float(nms_thr)
        self.outfile_prefix = outfile_prefix
        self.work_dir: Optional[str] = None
        self.dataset_meta: Optional[dict] = None
        self.results: List[dict] = []
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints loading chatter
            self.coco = COCO(ann_file)
        if not use_area:
            for ann in self.coco.dataset['annotations']:
                ann['area'] = float(ann['bbox'][2] * ann['bbox'][3])

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
        if self.dataset_meta is not None and self.dataset_meta.get('sigmas') is not None:
            sigmas = np.asarray(self.dataset_meta['sigmas'], dtype=np.float64)
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
        """COCO AP/AR over ``results`` (``process`` records): ``coco/AP`` ... ``coco/AR (L)``."""
        from pycocotools.cocoeval import COCOeval
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

        with contextlib.redirect_stdout(io.StringIO()):
            coco_dt = load_keypoint_results(self.coco, coco_results)
            coco_eval = COCOeval(self.coco, coco_dt, self.iou_type)
            coco_eval.params.useSegm = None
            coco_eval.params.kpt_oks_sigmas = sigmas
            coco_eval.evaluate()
            coco_eval.accumulate()
        coco_eval.summarize()  # prints the standard table

        metrics = {f'coco/{name}': float(v) for name, v in zip(METRIC_NAMES, coco_eval.stats[:10])}
        if self.work_dir:
            os.makedirs(self.work_dir, exist_ok=True)
            with open(os.path.join(self.work_dir, 'metrics.json'), 'w') as f:
                json.dump(metrics, f, indent=2)
        return metrics

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


def load_keypoint_results(coco_gt, results: List[dict]):
    """pycocotools' ``COCO.loadRes`` for keypoint results, with the per-pose loop vectorised.

    Same object, same fields and values: ``id`` 1..N in order, ``bbox`` [x0, y0, w, h] and ``area``
    w * h of the keypoints' extent (confidence-independent, as loadRes). loadRes takes ~1.5 s
    for 100,000 poses in its Python loop; this ~0.3 s (docs/benchmarks.md).

    Args:
        coco_gt: the ground-truth ``pycocotools.coco.COCO``.
        results: official-schema records with ``keypoints`` as (3K,) arrays; edited in place.
    """
    from pycocotools.coco import COCO
    unknown = {r['image_id'] for r in results} - set(coco_gt.getImgIds())
    if unknown:
        raise ValueError(f'CocoMetric: predictions for image ids not in the annotation file: '
                         f'{sorted(unknown)[:10]}')
    flat = np.stack([np.asarray(r['keypoints'], dtype=np.float64) for r in results])
    x, y = flat[:, 0::3], flat[:, 1::3]
    x0, x1, y0, y1 = x.min(axis=1), x.max(axis=1), y.min(axis=1), y.max(axis=1)
    boxes = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1).tolist()
    areas = ((x1 - x0) * (y1 - y0)).tolist()
    for index, (record, box, area) in enumerate(zip(results, boxes, areas)):
        record['area'] = area
        record['id'] = index + 1
        record['bbox'] = box
    res = COCO()
    res.dataset['info'] = copy.deepcopy(coco_gt.dataset.get('info', {}))
    res.dataset['images'] = list(coco_gt.dataset['images'])
    res.dataset['categories'] = copy.deepcopy(coco_gt.dataset['categories'])
    res.dataset['annotations'] = results
    res.createIndex()
    return res
