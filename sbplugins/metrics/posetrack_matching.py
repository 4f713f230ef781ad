"""The per-frame rules of the PoseTrack 2018 evaluation (``posetrack_eval.py``, whose docstring
states them all in poseval's order): which joints are there and which are scored (rule 1), ignore
regions (rule 3), PCKh distances and the pairing of predicted with ground-truth persons (rule 4)."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

# poseval's 15 landmarks (its names for the PoseTrack 2018 keypoints; poseval calls head_bottom
# "neck"): a file naming them is scored on these only, the other names (the ears) are left out.
POSEVAL_LANDMARKS = ('right_ankle', 'right_knee', 'right_hip', 'left_hip', 'left_knee', 'left_ankle',
                     'right_wrist', 'right_elbow', 'right_shoulder', 'left_shoulder', 'left_elbow',
                     'left_wrist', 'head_bottom', 'nose', 'head_top')


def annotated(keypoints: np.ndarray) -> np.ndarray:
    """(..., K) bool: the joints of (..., K, 3) keypoints that are there. Rule 1: poseval's
    PoseTrack 2018 reader skips a joint only when x, y and v (or score) are all 0."""
    return np.any(np.asarray(keypoints, np.float64) != 0, axis=-1)


def scored_joints(keypoint_names: Sequence[str]) -> List[int]:
    """Indices of the joints scored (rule 1): poseval's 15 landmarks where the names hold them all
    (the PoseTrack 2018 layout), else every joint."""
    if set(POSEVAL_LANDMARKS) <= set(keypoint_names):
        return [k for k, name in enumerate(keypoint_names) if name in POSEVAL_LANDMARKS]
    return list(range(len(keypoint_names)))


def inside_regions(points: np.ndarray, regions: Sequence[np.ndarray]) -> np.ndarray:
    """(N,) bool: which of ``points`` (N, 2) lie strictly inside any polygon of ``regions``
    ((M, 2) vertices each). A point on an edge is outside, as poseval's polygon test has it; a
    region of fewer than 3 vertices covers nothing."""
    import cv2
    points = np.asarray(points, np.float64).reshape(-1, 2)
    inside = np.zeros(len(points), bool)
    for region in regions:
        if len(region) < 3:
            continue
        contour = np.asarray(region, np.float32).reshape(-1, 1, 2)
        for i in np.flatnonzero(~inside):
            # +1 inside, 0 on an edge, -1 outside
            inside[i] = cv2.pointPolygonTest(contour, (float(points[i, 0]), float(points[i, 1])),
                                             False) > 0
    return inside


def remove_ignored(persons: Sequence[dict], regions: Sequence[np.ndarray]
                   ) -> Tuple[List[dict], int, int]:
    """Rule 3 on one frame's persons (ground truth or predictions alike): joints (``annotated``)
    inside a region become (0, 0, 0), and a person left without joints (or with none to start with,
    as poseval drops those too in a frame with regions) is dropped. The input is not changed.

    Returns:
        the persons kept, the number of joints removed, the number of persons dropped.
    """
    if not any(len(r) >= 3 for r in regions):
        return list(persons), 0, 0
    kept, removed, dropped = [], 0, 0
    for person in persons:
        kpts = np.asarray(person['keypoints'], np.float64)
        present = annotated(kpts)
        ignored = present & inside_regions(kpts[:, :2], regions)
        removed += int(ignored.sum())
        if ignored.sum() == present.sum():
            dropped += 1
        elif not ignored.any():
            kept.append(person)
        else:
            kpts = kpts.copy()
            kpts[ignored] = 0.0
            kept.append(dict(person, keypoints=kpts))
    return kept, removed, dropped


def head_sizes(gt: Sequence[dict], head_size_from_bbox: float = 0.11) -> np.ndarray:
    """(G,) PCKh head sizes of the ground-truth persons (rule 4): 0.6 x the diagonal of
    ``bbox_head`` (a degenerate head box gives 0: its joints never match, as in poseval); without
    one, ``head_size_from_bbox`` x the diagonal of ``bbox``."""
    sizes = []
    for person in gt:
        head = person.get('bbox_head')
        if head is not None:
            sizes.append(0.6 * float(np.hypot(head[2], head[3])))
        else:
            box = person.get('bbox', [0, 0, 0, 0])
            sizes.append(head_size_from_bbox * float(np.hypot(box[2], box[3])))
    return np.asarray(sizes, np.float64)


def frame_distances(gt: Sequence[dict], pred: Sequence[dict], head_size_from_bbox: float = 0.11
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised joint distances of one frame.

    Returns:
        dist (G, P, K) distance / head size (inf where either joint is absent or the head size is
        0), gt_annotated (G, K) bool, pred_present (P, K) bool (``annotated``).
    """
    num_kpt = len((list(gt) or list(pred))[0]['keypoints']) if (len(gt) or len(pred)) else 17
    g_k = np.stack([p['keypoints'] for p in gt]) if len(gt) else np.zeros((0, num_kpt, 3))
    p_k = np.stack([p['keypoints'] for p in pred]) if len(pred) else np.zeros((0, num_kpt, 3))
    labelled, present = annotated(g_k), annotated(p_k)
    d = np.linalg.norm(g_k[:, None, :, :2] - p_k[None, :, :, :2], axis=-1)
    with np.errstate(divide='ignore', invalid='ignore'):
        d = d / head_sizes(gt, head_size_from_bbox)[:, None, None]
    d = np.where(labelled[:, None] & present[None] & np.isfinite(d), d, np.inf)
    return d, labelled, present


def pair_persons(dist: np.ndarray, labelled: np.ndarray, pck_thr: float) -> Dict[int, int]:
    """pred index -> GT index (rule 4). share[g, p]: the fraction of GT g's annotated joints that
    prediction p matches. As poseval: each prediction keeps only its best GT (the first on a tie),
    then each GT takes the best of the predictions that kept it (the first on a tie); a zero share
    pairs nothing. (Not an optimal assignment: a prediction that loses its best GT stays unpaired.)"""
    if dist.shape[0] == 0 or dist.shape[1] == 0:
        return {}
    share = (dist <= pck_thr).sum(-1) / np.maximum(labelled.sum(-1), 1)[:, None]  # (G, P)
    preds = np.arange(share.shape[1])
    kept = np.zeros_like(share)
    best_gt = share.argmax(0)
    kept[best_gt, preds] = share[best_gt, preds]
    best_pred = kept.argmax(1)
    return {int(best_pred[g]): g for g in range(share.shape[0]) if kept[g, best_pred[g]] > 0}
