"""The PoseTrack evaluation's rules restated from poseval, one test per rule, on hand-built frames
whose MOTA / mAP are worked out by hand in the test (the arithmetic in the comments), not taken
from the code under test.

Throughout: head boxes 30 x 40 (diagonal 50, head size 0.6 x 50 = 30), so a predicted joint
matches within 0.5 x 30 = 15 px; people stand hundreds of pixels apart.
"""
import json

import numpy as np
import pytest

from sbcore.errors import DataError
from sbplugins.metrics.posetrack_eval import evaluate_tracking
from sbplugins.metrics.posetrack_files import MIN_SCORE, aligned_frames, evaluate_files
from sbplugins.metrics.posetrack_matching import (annotated, frame_distances, pair_persons,
                                                  remove_ignored)
from sbplugins.tracking.posetrack import person_category, tracked_frame, write_posetrack18

HEAD = [0.0, 0.0, 30.0, 40.0]
POSETRACK18_NAMES = ['nose', 'head_bottom', 'head_top', 'left_ear', 'right_ear', 'left_shoulder',
                     'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
                     'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                     'right_ankle']


def person(track_id, xy, third=2.0, **extra):
    """A person of K = len(xy) joints; a None entry of xy is written (0, 0, 0)."""
    kpts = np.array([[0.0, 0.0, 0.0] if p is None else [p[0], p[1], third] for p in xy])
    return dict(track_id=track_id, keypoints=kpts, bbox_head=HEAD, **extra)


def two_joints(track_id, x, third=2.0):
    return person(track_id, [(x, 100), (x, 200)], third)


def total(result):
    return result['groups']['Total']


def test_frames_without_ground_truth_persons_are_dropped_with_their_predictions():
    # Frame 1 has no ground-truth person and a ghost prediction (score 0.95); poseval drops both.
    gt = [[two_joints(0, 100)], [], [two_joints(0, 100)]]
    pred = [[two_joints(10, 100, 0.9)], [two_joints(11, 600, 0.95)], [two_joints(10, 100, 0.9)]]
    got = evaluate_tracking([(gt, pred)], keypoint_names=['a', 'b'], poseval_quirks=False)
    # Per joint 2 objects, 2 matches: MOTA 1; 2 hits of 2: AP 1. Kept, the ghost would make
    # MOTA 1 - 1 / 2 and AP (ghost first) 0.5 x 2/3 + 0.5 x 2/3 = 2/3.
    assert (total(got)['mota'], total(got)['ap'], total(got)['num_false_positives']) == (1.0, 1.0, 0)
    assert got['frames'] == dict(scored=2, dropped_no_gt=1, dropped_predictions=1, mot_left_out=0,
                                 placeholder=0)


def test_frames_are_chosen_by_their_persons_not_is_labeled(tmp_path):
    """Files: image 2 has no person (dropped with its ghost), image 3 is_labeled false but holds
    a person (scored, as poseval does not read is_labeled)."""
    images = [dict(id=i, file_name=f'images/val/x/{i:06d}.jpg', frame_id=i, is_labeled=(i != 3))
              for i in (1, 2, 3)]
    cat = [dict(id=1, name='person', keypoints=['nose', 'left_wrist'])]

    def ann(image_id, track_id, x, scores=None):
        a = dict(image_id=image_id, track_id=track_id, category_id=1, bbox_head=HEAD,
                 keypoints=[x, 100.0, 1, x, 200.0, 1])
        return a if scores is None else dict(a, scores=scores)

    gt, pred = tmp_path / 'gt.json', tmp_path / 'pred.json'
    gt.write_text(json.dumps(dict(images=images, categories=cat,
                                  annotations=[ann(1, 0, 100), ann(3, 0, 100)])))
    pred.write_text(json.dumps(dict(images=images, categories=cat, annotations=[
        ann(1, 10, 100, [0.9, 0.9]), ann(2, 11, 600, [0.95, 0.95])])))
    got = evaluate_files(str(gt), str(pred), poseval_quirks=False)
    # Scored: image 1 (a match per joint) and 3 (a miss per joint): MOTA 1 - 1/2 per joint;
    # AP: one hit of 2 ground-truth joints, recall 1/2 at precision 1: 0.5.
    assert got['frames']['scored'] == 2 and got['frames']['dropped_predictions'] == 1
    assert (total(got)['mota'], total(got)['ap']) == (0.5, 0.5)
    assert [j['name'] for j in got['per_joint']] == ['nose', 'left_wrist']
    assert set(got['groups']) == {'Head', 'Wri', 'Total'}


def test_a_joint_counts_unless_written_0_0_0():
    assert annotated([[10, 10, 2], [50, 50, 0], [0, 0, 0], [0, 0, 2]]).tolist() == [True, True, False, True]
    # GT: a visible, b with v = 0 but real coordinates (annotated for poseval), c (0, 0, 0).
    # Prediction: a right (third value 0, score 0.7 in scores), b not predicted, c predicted with
    # score 0 (no score threshold: a false positive).
    gt = person(0, [(10, 10), (50, 50), None])
    gt['keypoints'][1, 2] = 0.0
    pred = person(5, [(10, 10), None, (70, 70)], third=0.0, scores=[0.7, 0.0, 0.0])
    got = evaluate_tracking([([[gt]], [[pred]])], keypoint_names=['a', 'b', 'c'],
                            poseval_quirks=False)
    a, b, c = got['per_joint']
    # a: 1 object, matched: MOTA 1, AP 1. b: 1 object, missed: MOTA 0, never predicted: AP 0.
    # c: no object, 1 false positive: MOTA and AP have no figure (nan), left out of the Total.
    assert (a['mota'], a['ap'], b['mota'], b['ap'], b['num_misses']) == (1.0, 1.0, 0.0, 0.0, 1)
    assert c['num_false_positives'] == 1 and np.isnan(c['mota']) and np.isnan(c['ap'])
    assert (total(got)['mota'], total(got)['ap'], total(got)['num_objects']) == (0.5, 0.5, 2)
    # In a frame with ignore regions a person without joints goes too (poseval drops it there).
    empty = person(7, [None, None, None])
    far = [np.array([[500.0, 500], [600, 500], [500, 600]])]
    assert remove_ignored([empty, gt], far) == ([gt], 0, 1)


def test_scores_come_from_the_scores_field(tmp_path):
    images = [dict(id=1, file_name='images/val/x/000001.jpg', frame_id=1)]

    def ann(track_id, x, third, scores):
        a = dict(image_id=1, track_id=track_id, category_id=1, bbox_head=HEAD,
                 keypoints=[x, 100.0, third, x, 200.0, third])
        return a if scores is None else dict(a, scores=scores)

    gt, pred = tmp_path / 'gt.json', tmp_path / 'pred.json'
    gt.write_text(json.dumps(dict(images=images, annotations=[ann(0, 100, 2, None)])))
    # The hit's third values 0.9 but scores 0.2; the ghost's 0.1 but scores 0.8.
    pred.write_text(json.dumps(dict(images=images, annotations=[ann(10, 100, 0.9, [0.2, 0.2]),
                                                                ann(11, 600, 0.1, [0.8, 0.8])])))
    got = evaluate_files(str(gt), str(pred))
    # By scores the ghost ranks first: precision 0 then 1/2 at recall 1: AP 0.5 (by the third
    # values it would be 1).
    assert total(got)['ap'] == 0.5
    pred.write_text(json.dumps(dict(images=images, annotations=[ann(10, 100, 0.9, None)])))
    (p,), = aligned_frames(str(gt), str(pred))['pred']
    assert p['scores'].tolist() == [MIN_SCORE, MIN_SCORE]  # poseval's score when none is given
    pred.write_text(json.dumps(dict(images=images, annotations=[ann(10, 100, 0.9, None),
                                                                ann(10, 600, 0.9, None)])))
    with pytest.raises(DataError, match='image 1 has one track_id on two persons'):
        evaluate_files(str(gt), str(pred))


def test_persons_are_paired_as_poseval_does_not_by_an_optimal_assignment():
    # 10 joints. GT1 at x = 100 k + 100, y = 100; GT2 the same but joints 8, 9 at y = 500.
    # A (score 0.9): joints 0-7 shared, 8 on GT1's, 9 far: share GT1 9/10, GT2 8/10.
    # B (score 0.8): joints 0-5 shared, 6-7 far, 8-9 on GT1's: share GT1 8/10, GT2 6/10.
    xs = [100 * k + 100 for k in range(10)]
    gt1 = person(1, [(x, 100) for x in xs])
    gt2 = person(2, [(x, 100 if k < 8 else 500) for k, x in enumerate(xs)])
    far = (5000, 5000)
    a = person(10, [(x, 100) for x in xs[:9]] + [far], third=0.9)
    b = person(11, [(x, 100) for x in xs[:6]] + [far, far] + [(x, 100) for x in xs[8:]], third=0.8)
    dist, labelled, _ = frame_distances([gt1, gt2], [a, b])
    # Both keep GT1; GT1 takes A (9/10 > 8/10); B and GT2 stay unpaired. (An optimal assignment
    # would pair A-GT2 and B-GT1: 8/10 + 8/10 > 9/10 + 6/10.)
    assert pair_persons(dist, labelled, 0.5) == {0: 0}
    got = evaluate_tracking([([[gt1, gt2]], [[a, b]])], keypoint_names=[f'j{k}' for k in range(10)])
    # AP, 2 GT joints each: joints 0-8 A hit (0.9) then B false (0.8): recall 1/2 at precision 1,
    # 0.5; joint 9 both false: 0. Mean (9 x 0.5) / 10 = 0.45. (The optimal pairing: joints 0-5 1,
    # 6-7 0.5, 8-9 0.25 (A false first, then B): 7.5 / 10 = 0.75.)
    assert total(got)['ap'] == pytest.approx(0.45)


def test_total_and_groups_are_means_over_joints():
    # Joints nose and left_wrist. GT P1 both, P2 and P3 the nose only; one prediction on P1, its
    # nose 3 px off (0.1 head), its wrist exact.
    gt = [person(1, [(100, 100), (100, 200)]), person(2, [(400, 100), None]),
          person(3, [(700, 100), None])]
    pred = [person(10, [(103, 100), (100, 200)], third=0.9)]
    got = evaluate_tracking([([gt], [pred])], keypoint_names=['nose', 'left_wrist'],
                            poseval_quirks=False)
    nose, wrist = got['groups']['Head'], got['groups']['Wri']
    # nose: 3 objects, 1 match, 2 misses: MOTA 1/3, MOTP 1 - 0.1, precision 1, recall 1/3,
    # IDF1 2 / (2 + 2) = 0.5, AP 1/3 (recall 1/3 at precision 1). wrist: all 1.
    assert nose['mota'] == pytest.approx(1 / 3) and nose['motp'] == pytest.approx(0.9)
    assert (nose['recall'], nose['idf1'], nose['ap']) == pytest.approx((1 / 3, 0.5, 1 / 3))
    assert (wrist['mota'], wrist['motp'], wrist['ap']) == (1.0, 1.0, 1.0)
    # Total: means over the joints. MOTA (1/3 + 1) / 2 = 2/3, where summed counts would give
    # 1 - 2 / 4 = 1/2; MOTP 0.95, recall 2/3, IDF1 0.75, AP 2/3; counts summed.
    t = total(got)
    assert (t['mota'], t['motp'], t['recall'], t['idf1'], t['ap']) == pytest.approx(
        (2 / 3, 0.95, 2 / 3, 0.75, 2 / 3))
    assert (t['num_objects'], t['num_misses'], t['precision']) == (4, 2, 1.0)


def test_poseval_mot_rules_last_frame_left_out_and_one_miss_one_false_positive_for_an_empty_side():
    # Two people in 4 frames; predictions right (0.9) but none in frame 1, and a ghost (0.95) in
    # frame 3, the last.
    gt = [[two_joints(0, 100), two_joints(1, 400)] for _ in range(4)]
    right = [two_joints(10, 100, 0.9), two_joints(11, 400, 0.9)]
    pred = [right, [], right, right + [two_joints(12, 1000, 0.95)]]
    on = evaluate_tracking([(gt, pred)], keypoint_names=['a', 'b'])
    off = evaluate_tracking([(gt, pred)], keypoint_names=['a', 'b'], poseval_quirks=False)
    # poseval, per joint: frames 0-2 (3 left out); frame 1 one miss, one false positive:
    # objects 2 + 1 + 2, errors 2: MOTA 1 - 2/5 = 0.6.
    assert total(on)['mota'] == pytest.approx(0.6) and total(on)['num_objects'] == 2 * 5
    assert on['frames'] == dict(scored=4, dropped_no_gt=0, dropped_predictions=0, mot_left_out=1,
                                placeholder=1)
    # Without: 8 objects, 2 misses (frame 1), the ghost: MOTA 1 - 3/8.
    assert total(off)['mota'] == pytest.approx(1 - 3 / 8)
    # mAP takes every frame either way: the ghost first, then 6 hits of 8: precision 6/7 at every
    # recall step after interpolation, AP 6/8 x 6/7 = 9/14.
    assert total(on)['ap'] == total(off)['ap'] == pytest.approx(9 / 14)

    # One person; in frame 1 an ignore region covers it and a ghost (0.95) stands outside.
    box = [np.array([[50.0, 50], [200, 50], [200, 300], [50, 300]])]
    gt = [[two_joints(0, 100)] for _ in range(3)]
    pred = [[two_joints(10, 100, 0.9)], [two_joints(11, 1000, 0.95)], [two_joints(10, 100, 0.9)]]
    video = (gt, pred, [[], box, []])
    on = evaluate_tracking([video], keypoint_names=['a', 'b'])
    off = evaluate_tracking([video], keypoint_names=['a', 'b'], poseval_quirks=False)
    # poseval: frame 0 a match, frame 1 (no GT left) one miss, one false positive: 1 - 2/2 = 0.
    # Without: frames 0 and 2 a match each, the ghost false: 1 - 1/2.
    assert (total(on)['mota'], total(off)['mota']) == (0.0, 0.5)
    # mAP: the ghost (false: no GT there) first, then 2 hits of 2: 1/2 x 2/3 + 1/2 x 2/3 = 2/3.
    assert total(on)['ap'] == pytest.approx(2 / 3)


def test_posetrack18_layout_is_scored_on_poseval_15_joints():
    # Every joint labelled but the ears (PoseTrack never labels them); the prediction has the
    # 17 joints right, ears too.
    xy = [(100 + 20 * k, 100) for k in range(17)]
    gt = person(0, [None if k in (3, 4) else p for k, p in enumerate(xy)])
    pred = person(10, xy, third=0.9)
    got = evaluate_tracking([([[gt]], [[pred]])], keypoint_names=POSETRACK18_NAMES,
                            poseval_quirks=False)
    # The ears are not scored, so their predictions are no false positives: all 15 right.
    assert [j['index'] for j in got['per_joint']] == [0, 1, 2] + list(range(5, 17))
    assert (total(got)['mota'], total(got)['ap'], total(got)['num_false_positives']) == (1.0, 1.0, 0)
    assert got['groups']['Head']['num_objects'] == 3  # nose, head bottom, head top
    # With COCO's names the same frame scores 17 joints: the ears' 2 false positives count.
    coco = evaluate_tracking([([[gt]], [[pred]])], poseval_quirks=False)
    assert len(coco['per_joint']) == 17 and total(coco)['num_false_positives'] == 2


def test_posetrack18_files_carry_and_use_posetrack_names(tmp_path):
    """A PoseTrack model's predictions name PoseTrack's joints (poseval maps joints by name and
    refuses a file without head_bottom / head_top); the ground truth's names pick the 15 joints."""
    xy = np.array([(100 + 20 * k, 100) for k in range(17)], np.float64)
    gt_kpts = np.column_stack([xy, np.full(17, 2.0)])
    gt_kpts[3:5] = 0.0  # the ears, never labelled
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps(dict(
        images=[dict(id=1, file_name='images/val/x/000001.jpg', frame_id=1)],
        annotations=[dict(image_id=1, track_id=0, category_id=1, bbox_head=HEAD,
                          keypoints=gt_kpts.ravel().tolist())],
        categories=[person_category(POSETRACK18_NAMES)])))
    pred = tmp_path / 'pred.json'
    write_posetrack18(str(pred), [tracked_frame(1, 'images/val/x/000001.jpg', persons=[dict(
        track_id=3, keypoints=xy, keypoint_scores=np.full(17, 0.9), bbox=[90, 90, 340, 20])])],
        joint_thr=0.4, categories=[person_category(POSETRACK18_NAMES)])
    written = json.loads(pred.read_text())['categories'][0]
    assert written['keypoints'] == POSETRACK18_NAMES and len(written['skeleton']) > 0
    assert person_category()['keypoints'][1] == 'left_eye'  # COCO's by default
    got = evaluate_files(str(gt), str(pred), poseval_quirks=False)
    # 15 joints, each matched: MOTA 1, AP 1; the predicted ears are not scored.
    assert len(got['per_joint']) == 15 and total(got)['num_false_positives'] == 0
    assert (total(got)['mota'], total(got)['ap']) == (1.0, 1.0)
