"""PoseTrack-style evaluation of tracked poses: per-joint mAP and MOTA, ID switches, IDF1.

Restated from the PoseTrack evaluation (poseval):

- a predicted joint matches a ground-truth joint when their distance is at most ``pck_thr`` (0.5)
  times the person's head size, 0.6 x the diagonal of its ``bbox_head`` (PCKh); without a head
  box, ``head_size_from_bbox`` x the diagonal of its ``bbox``;
- per frame, predicted and ground-truth persons are paired by the Hungarian method on the share of
  the ground truth's labelled joints that match (PCKh);
- mAP: per joint, the predicted joints ranked by score, true positive when paired and matching,
  average precision over all frames (all-point interpolation), then the mean over joints;
- MOTA per joint with ``motmetrics`` (the library poseval is built on): per video and frame the
  ground-truth tracks with the joint labelled, the predicted tracks with the joint predicted
  (score > 0), distances where within the PCKh threshold; MOTA = 1 - (misses + false positives +
  ID switches) / ground-truth joints, summed over videos; "Total" sums over joints. IDF1 likewise
  from ``motmetrics``' identity counts.

Ground-truth joints count when labelled (v > 0).

Ignore regions (PoseTrack 2018: per ground-truth frame, polygons around people left unannotated),
as poseval applies them before any matching, to predictions and ground truth alike: a joint
strictly inside any of the frame's polygons is removed (a joint on an edge stays), and a person
left without joints is dropped. A prediction there is then neither a false positive nor a hit,
and an unannotated person's ground truth there is not a miss.
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

# Joint groups of the COCO / PoseTrack 2018 layout (17 joints), as in poseval's table.
JOINT_GROUPS = (('Head', (0, 1, 2, 3, 4)), ('Shou', (5, 6)), ('Elb', (7, 8)), ('Wri', (9, 10)),
                ('Hip', (11, 12)), ('Knee', (13, 14)), ('Ankl', (15, 16)))
_MOT_COUNTS = ('num_objects', 'num_misses', 'num_false_positives', 'num_switches', 'num_matches',
               'idtp', 'idfp', 'idfn')


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
    """poseval's ignore-region rule on one frame's persons (ground truth or predictions alike).

    A person's joints are those with a third value > 0 (labelled / predicted); those inside a
    region become (0, 0, 0), i.e. absent, and a person left without joints is dropped. The input
    is not changed.

    Returns:
        the persons kept, the number of joints removed, the number of persons dropped.
    """
    if not any(len(r) >= 3 for r in regions):
        return list(persons), 0, 0
    kept, removed, dropped = [], 0, 0
    for person in persons:
        kpts = np.asarray(person['keypoints'], np.float64)
        present = kpts[:, 2] > 0
        ignored = present & inside_regions(kpts[:, :2], regions)
        if not ignored.any():
            kept.append(person)
            continue
        removed += int(ignored.sum())
        if ignored.sum() == present.sum():
            dropped += 1
            continue
        kpts = kpts.copy()
        kpts[ignored] = 0.0
        kept.append(dict(person, keypoints=kpts))
    return kept, removed, dropped


def head_sizes(gt: Sequence[dict], head_size_from_bbox: float = 0.11) -> np.ndarray:
    """(G,) PCKh head sizes of the ground-truth persons."""
    sizes = []
    for person in gt:
        head = person.get('bbox_head')
        if head is not None and float(head[2]) > 0 and float(head[3]) > 0:
            sizes.append(0.6 * float(np.hypot(head[2], head[3])))
        else:
            box = person.get('bbox', [0, 0, 0, 0])
            sizes.append(head_size_from_bbox * float(np.hypot(box[2], box[3])))
    return np.maximum(np.asarray(sizes, np.float64), 1e-6)


def frame_distances(gt: Sequence[dict], pred: Sequence[dict], head_size_from_bbox: float = 0.11
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised joint distances of one frame.

    Returns:
        dist (G, P, K) distance / head size (inf where the GT joint is unlabelled or the joint is
        not predicted), gt_labelled (G, K) bool, pred_present (P, K) bool.
    """
    g_k = np.stack([p['keypoints'] for p in gt]) if gt else np.zeros((0, 17, 3))
    p_k = np.stack([p['keypoints'] for p in pred]) if pred else np.zeros((0, g_k.shape[1], 3))
    labelled = g_k[..., 2] > 0
    present = p_k[..., 2] > 0
    d = np.linalg.norm(g_k[:, None, :, :2] - p_k[None, :, :, :2], axis=-1)
    d = d / head_sizes(gt, head_size_from_bbox)[:, None, None] if gt else d
    d = np.where(labelled[:, None] & present[None], d, np.inf)
    return d, labelled, present


