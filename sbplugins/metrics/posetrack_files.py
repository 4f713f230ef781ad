"""PoseTrack 2018 files in, the tracking evaluation (``posetrack_eval.py``) out: videos paired by
file name, predicted frames aligned with the ground truth's, poseval's table."""
from __future__ import annotations

import glob
import os
from typing import List, Tuple

import numpy as np

from sbcore.errors import DataError, MissingFileError
from sbplugins.metrics.posetrack_eval import evaluate_tracking
from sbplugins.tracking.posetrack import read_posetrack18

MIN_SCORE = -9999.0  # poseval's score of a predicted joint given without one


def _json_files(path: str) -> List[str]:
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
    gts, preds = _json_files(gt_path), _json_files(pred_path)
    if len(gts) == 1 and len(preds) == 1:
        return [(gts[0], preds[0])]
    by_name = {os.path.basename(p): p for p in preds}
    missing = [os.path.basename(g) for g in gts if os.path.basename(g) not in by_name]
    if missing:
        raise DataError(f'predictions {pred_path}: no file for ground-truth video(s) {missing[:5]}'
                        f'{" ..." if len(missing) > 5 else ""} (files are paired by name)')
    return [(g, by_name[os.path.basename(g)]) for g in gts]


def aligned_frames(gt_file: str, pred_file: str) -> dict:
    """A video's ground-truth frames (all of them; ``evaluate_tracking`` drops those without
    persons), the predicted frames matched to them (by image id when the predictions use the
    ground truth's ids, else by frame order), the ground-truth frames' ignore regions (poseval
    takes them from the ground truth only) and the ground truth's keypoint names (None when its
    category does not name them).

    Predicted persons get ``scores`` (K,): the file's ``scores``, or ``MIN_SCORE`` for each joint
    where it gives none, as poseval. Two persons with one track id in a predicted frame are an
    error, as poseval refuses them."""
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
        persons = []
        for person in pred['persons'].get(mapping[im['id']], []):
            num_kpt = len(person['keypoints'])
            given = person.get('scores') or []
            if given and len(given) != num_kpt:
                raise DataError(f'{pred_file}: image {mapping[im["id"]]}: "scores" has {len(given)} '
                                f'values for {num_kpt} keypoints')
            persons.append(dict(person, scores=np.asarray(given, np.float64) if given
                                else np.full(num_kpt, MIN_SCORE)))
        track_ids = [p['track_id'] for p in persons]
        if len(set(track_ids)) != len(track_ids):
            raise DataError(f'{pred_file}: image {mapping[im["id"]]} has one track_id on two '
                            f'persons ({sorted(track_ids)}); track ids must be unique per frame')
        gt_frames.append(gt['persons'][im['id']])
        pred_frames.append(persons)
        regions.append(im['ignore_regions'])
    names = next((c['keypoints'] for c in gt['categories'] if c.get('keypoints')), None)
    return dict(gt=gt_frames, pred=pred_frames, regions=regions, keypoint_names=names)


def evaluate_files(gt_path: str, pred_path: str, pck_thr: float = 0.5,
                   poseval_quirks: bool = True) -> dict:
    """``evaluate_tracking`` over PoseTrack 2018 files or folders (see ``pair_videos``), the joints
    named by the ground truth's category (all files must name them alike)."""
    pairs = pair_videos(gt_path, pred_path)
    videos, names = [], None
    for g, p in pairs:
        video = aligned_frames(g, p)
        if names is not None and video['keypoint_names'] not in (None, names):
            raise DataError(f'{g}: its keypoint names differ from those of {pairs[0][0]}')
        names = names or video['keypoint_names']
        videos.append((video['gt'], video['pred'], video['regions']))
    result = evaluate_tracking(videos, pck_thr=pck_thr, keypoint_names=names,
                               poseval_quirks=poseval_quirks)
    result['videos'] = [dict(gt=g, pred=p) for g, p in pairs]
    return result


def format_table(result: dict) -> str:
    """poseval's table: mAP, MOTA, MOTP, precision, recall per joint group, then IDF1 and ID
    switches."""
    names = list(result['groups'])
    head = '| metric | ' + ' | '.join(names) + ' |'
    rule = '|---' * (len(names) + 1) + '|'
    rows = [head, rule]
    for key, label, scale in (('ap', 'mAP', 100), ('mota', 'MOTA', 100), ('motp', 'MOTP', 100),
                              ('precision', 'Prec', 100), ('recall', 'Rec', 100),
                              ('idf1', 'IDF1', 100), ('num_switches', 'ID switches', None)):
        cells = [(f'{result["groups"][n][key] * scale:.1f}' if scale else str(result['groups'][n][key]))
                 for n in names]
        rows.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)
