"""PoseTrack 2018 ignore regions: read from the files, applied by the evaluation as poseval does
(joints strictly inside a frame's polygons removed from predictions and ground truth, persons left
without joints dropped), written by the clip generator, reported by tools/eval_tracking.py.

Expected figures are worked out by hand (hand-built frame) or counted in the test from the files
(generated clip), not taken from the code under test.
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sbcore.errors import DataError
from sbplugins.datasets.synthetic_video import ensure_clips
from sbplugins.metrics.posetrack_eval import evaluate_tracking
from sbplugins.metrics.posetrack_matching import inside_regions, remove_ignored
from sbplugins.metrics.posetrack_files import evaluate_files
from sbplugins.tracking.posetrack import read_posetrack18, tracked_frame, write_posetrack18

REPO_ROOT = Path(__file__).resolve().parents[1]
# A concave L (the notch at x, y > 10 is outside) and a right triangle (outside beyond x + y = 240).
L_SHAPE = np.array([[0, 0], [40, 0], [40, 10], [10, 10], [10, 40], [0, 40]], np.float64)
TRIANGLE = np.array([[100, 100], [140, 100], [100, 140]], np.float64)
REGIONS = [L_SHAPE, TRIANGLE]


def hand_built_frame():
    """GT persons A (4 joints inside, 2 on edges), B (its 12 labelled joints inside the L, 5
    unlabelled (0, 0, 0)), C (all outside); predictions: A and C exactly (score 0.8) and a ghost
    with all 17 joints inside the triangle (score 0.95)."""
    a = np.array([[5, 5], [20, 5], [5, 20], [110, 110],              # inside
                  [20, 20], [50, 5], [125, 125],                     # outside (notch, right, beyond)
                  [40, 5], [10, 20], [120, 120]]                     # on edges: kept
                 + [[200 + 3 * k, 200] for k in range(7)], np.float64)
    b = np.array([[2 + 0.5 * k, 3] for k in range(12)] + [[0, 0]] * 5, np.float64)
    c = np.array([[300 + k, 50] for k in range(17)], np.float64)
    ghost = np.array([[102 + k, 105] for k in range(17)], np.float64)

    def gt(track_id, xy, labelled):
        return dict(track_id=track_id, keypoints=np.column_stack([xy, np.where(labelled, 2.0, 0.0)]),
                    bbox_head=[float(xy[0, 0]), float(xy[0, 1]), 20.0, 20.0])

    def pred(track_id, xy, score):
        return dict(track_id=track_id, keypoints=np.column_stack([xy, np.full(17, score)]))

    everything = np.ones(17, bool)
    gts = [gt(0, a, everything), gt(1, b, np.arange(17) < 12), gt(2, c, everything)]
    preds = [pred(10, a, 0.8), pred(11, ghost, 0.95), pred(12, c, 0.8)]
    return gts, preds


def test_joints_strictly_inside_a_region_are_removed_and_emptied_persons_dropped():
    got = inside_regions(np.array([[5, 5], [20, 20], [40, 5], [10, 20], [0, 0], [110, 110],
                                   [120, 120], [125, 125], [-1, 5]]), REGIONS)
    assert got.tolist() == [True, False, False, False, False, True, False, False, False]
    assert not inside_regions([[5, 5]], [L_SHAPE[:2]]).any()  # two vertices cover nothing

    gts, preds = hand_built_frame()
    before = [p['keypoints'].copy() for p in gts]
    kept, removed, dropped = remove_ignored(gts, REGIONS)
    assert (removed, dropped) == (4 + 12, 1)  # A loses 4 joints, B its 12 labelled ones: dropped
    assert [p['track_id'] for p in kept] == [0, 2]
    a = kept[0]['keypoints']
    assert (a[:4] == 0).all() and (a[4:, 2] == 2).all()  # edges and outside points stay labelled
    assert kept[1] is gts[2]  # untouched persons are passed as they are
    assert all((p['keypoints'] == k).all() for p, k in zip(gts, before))  # the input is unchanged
    kept, removed, dropped = remove_ignored(preds, REGIONS)
    assert (removed, dropped) == (4 + 17, 1) and [p['track_id'] for p in kept] == [10, 12]
    assert remove_ignored(preds, []) == (preds, 0, 0)


def test_evaluation_with_ignore_regions_on_the_hand_built_frame():
    gts, preds = hand_built_frame()
    # One frame: scored for MOT too only without poseval's last-frame rule.
    plain = evaluate_tracking([([gts], [preds])], poseval_quirks=False)
    total = plain['groups']['Total']
    # Without regions: B's 12 joints are missed, the ghost's 17 are false positives, of 46.
    assert (total['num_objects'], total['num_misses'], total['num_false_positives']) == (46, 12, 17)
    # MOTA per joint, then the mean: joints 0-11 1 - (1 miss + 1 FP) / 3, joints 12-16 1 - 1 / 2.
    assert total['mota'] == pytest.approx((12 * (1 - 2 / 3) + 5 * (1 - 1 / 2)) / 17)
    # Per joint the ghost (0.95) ranks before A and C (0.8, both hits): AP 2/3 with 2 GT joints,
    # (2/3) x (2/3) where B is labelled too (joints 0-11), recall stopping at 2/3.
    assert total['ap'] == pytest.approx((12 * 4 / 9 + 5 * 2 / 3) / 17)
    assert plain['ignored'] == dict(gt_keypoints=0, pred_keypoints=0, gt_persons=0, pred_persons=0,
                                    frames_with_regions=0)

    ignoring = evaluate_tracking([([gts], [preds], [REGIONS])], poseval_quirks=False)
    total = ignoring['groups']['Total']
    assert (total['num_objects'], total['num_misses'], total['num_false_positives']) == (30, 0, 0)
    assert (total['mota'], total['ap']) == (1.0, 1.0)
    assert ignoring['ignored'] == dict(gt_keypoints=16, pred_keypoints=21, gt_persons=1,
                                       pred_persons=1, frames_with_regions=1)
    with pytest.raises(ValueError, match='1 frames of ignore regions'):
        evaluate_tracking([([gts, gts], [preds, preds], [REGIONS])])


def write_gt(path, images):
    path.write_text(json.dumps(dict(images=images, annotations=[
        dict(id=1, image_id=images[0]['id'], track_id=0, category_id=1, bbox=[0, 0, 50, 60],
             bbox_head=[0, 0, 10, 10], keypoints=[20.0, 30.0, 2] * 17)], categories=[])))


def test_ignore_regions_round_trip_through_the_posetrack_reader_and_dataset(tmp_path):
    from sbcore.registries import DATASETS

    def image(i, **regions):
        return dict(id=100 + i, file_name=f'images/val/x/{i:06d}.jpg', frame_id=100 + i,
                    vid_id='000001', is_labeled=True, width=320, height=256, **regions)

    images = [image(0, ignore_regions_x=[L_SHAPE[:, 0].tolist(), TRIANGLE[:, 0].tolist()],
                    ignore_regions_y=[L_SHAPE[:, 1].tolist(), TRIANGLE[:, 1].tolist()]),
              image(1, ignore_regions_x=TRIANGLE[:, 0].tolist(),  # one region as a flat list
                    ignore_regions_y=TRIANGLE[:, 1].tolist()),
              image(2), image(3, ignore_regions_x=[], ignore_regions_y=[])]
    path = tmp_path / 'gt.json'
    write_gt(path, images)
    back = read_posetrack18(str(path))
    regions = [im['ignore_regions'] for im in back['images']]
    assert [len(r) for r in regions] == [2, 1, 0, 0]
    np.testing.assert_array_equal(regions[0][0], L_SHAPE)
    np.testing.assert_array_equal(regions[0][1], TRIANGLE)
    np.testing.assert_array_equal(regions[1][0], TRIANGLE)
    assert back['images'][0]['ignore_regions_x'][1] == TRIANGLE[:, 0].tolist()  # raw fields kept

    ds = DATASETS.build(dict(type='PoseTrack18Dataset', ann_file=str(path),
                             metainfo=dict(from_file='coco')))
    assert len(ds.data_list) == 1
    np.testing.assert_array_equal(ds.data_list[0]['ignore_regions'][1], TRIANGLE)
    assert sorted(ds.ignore_regions) == [100, 101, 102, 103]  # every labelled frame, persons or not
    np.testing.assert_array_equal(ds.ignore_regions[101][0], TRIANGLE)
    assert ds.ignore_regions[102] == [] and ds[0]['ignore_regions'][0].dtype == np.float32

    for bad, message in ((dict(ignore_regions_x=[[1, 2, 3]]), 'ignore_regions_x without ignore_regions_y'),
                         (dict(ignore_regions_x=[[1, 2, 3]], ignore_regions_y=[[1, 2, 3], [4, 5, 6]]),
                          '1 regions in ignore_regions_x but 2'),
                         (dict(ignore_regions_x=[[1, 2, 3]], ignore_regions_y=[[1, 2]]),
                          'region 0 has 3 x but 2 y'),
                         (dict(ignore_regions_x=[['a', 2, 3]], ignore_regions_y=[[1, 2, 3]]),
                          'not numbers')):
        write_gt(path, [images[2], image(1, **bad)])
        with pytest.raises(DataError, match=message) as err:
            read_posetrack18(str(path))
        assert f'{path}: images[1]' in str(err.value)


def test_eval_on_a_clip_with_an_ignore_region_does_not_count_a_prediction_there(tmp_path):
    """The occluding clip written with its pillar as ignore region; predictions: the ground truth
    (score 0.9) plus a ghost in the pillar's top (score 1.0) in every frame."""
    (seq, paths), = ensure_clips(str(tmp_path / 'clips'), scenarios=('occluding',), num_frames=30,
                                 ignore_occluders=True).items()
    raw = json.loads(Path(paths['ann']).read_text())
    (xs,), (ys,) = raw['images'][0]['ignore_regions_x'], raw['images'][0]['ignore_regions_y']
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    assert len(xs) == 4 and (y0, y1) == (0, 256) and 100 < x0 < x1 < 220  # the pillar, all frames
    assert all(im['ignore_regions_x'] == [xs] for im in raw['images'])
    plain_root = tmp_path / 'plain'
    plain = ensure_clips(str(plain_root), scenarios=('occluding',), num_frames=5)[seq]
    assert json.loads(Path(plain['ann']).read_text())['images'][0]['ignore_regions_x'] == []

    gt = read_posetrack18(paths['ann'])
    rng = np.random.default_rng(0)
    frames = []
    for im in gt['images']:
        persons = [dict(track_id=p['track_id'], keypoints=p['keypoints'][:, :2],
                        keypoint_scores=np.where(p['keypoints'][:, 2] > 0, 0.9, 0.0),
                        bbox=p['bbox'], bbox_score=1.0) for p in gt['persons'][im['id']]]
        ghost = np.column_stack([rng.uniform(x0 + 5, x1 - 5, 17), rng.uniform(5, 50, 17)])
        persons.append(dict(track_id=99, keypoints=ghost, keypoint_scores=np.ones(17),
                            bbox=[x0, 0, x1 - x0, 60], bbox_score=1.0))
        frames.append(tracked_frame(im['id'], im['file_name'], persons=persons))
    pred = tmp_path / 'pred' / f'{seq}.json'
    write_posetrack18(str(pred), frames, joint_thr=0.5)

    # Counted from the files: labelled joints per joint type, those strictly inside the pillar,
    # and the persons whose labelled joints all are.
    # MOTA leaves the last frame out (poseval's rule); every frame has a person, so none is dropped.
    last_id = raw['images'][-1]['id']
    assert {a['image_id'] for a in raw['annotations']} == {im['id'] for im in raw['images']}
    kpts = [p['keypoints'] for im in raw['images'] for p in raw['annotations']
            if p['image_id'] == im['id']]
    in_mot = np.array([p['image_id'] != last_id for im in raw['images'] for p in raw['annotations']
                       if p['image_id'] == im['id']])
    kpts = np.array(kpts).reshape(-1, 17, 3)
    labelled = kpts[..., 2] > 0
    inside = labelled & (kpts[..., 0] > x0) & (kpts[..., 0] < x1) & (kpts[..., 1] > y0) & (kpts[..., 1] < y1)
    n_frames, n_gt, n_in = len(raw['images']), labelled.sum(0), inside.sum(0)
    n_gt_mot, n_in_mot = labelled[in_mot].sum(0), inside[in_mot].sum(0)
    assert n_in.sum() > 0 and n_gt_mot.min() > 0  # the walker does pass behind the pillar
    emptied = int((labelled.any(1) & (inside.sum(1) == labelled.sum(1))).sum())

    no_regions = tmp_path / 'gt_no_regions.json'
    no_regions.write_text(json.dumps(dict(raw, images=[
        {k: v for k, v in im.items() if not k.startswith('ignore_regions')} for im in raw['images']])))
    before = evaluate_files(str(no_regions), str(pred))
    total = before['groups']['Total']
    assert total['num_false_positives'] == 17 * (n_frames - 1) and total['num_misses'] == 0
    # Per joint one ghost false positive per MOT frame; Total: the mean over the joints.
    assert total['mota'] == pytest.approx(np.mean(1 - (n_frames - 1) / n_gt_mot))
    # The ghost's joints (1.0) rank before every true one (0.9): AP = n / (n + frames) per joint.
    assert total['ap'] == pytest.approx(np.mean(n_gt / (n_gt + n_frames)))

    metrics = tmp_path / 'metrics.json'
    proc = subprocess.run([sys.executable, 'tools/eval_tracking.py', '--gt', paths['ann'],
                           '--pred', str(pred), '--out', str(metrics)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (f'ignore regions in {n_frames} frame(s): ignored {n_in.sum() + 17 * n_frames} predicted '
            f'keypoints ({n_frames + emptied} persons dropped whole) and {n_in.sum()} ground-truth '
            f'keypoints ({emptied} persons)') in proc.stdout
    after = json.loads(metrics.read_text())
    total = after['groups']['Total']
    assert (total['num_false_positives'], total['num_misses']) == (0, 0)
    assert total['num_objects'] == n_gt_mot.sum() - n_in_mot.sum()
    assert (total['mota'], total['ap']) == (1.0, 1.0)
    assert before['groups']['Total']['mota'] < 1.0 and before['groups']['Total']['ap'] < 1.0