def _pair_persons(dist: np.ndarray, labelled: np.ndarray, pck_thr: float) -> Dict[int, int]:
    """pred index -> GT index, Hungarian on the PCKh share of each GT's labelled joints."""
    from scipy.optimize import linear_sum_assignment
    if dist.shape[0] == 0 or dist.shape[1] == 0:
        return {}
    share = (dist <= pck_thr).sum(-1) / np.maximum(labelled.sum(-1), 1)[:, None]  # (G, P)
    rows, cols = linear_sum_assignment(-share)
    return {int(c): int(r) for r, c in zip(rows, cols) if share[r, c] > 0}


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision-recall curve with all-point interpolation (PASCAL VOC 2010+)."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    idx = np.flatnonzero(r[1:] != r[:-1])
    return float(((r[idx + 1] - r[idx]) * p[idx + 1]).sum())


def evaluate_tracking(videos: Sequence[tuple], pck_thr: float = 0.5,
                      head_size_from_bbox: float = 0.11) -> dict:
    """Scores of tracked poses against ground truth.

    Args:
        videos: per video, (gt_frames, pred_frames) or (gt_frames, pred_frames, regions):
            equally long lists of frames, each a list of persons with ``track_id`` and
            ``keypoints`` (K, 3) (GT: x, y, visibility; predictions: x, y, score with 0 = not
            predicted); GT persons may carry ``bbox_head`` / ``bbox``. ``regions``: per frame,
            the ground truth's ignore regions, a list of (N, 2) polygons (``remove_ignored``).

    Returns:
        ``per_joint``: per joint ``ap``, ``mota`` and the counts; ``groups``: per joint group and
        ``Total``: ``ap``, ``mota``, ``idf1``, ``precision``, ``recall``, ``num_switches``...;
        ``ignored``: what the ignore regions removed (``gt_keypoints``, ``pred_keypoints``,
        ``gt_persons``, ``pred_persons``, ``frames_with_regions``).
    """
    import motmetrics as mm
    num_kpt = None
    scores: List[List[float]] = []
    hits: List[List[bool]] = []
    num_gt = None
    counts = None
    metrics_host = mm.metrics.create()
    ignored = dict(gt_keypoints=0, pred_keypoints=0, gt_persons=0, pred_persons=0,
                   frames_with_regions=0)
    for video in videos:
        gt_frames, pred_frames = video[0], video[1]
        regions = video[2] if len(video) > 2 else [[] for _ in gt_frames]
        if not len(gt_frames) == len(pred_frames) == len(regions):
            raise ValueError(f'evaluate_tracking: {len(gt_frames)} ground-truth frames, '
                             f'{len(pred_frames)} predicted frames, {len(regions)} frames of '
                             f'ignore regions')
        accs = None
        for gt, pred, frame_regions in zip(gt_frames, pred_frames, regions):
            if len(frame_regions):
                ignored['frames_with_regions'] += 1
                gt, n_kpt, n_person = remove_ignored(gt, frame_regions)
                ignored['gt_keypoints'] += n_kpt
                ignored['gt_persons'] += n_person
                pred, n_kpt, n_person = remove_ignored(pred, frame_regions)
                ignored['pred_keypoints'] += n_kpt
                ignored['pred_persons'] += n_person
            dist, labelled, present = frame_distances(gt, pred, head_size_from_bbox)
            if num_kpt is None:
                num_kpt = dist.shape[2] if dist.ndim == 3 else 17
                scores = [[] for _ in range(num_kpt)]
                hits = [[] for _ in range(num_kpt)]
                num_gt = np.zeros(num_kpt, np.int64)
                counts = {k: np.zeros(num_kpt, np.int64) for k in _MOT_COUNTS}
            if accs is None:
                accs = [mm.MOTAccumulator(auto_id=True) for _ in range(num_kpt)]
            pairs = _pair_persons(dist, labelled, pck_thr)
            num_gt += labelled.sum(0)
            for p, person in enumerate(pred):
                g = pairs.get(p)
                for k in np.flatnonzero(present[p]):
                    scores[k].append(float(person['keypoints'][k, 2]))
                    hits[k].append(g is not None and bool(dist[g, p, k] <= pck_thr))
            for k in range(num_kpt):
                g_idx, p_idx = np.flatnonzero(labelled[:, k]), np.flatnonzero(present[:, k])
                d = dist[np.ix_(g_idx, p_idx, [k])][..., 0] if len(g_idx) and len(p_idx) \
                    else np.zeros((len(g_idx), len(p_idx)))
                d = np.where(d <= pck_thr, d, np.nan)
                accs[k].update([int(gt[i]['track_id']) for i in g_idx],
                               [int(pred[i]['track_id']) for i in p_idx], d)
        if accs is None:
            continue
        summary = metrics_host.compute_many(accs, metrics=list(_MOT_COUNTS),
                                            names=[str(k) for k in range(num_kpt)])
        for key in _MOT_COUNTS:
            counts[key] += summary[key].to_numpy().astype(np.int64)
    if num_kpt is None:
        raise ValueError('evaluate_tracking: no frames to evaluate')
    per_joint = []
    for k in range(num_kpt):
        order = np.argsort(-np.asarray(scores[k]), kind='stable')
        tp = np.asarray(hits[k], bool)[order]
        ctp, cfp = np.cumsum(tp), np.cumsum(~tp)
        recall = ctp / max(int(num_gt[k]), 1)
        precision = ctp / np.maximum(ctp + cfp, 1)
        ap = voc_ap(recall, precision) if num_gt[k] > 0 else float('nan')
        per_joint.append(dict(ap=ap, num_gt=int(num_gt[k]),
                              **{key: int(counts[key][k]) for key in _MOT_COUNTS}))
    groups = {}
    if num_kpt == len(per_joint) == 17:  # the COCO / PoseTrack 2018 layout
        for name, joints in JOINT_GROUPS:
            groups[name] = _summarise([per_joint[k] for k in joints])
    groups['Total'] = _summarise(per_joint)
    return dict(per_joint=per_joint, groups=groups, pck_thr=pck_thr, ignored=ignored)


