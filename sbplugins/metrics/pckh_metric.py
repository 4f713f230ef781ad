"""PCKh for MPII: share of joints within thr * head size of the truth (the MPII benchmark's rules)."""
from __future__ import annotations

from typing import Dict, List

import numpy as np
from sbcore.metric import BaseMetric

MPII_INFO_FILE = 'mpii'
# Reported parts as (name, joints averaged with equal weight), like the MPII evaluation script.
PARTS = (('Head', ('head_top', )), ('Shoulder', ('left_shoulder', 'right_shoulder')),
         ('Elbow', ('left_elbow', 'right_elbow')), ('Wrist', ('left_wrist', 'right_wrist')),
         ('Hip', ('left_hip', 'right_hip')), ('Knee', ('left_knee', 'right_knee')),
         ('Ankle', ('left_ankle', 'right_ankle')))
EXCLUDED_FROM_MEAN = ('pelvis', 'thorax')  # reference doc, "MPII": Mean excludes pelvis and thorax


class PCKhMetric(BaseMetric):
    """MPII PCKh.

    A labelled joint is correct when ``||pred - gt|| <= thr * head_size`` (the benchmark script
    compares with ``<=``); ``head_size`` is 0.6 * head-box diagonal, provided per instance by
    ``MpiiDataset``. Instances with ``head_size <= 0`` are skipped. ``Mean`` is the share of correct
    joints over all labelled joints except pelvis and thorax (the benchmark's joint-count weighting),
    ``Mean@0.1`` the same at threshold 0.1; each part is the plain mean of its left/right PCKh.
    All values are percentages; a joint never labelled scores 0.

    ``dataset_meta['keypoint_names']`` (set by the runner) gives the joint order; fallback: MPII's.
    """

    def __init__(self, thr: float = 0.5):
        self.thr = float(thr)
        super().__init__()  # results, dataset_meta, work_dir (set by the evaluator)

    def process(self, batch: Dict[str, np.ndarray], predictions: Dict[str, np.ndarray]) -> None:
        """Append one record per sample.

        Args:
            batch: ``keypoints`` (N, K, 2) ground truth in image pixels, ``keypoints_visible`` (N, K),
                ``head_size`` (N,) (a singleton instance axis is accepted on all three).
            predictions: ``keypoints`` (N, K, 2) image pixels.
        """
        gt = np.array(batch['keypoints'], dtype=np.float64)  # copies: callers may reuse buffers
        n = gt.shape[0]
        gt = gt.reshape(n, -1, 2)
        vis = np.array(batch['keypoints_visible'], dtype=np.float64).reshape(n, -1)
        head = np.asarray(batch['head_size'], dtype=np.float64).reshape(n)
        pred = np.array(predictions['keypoints'], dtype=np.float64).reshape(n, -1, 2)
        for i in range(n):
            self.results.append(
                dict(pred=pred[i], gt=gt[i], visible=vis[i], head_size=float(head[i])))

    def _keypoint_names(self, num_keypoints: int) -> List[str]:
        if 'keypoint_names' in self.dataset_meta:
            names = list(self.dataset_meta['keypoint_names'])
        else:
            from sbplugins.datasets.dataset_info import load_dataset_info
            names = load_dataset_info(MPII_INFO_FILE)['keypoint_names']
        if len(names) != num_keypoints:
            raise ValueError(
                f'PCKhMetric: {len(names)} keypoint names for {num_keypoints} keypoints')
        return names

    @staticmethod
    def correct_and_labelled(pred: np.ndarray, gt: np.ndarray, visible: np.ndarray,
                             head_size: np.ndarray, thr: float):
        """(N, K) bool correct joints and (N, K) bool labelled joints that count."""
        labelled = (visible > 0) & (head_size[:, None] > 0)
        dist = np.linalg.norm(pred - gt, axis=-1)
        safe_head = np.where(head_size > 0, head_size, 1.0)
        return (dist / safe_head[:, None] <= thr) & labelled, labelled

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """``pckh/Mean``, ``pckh/Mean@0.1`` and ``pckh/<Part>`` percentages over ``results``."""
        if not results:
            raise ValueError('PCKhMetric: no predictions to evaluate')
        pred = np.stack([r['pred'] for r in results])
        gt = np.stack([r['gt'] for r in results])
        vis = np.stack([r['visible'] for r in results])
        head = np.array([r['head_size'] for r in results], dtype=np.float64)
        names = self._keypoint_names(gt.shape[1])
        name2id = {name: i for i, name in enumerate(names)}
        in_mean = np.array([name not in EXCLUDED_FROM_MEAN for name in names])

        def pck(thr: float):
            correct, labelled = self.correct_and_labelled(pred, gt, vis, head, thr)
            count = labelled.sum(axis=0)
            per_joint = 100.0 * correct.sum(axis=0) / np.maximum(count, 1)
            mean = 100.0 * correct[:, in_mean].sum() / max(int(count[in_mean].sum()), 1)
            return per_joint, mean

        per_joint, mean = pck(self.thr)
        _, mean_01 = pck(0.1)
        metrics = {}
        for part, joints in PARTS:
            missing = [j for j in joints if j not in name2id]
            if missing:
                raise KeyError(f'PCKhMetric: keypoint names lack {missing} (MPII layout expected)')
            metrics[f'pckh/{part}'] = float(np.mean([per_joint[name2id[j]] for j in joints]))
        metrics['pckh/Mean'] = float(mean)
        metrics['pckh/Mean@0.1'] = float(mean_01)
        return metrics
