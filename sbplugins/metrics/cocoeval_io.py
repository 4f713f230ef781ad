"""COCOeval's keypoint input and output around ``CocoMetric``: the predictions loaded as
pycocotools' ``loadRes`` would (its per-pose loop vectorised), and the summary statistics for any
number of detections per image (the libraries' ``summarize`` is written for 20)."""
from __future__ import annotations

import contextlib
import copy
import io
from typing import List, Optional

import numpy as np

METRIC_NAMES = ('AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)',
                'AR (L)')
# xtcocotools' keypoints_crowd summary (CrowdPose): AP/AR at all, .5, .75, then AP per crowd level
CROWD_METRIC_NAMES = ('AP', 'AP .5', 'AP .75', 'AR', 'AR .5', 'AR .75', 'AP(E)', 'AP(M)', 'AP(H)')
# CrowdPose's crowd-index levels as xtcocotools' summary splits them: easy < 0.2 <= medium < 0.8
CROWD_LEVELS = (0.2, 0.8)


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


def summary_stats(coco_eval, iou_type: str = 'keypoints', verbose: bool = False) -> np.ndarray:
    """COCOeval's keypoint summary restated for any single ``params.maxDets``.

    The libraries' ``summarize`` hard-codes 20 detections; this reads the same cells of the
    accumulated ``eval['precision']`` (T, R, K, A, M) and ``eval['recall']`` (T, K, A, M): the
    mean over the cells > -1 (-1 when none) at IoU .5:.95, .5, .75 and the area ranges.
    ``keypoints_crowd`` adds xtcocotools' crowd-level AP (``get_type_result``).

    Returns:
        (10,) for ``'keypoints'`` (``METRIC_NAMES``), (9,) for ``'keypoints_crowd'``.
    """
    p, ev = coco_eval.params, coco_eval.eval

    def cell(ap: bool, iou: Optional[float] = None, area: str = 'all') -> float:
        s = ev['precision'][..., p.areaRngLbl.index(area), 0] if ap else \
            ev['recall'][..., p.areaRngLbl.index(area), 0]
        if iou is not None:
            s = s[np.flatnonzero(np.isclose(p.iouThrs, iou))]
        valid = s[s > -1]
        return float(valid.mean()) if valid.size else -1.0

    if iou_type == 'keypoints_crowd':
        stats = [cell(True), cell(True, .5), cell(True, .75), cell(False), cell(False, .5),
                 cell(False, .75)]
        with contextlib.redirect_stdout(io.StringIO()):
            stats += list(coco_eval.get_type_result(*CROWD_LEVELS))
        names = CROWD_METRIC_NAMES
    else:
        stats = [cell(True), cell(True, .5), cell(True, .75), cell(True, area='medium'),
                 cell(True, area='large'), cell(False), cell(False, .5), cell(False, .75),
                 cell(False, area='medium'), cell(False, area='large')]
        names = METRIC_NAMES
    if verbose:
        for name, value in zip(names, stats):
            print(f' {name:<8} @ maxDets={p.maxDets[0]:>3d} = {value:0.3f}')
    return np.asarray(stats, dtype=np.float64)
