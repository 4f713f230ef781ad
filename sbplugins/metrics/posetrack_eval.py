"""PoseTrack 2018 evaluation of tracked poses: per-joint mAP, MOTA, MOTP, precision, recall, ID
switches (and IDF1), restated from the official evaluation (poseval), rule by rule, in the order it
applies them; each rule is restated once more where it is coded (the per-frame rules 1, 3 and 4:
``posetrack_matching.py``). Reading PoseTrack 2018 files into the frames evaluated here, and the
table, is ``posetrack_files.py``.

1. **Joints.** A joint is annotated (ground truth) or predicted when its triple is not (0, 0, 0):
   poseval's PoseTrack 2018 reader skips only joints written x = y = v = 0, so one with v = 0 and
   real coordinates counts, and the visibility (or a prediction's third value) is not read
   otherwise. A predicted joint's score is the annotation's ``scores`` entry (-9999 when the file
   gives none); no score threshold applies. Files naming the PoseTrack 2018 landmarks are scored on
   poseval's 15 (the ears, never labelled in PoseTrack, are left out); other layouts on every joint.
2. **Frames.** Ground-truth frames without any person are dropped, with their predictions, before
   anything else; ``is_labeled`` is not read.
3. **Ignore regions** (per ground-truth frame, polygons around people left unannotated), applied to
   predictions and ground truth alike: a joint strictly inside any polygon is removed (one on an edge
   stays), and in such a frame a person left without joints is dropped.
4. **Matching.** A predicted joint matches a ground-truth one within ``pck_thr`` (0.5) x the
   person's head size, 0.6 x the diagonal of its ``bbox_head`` (PCKh; without a head box, which
   poseval refuses, ``head_size_from_bbox`` x the diagonal of its ``bbox``). Per frame each
   prediction keeps the ground-truth person with the largest share of its annotated joints matched,
   and each ground-truth person then takes the best of the predictions that kept it.
5. **mAP**: per joint, the predicted joints of all frames ranked by score, a hit when its person is
   paired and the joint matches; average precision with all-point interpolation over the
   annotated joints; 0 for a joint never predicted.
6. **MOTA** per joint with ``motmetrics`` (the library poseval is built on), an accumulator per video
   and joint: per frame the ground-truth tracks with the joint annotated, the predicted tracks with
   it predicted, the distances where they match; MOTA = 1 - (misses + false positives + ID
   switches) / annotated joints, MOTP = 1 - mean normalised distance of the matches, precision and
   recall over the matches. Two of poseval's rules are kept by default (``poseval_quirks``): the last
   scored frame of each video is left out of these (not of mAP), and a frame left with no
   ground-truth person or no predicted one counts, per joint, one miss and one false positive
   whatever it holds.
7. **Groups and Total**: each figure of a joint group is the mean of its joints' figures, the Total
   the mean over all scored joints (those with a figure); counts are summed.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from sbplugins.metrics.posetrack_matching import (frame_distances, pair_persons, remove_ignored,
                                                  scored_joints)

# Joint groups of poseval's table by joint name; the head group also takes COCO's face joints.
JOINT_GROUPS = (
    ('Head', ('nose', 'head_bottom', 'head_top', 'left_eye', 'right_eye', 'left_ear', 'right_ear')),
    ('Shou', ('left_shoulder', 'right_shoulder')), ('Elb', ('left_elbow', 'right_elbow')),
    ('Wri', ('left_wrist', 'right_wrist')), ('Hip', ('left_hip', 'right_hip')),
    ('Knee', ('left_knee', 'right_knee')), ('Ankl', ('left_ankle', 'right_ankle')))
PLACEHOLDER_ID = -1  # track id of poseval's one-miss-one-false-positive stand-in (rule 6)
_MOT_COUNTS = ('num_objects', 'num_misses', 'num_false_positives', 'num_switches', 'num_matches',
               'num_detections', 'idtp', 'idfp', 'idfn')


def voc_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """Area under the precision-recall curve with all-point interpolation (PASCAL VOC 2010+)."""
    r = np.concatenate([[0.0], recall, [1.0]])
    p = np.concatenate([[0.0], precision, [0.0]])
    p = np.maximum.accumulate(p[::-1])[::-1]
    idx = np.flatnonzero(r[1:] != r[:-1])
    return float(((r[idx + 1] - r[idx]) * p[idx + 1]).sum())


def _select(persons: Sequence[dict], joints: Optional[np.ndarray]) -> List[dict]:
    """The persons with only the scored joints (rule 1); ``scores`` follow their joints."""
    if joints is None:
        return list(persons)
    out = []
    for p in persons:
        q = dict(p, keypoints=np.asarray(p['keypoints'], np.float64)[joints])
        if p.get('scores') is not None and len(p['scores']):
            q['scores'] = np.asarray(p['scores'], np.float64)[joints]
        out.append(q)
    return out


def _joint_scores(person: dict) -> np.ndarray:
    """(K,) a prediction's joint scores: its ``scores`` (the PoseTrack field poseval reads), else,
    for predictions built in memory, the keypoints' third value."""
    scores = person.get('scores')
    if scores is not None and len(scores):
        return np.asarray(scores, np.float64)
    return np.asarray(person['keypoints'], np.float64)[:, 2]


