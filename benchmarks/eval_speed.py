"""``tools/benchmark.py --mode eval``: the whole ``CocoMetric`` against pycocotools' COCOeval alone.

The metric (rescoring, OKS-NMS, results file, COCOeval) runs on a synthetic val2017-scale set
(``--eval-images`` images, ``--eval-persons`` detections, ``benchmarks/synthetic_coco.py``), then
COCOeval alone on the same detections.
"""
from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path
from typing import Dict

import numpy as np

from benchmarks import ms_steps  # imports sbcore before mindspore
from benchmarks.synthetic_coco import make_val_scale_set


def bench_eval(cfg, args) -> Dict[str, float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from sbplugins.metrics.coco_metric import CocoMetric
    with tempfile.TemporaryDirectory() as tmp:
        ann_file, batch, preds = make_val_scale_set(Path(tmp), args.eval_images,
                                                    args.eval_persons)
        metric_times, cocoeval_times = [], []
        for rep in range(args.warmup + args.iters):
            metric = CocoMetric(ann_file=str(ann_file), outfile_prefix=str(Path(tmp) / 'out'))
            t0 = time.perf_counter()
            metric.process(batch, preds)
            with contextlib.redirect_stdout(io.StringIO()):
                metrics = metric.compute_metrics(metric.results)
            metric_s = time.perf_counter() - t0

            # COCOeval alone on the same detections (as official-schema results, no NMS)
            flat = np.concatenate([preds['keypoints'], preds['keypoint_scores'][..., None]], -1)
            results = [dict(image_id=int(i), category_id=1, keypoints=k, score=float(s))
                       for i, k, s in zip(batch['img_id'], flat.reshape(len(flat), -1),
                                          batch['bbox_score'])]
            with contextlib.redirect_stdout(io.StringIO()):
                coco = COCO(str(ann_file))
                t0 = time.perf_counter()
                evaluator = COCOeval(coco, coco.loadRes(results), 'keypoints')
                evaluator.params.useSegm = None
                evaluator.evaluate()
                evaluator.accumulate()
                evaluator.summarize()
            cocoeval_s = time.perf_counter() - t0
            if rep >= args.warmup:
                metric_times.append(metric_s)
                cocoeval_times.append(cocoeval_s)
    eval_s, cocoeval_s = ms_steps.median(metric_times), ms_steps.median(cocoeval_times)
    return dict(eval_s=eval_s, cocoeval_s=cocoeval_s, eval_vs_cocoeval=eval_s / cocoeval_s,
                eval_images=args.eval_images, eval_persons=args.eval_persons,
                eval_ap=metrics['coco/AP'])