def _summarise(joints: Sequence[dict]) -> dict:
    c = {key: sum(j[key] for j in joints) for key in _MOT_COUNTS}
    n = max(c['num_objects'], 1)
    aps = [j['ap'] for j in joints if j['num_gt'] > 0]
    found = c['num_matches'] + c['num_switches']  # motmetrics counts switches apart from matches
    return dict(
        ap=float(np.mean(aps)) if aps else float('nan'),
        mota=1.0 - (c['num_misses'] + c['num_false_positives'] + c['num_switches']) / n,
        idf1=2 * c['idtp'] / max(2 * c['idtp'] + c['idfp'] + c['idfn'], 1),
        precision=found / max(found + c['num_false_positives'], 1),
        recall=found / n, **c)


def _json_files(path: str) -> List[str]:
    import glob
    import os
    from sbcore.errors import MissingFileError
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(path, '*.json')))
        if not files:
            raise MissingFileError(f'{path}: no *.json PoseTrack files in this folder')
        return files
    if not os.path.isfile(path):
        raise MissingFileError(f'{path}: no such PoseTrack file or folder')
    return [path]


def pair_videos(gt_path: str, pred_path: str) -> List[Tuple[str, str]]:
    """(gt file, prediction file) per video. Files or folders of per-video files; in folders,
    videos are paired by file name; a single file on each side is paired as is. Ground-truth
    videos without predictions are an error (they would silently raise the score)."""
    import os
    from sbcore.errors import DataError
    gts, preds = _json_files(gt_path), _json_files(pred_path)
    if len(gts) == 1 and len(preds) == 1:
        return [(gts[0], preds[0])]
    by_name = {os.path.basename(p): p for p in preds}
    missing = [os.path.basename(g) for g in gts if os.path.basename(g) not in by_name]
    if missing:
        raise DataError(f'predictions {pred_path}: no file for ground-truth video(s) {missing[:5]}'
                        f'{" ..." if len(missing) > 5 else ""} (files are paired by name)')
    return [(g, by_name[os.path.basename(g)]) for g in gts]