def _keypoint_names(num_kpt: int, keypoint_names: Optional[Sequence[str]]) -> List[str]:
    if keypoint_names is not None:
        if len(keypoint_names) != num_kpt:
            raise ValueError(f'evaluate_tracking: {len(keypoint_names)} keypoint names for '
                             f'{num_kpt} keypoints')
        return list(keypoint_names)
    if num_kpt == 17:
        from sbplugins.datasets.synthetic_people import KEYPOINT_NAMES  # COCO's
        return list(KEYPOINT_NAMES)
    return [f'joint_{k}' for k in range(num_kpt)]


def evaluate_tracking(videos: Sequence[tuple], pck_thr: float = 0.5,
                      head_size_from_bbox: float = 0.11,
                      keypoint_names: Optional[Sequence[str]] = None,
                      poseval_quirks: bool = True) -> dict:
    """Scores of tracked poses against ground truth (the rules: the module docstring).

    Args:
        videos: per video, (gt_frames, pred_frames) or (gt_frames, pred_frames, regions):
            equally long lists of frames, each a list of persons with ``track_id`` and
            ``keypoints`` (K, 3) (GT: x, y, visibility; predictions: x, y and a third value,
            (0, 0, 0) = not predicted); predictions may carry ``scores`` (K,) (else the third
            value is the score), GT persons ``bbox_head`` / ``bbox``. ``regions``: per frame, the
            ground truth's ignore regions, a list of (N, 2) polygons (``remove_ignored``).
        keypoint_names: the K names (default: COCO's for K = 17); they pick the joints scored
            (``scored_joints``) and the groups.
        poseval_quirks: keep poseval's two MOT rules (rule 6): last frame of each video left out,
            a frame without GT or predicted persons counted one miss and one false positive per
            joint. False: every frame, and such frames' real misses and false positives.

    Returns:
        ``per_joint``: per scored joint ``name``, ``index``, ``ap``, ``mota``, ``motp``... and the
        counts; ``groups``: per joint group and ``Total`` the means of those and the summed counts;
        ``ignored``: what the ignore regions removed; ``frames``: ``scored``, ``dropped_no_gt``
        (rule 2; ``dropped_predictions``: their predicted persons), ``mot_left_out``,
        ``placeholder`` (rule 6).
    """
    import motmetrics as mm
    names = joints = None
    scores: List[List[float]] = []
    hits: List[List[bool]] = []
    num_gt = counts = sum_d = None
    metrics_host = mm.metrics.create()
    ignored = dict(gt_keypoints=0, pred_keypoints=0, gt_persons=0, pred_persons=0,
                   frames_with_regions=0)
    frames = dict(scored=0, dropped_no_gt=0, dropped_predictions=0, mot_left_out=0, placeholder=0)
    for video in videos:
        gt_frames, pred_frames = video[0], video[1]
        regions = video[2] if len(video) > 2 else [[] for _ in gt_frames]
        if not len(gt_frames) == len(pred_frames) == len(regions):
            raise ValueError(f'evaluate_tracking: {len(gt_frames)} ground-truth frames, '
                             f'{len(pred_frames)} predicted frames, {len(regions)} frames of '
                             f'ignore regions')
        # Rule 2: ground-truth frames without persons go, with their predictions.
        kept = [t for t, gt in enumerate(gt_frames) if len(gt)]
        frames['dropped_no_gt'] += len(gt_frames) - len(kept)
        frames['dropped_predictions'] += sum(len(pred_frames[t]) for t in range(len(gt_frames))
                                             if not len(gt_frames[t]))
        if not kept:
            continue
        if names is None:
            names = _keypoint_names(len(gt_frames[kept[0]][0]['keypoints']), keypoint_names)
            scored = scored_joints(names)
            joints = None if len(scored) == len(names) else np.asarray(scored)
            names = [names[k] for k in scored]
            scores, hits = [[] for _ in names], [[] for _ in names]
            num_gt = np.zeros(len(names), np.int64)
            counts = {k: np.zeros(len(names), np.int64) for k in _MOT_COUNTS}
            sum_d = np.zeros(len(names))
        accs = [mm.MOTAccumulator(auto_id=True) for _ in names]
        for t in kept:
            gt, pred = _select(gt_frames[t], joints), _select(pred_frames[t], joints)
            if len(regions[t]):
                ignored['frames_with_regions'] += 1
                gt, n_kpt, n_person = remove_ignored(gt, regions[t])
                ignored['gt_keypoints'] += n_kpt
                ignored['gt_persons'] += n_person
                pred, n_kpt, n_person = remove_ignored(pred, regions[t])
                ignored['pred_keypoints'] += n_kpt
                ignored['pred_persons'] += n_person
            frames['scored'] += 1
            dist, labelled, present = frame_distances(gt, pred, head_size_from_bbox)
            num_gt += labelled.sum(0)
            # Rule 5: every predicted joint is ranked; a hit where its person is paired and it matches.
            pairs = pair_persons(dist, labelled, pck_thr)
            for p, person in enumerate(pred):
                g, s = pairs.get(p), _joint_scores(person)
                for k in np.flatnonzero(present[p]):
                    scores[k].append(float(s[k]))
                    hits[k].append(g is not None and bool(dist[g, p, k] <= pck_thr))
            # Rule 6, with poseval's quirks: the last frame is left out, an empty side is a stand-in.
            if poseval_quirks and t == kept[-1]:
                frames['mot_left_out'] += 1
                continue
            if poseval_quirks and not (gt and pred):
                frames['placeholder'] += 1
                for acc in accs:
                    acc.update([PLACEHOLDER_ID], [PLACEHOLDER_ID], [[np.nan]])
                continue
            for k, acc in enumerate(accs):
                g_idx, p_idx = np.flatnonzero(labelled[:, k]), np.flatnonzero(present[:, k])
                d = dist[np.ix_(g_idx, p_idx, [k])][..., 0] if len(g_idx) and len(p_idx) \
                    else np.zeros((len(g_idx), len(p_idx)))
                acc.update([int(gt[i]['track_id']) for i in g_idx],
                           [int(pred[i]['track_id']) for i in p_idx],
                           np.where(d <= pck_thr, d, np.nan))
        summary = metrics_host.compute_many(accs, metrics=list(_MOT_COUNTS) + ['motp'],
                                            names=[str(k) for k in range(len(names))])
        for key in _MOT_COUNTS:
            counts[key] += summary[key].to_numpy().astype(np.int64)
        # motp = mean distance of the matches (the MATCH and SWITCH events)
        sum_d += np.nan_to_num(summary['motp'].to_numpy(np.float64) * summary['num_detections'].to_numpy())
    if names is None:
        raise ValueError('evaluate_tracking: no frame with ground-truth persons to evaluate')
    per_joint = [dict(name=name, index=int(joints[k]) if joints is not None else k,
                      ap=_average_precision(scores[k], hits[k], int(num_gt[k])),
                      num_gt=int(num_gt[k]), sum_d=float(sum_d[k]),
                      **{key: int(counts[key][k]) for key in _MOT_COUNTS})
                 for k, name in enumerate(names)]
    for joint in per_joint:
        joint.update(_rates(joint))
    groups = {}
    for group, members in JOINT_GROUPS:
        chosen = [j for j in per_joint if j['name'] in members]
        if chosen:
            groups[group] = _summarise(chosen, np.mean)  # poseval: a joint without a figure makes the group's nan
    groups['Total'] = _summarise(per_joint, _mean_of_figures)
    return dict(per_joint=per_joint, groups=groups, pck_thr=pck_thr, ignored=ignored,
                frames=frames, poseval_quirks=poseval_quirks)