def aligned_frames(gt_file: str, pred_file: str
                   ) -> Tuple[List[List[dict]], List[List[dict]], List[List[np.ndarray]]]:
    """The labelled ground-truth frames of a video, the predicted frames matched to them (by
    image id when the predictions use the ground truth's ids, else by frame order) and the
    ground-truth frames' ignore regions (poseval takes them from the ground truth only)."""
    from sbcore.errors import DataError
    from sbplugins.tracking.posetrack import read_posetrack18
    gt, pred = read_posetrack18(gt_file), read_posetrack18(pred_file)
    gt_ids = [im['id'] for im in gt['images']]
    pred_ids = [im['id'] for im in pred['images']]
    if set(pred_ids) <= set(gt_ids):
        mapping = {i: i for i in gt_ids}
    elif len(pred_ids) == len(gt_ids):
        mapping = dict(zip(gt_ids, pred_ids))
    else:
        raise DataError(f'{pred_file}: its {len(pred_ids)} frames match neither the image ids nor '
                        f'the frame count ({len(gt_ids)}) of {gt_file}')
    gt_frames, pred_frames, regions = [], [], []
    for im in gt['images']:
        if not im.get('is_labeled', True):
            continue
        gt_frames.append(gt['persons'][im['id']])
        pred_frames.append(pred['persons'].get(mapping[im['id']], []))
        regions.append(im['ignore_regions'])
    return gt_frames, pred_frames, regions


def evaluate_files(gt_path: str, pred_path: str, pck_thr: float = 0.5) -> dict:
    """``evaluate_tracking`` over PoseTrack 2018 files or folders (see ``pair_videos``)."""
    pairs = pair_videos(gt_path, pred_path)
    result = evaluate_tracking([aligned_frames(g, p) for g, p in pairs], pck_thr=pck_thr)
    result['videos'] = [dict(gt=g, pred=p) for g, p in pairs]
    return result


def format_table(result: dict) -> str:
    """poseval's table: mAP and MOTA per joint group, then IDF1, ID switches, precision, recall."""
    names = list(result['groups'])
    head = '| metric | ' + ' | '.join(names) + ' |'
    rule = '|---' * (len(names) + 1) + '|'
    rows = [head, rule]
    for key, label, scale in (('ap', 'mAP', 100), ('mota', 'MOTA', 100), ('idf1', 'IDF1', 100),
                              ('num_switches', 'ID switches', None), ('precision', 'Prec', 100),
                              ('recall', 'Rec', 100)):
        cells = [(f'{result["groups"][n][key] * scale:.1f}' if scale else str(result['groups'][n][key]))
                 for n in names]
        rows.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)