def _average_precision(scores: Sequence[float], hits: Sequence[bool], num_gt: int) -> float:
    """Rule 5 for one joint: 0 when never predicted, nan when predicted but never annotated."""
    if not len(scores):
        return 0.0
    if num_gt == 0:
        return float('nan')
    order = np.asarray(scores, np.float64).argsort()[::-1]  # poseval's ranking, ties included
    tp = np.asarray(hits, bool)[order]
    ctp = np.cumsum(tp)
    return voc_ap(ctp / num_gt, ctp / np.arange(1, len(tp) + 1))


def _rates(c: dict) -> dict:
    """A joint's figures from its counts (rule 6): nan where the denominator is 0, MOTP 0 then."""
    def ratio(a: float, b: float) -> float:
        return a / b if b else float('nan')
    det = c['num_detections']  # matches + switches
    return dict(mota=1.0 - ratio(c['num_misses'] + c['num_false_positives'] + c['num_switches'],
                                 c['num_objects']),
                motp=1.0 - c['sum_d'] / det if det else 0.0,
                precision=ratio(det, det + c['num_false_positives']),
                recall=ratio(det, c['num_objects']),
                idf1=ratio(2 * c['idtp'], 2 * c['idtp'] + c['idfp'] + c['idfn']))


def _mean_of_figures(values: Sequence[float]) -> float:
    """poseval's Total: the mean over the joints that have the figure."""
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float('nan')


def _summarise(joints: Sequence[dict], mean) -> dict:
    """Rule 7: each figure the mean of the joints' figures, counts summed."""
    out = {key: sum(j[key] for j in joints) for key in _MOT_COUNTS + ('num_gt',)}
    for key in ('ap', 'mota', 'motp', 'precision', 'recall', 'idf1'):
        out[key] = float(mean([j[key] for j in joints]))
    return out
