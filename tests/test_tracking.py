"""Pose tracking on the generated clips: flow, similarity, greedy matching, joint propagation,
the PoseTrack 2018 format and the PoseTrack-style evaluation (motmetrics).

The trackers run on real rendered frames with real optical flow; the pose network is replaced
by the clip's ground-truth poses plus Gaussian noise (``oracle``), looked up by the box given, so
the tests measure the tracking and not a network's accuracy.
"""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from sbplugins.datasets.synthetic_scenarios import SCENARIOS, render_clip
from sbplugins.datasets.synthetic_video import ensure_clips
from sbplugins.detectors.box_file import BoxFileDetector
from sbplugins.metrics.posetrack_eval import evaluate_tracking
from sbplugins.metrics.posetrack_files import evaluate_files
from sbplugins.registries import TRACKERS
from sbplugins.tracking import FlowPoseTracker, IoUTracker, OKSTracker, build_tracker
from sbplugins.tracking.flow import DenseFlow, warp_points
from sbplugins.tracking.matching import greedy_match
from sbplugins.tracking.posetrack import read_posetrack18, tracked_frame, write_posetrack18
from sbplugins.tracking.similarity import masked_oks
from sbplugins.utils.geometry.boxes import bbox_iou_xywh

COCO_SIGMAS = np.array([.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107,
                        .107, .087, .087, .089, .089])


def oracle(gt_persons, rng, noise=2.0):
    """A stand-in pose estimator: the ground-truth pose of the person whose box overlaps the
    given box most (IoU > 0.3), plus ``noise`` px; labelled-visible joints score 0.9, hidden 0.5,
    unlabelled 0.1; a box on nobody gets a low-scoring random pose."""
    def estimate(image, boxes, scores):
        gt_boxes = np.array([p['bbox'] for p in gt_persons], np.float64).reshape(-1, 4)
        iou = bbox_iou_xywh(boxes, gt_boxes)
        out = []
        for i, box in enumerate(boxes):
            if iou.shape[1] and iou[i].max() > 0.3:
                k = gt_persons[int(iou[i].argmax())]['keypoints']
                kpts = k[:, :2] + rng.normal(0, noise, (len(k), 2))
                kscores = np.where(k[:, 2] == 2, 0.9, np.where(k[:, 2] == 1, 0.5, 0.1))
            else:
                kpts = np.column_stack([rng.uniform(box[0], box[0] + box[2], 17),
                                        rng.uniform(box[1], box[1] + box[3], 17)])
                kscores = np.full(17, 0.2)
            out.append(dict(keypoints=kpts.astype(np.float32), keypoint_scores=kscores.astype(np.float32),
                            bbox=np.asarray(box, np.float32), bbox_score=float(scores[i])))
        return out
    return estimate


def track_clip(root, paths, tracker, out_file, drop=None):
    """Run ``tracker`` over one clip with its jittered detection boxes and the oracle; write the
    PoseTrack JSON. ``drop`` = (frame, track_id): remove that person's box in that frame."""
    gt = read_posetrack18(paths['ann'])
    detector = BoxFileDetector(paths['det'])
    rng = np.random.default_rng(0)
    tracker.reset()
    frames, outputs = [], []
    for t, image_info in enumerate(gt['images']):
        image = cv2.imread(str(Path(root) / image_info['file_name']))
        people = gt['persons'][image_info['id']]
        boxes, scores = detector.detect(image, dict(image_id=image_info['id']))
        if drop is not None and drop[0] == t:
            target = next(p for p in people if p['track_id'] == drop[1])
            keep = bbox_iou_xywh(boxes, [target['bbox']])[:, 0] < 0.3
            boxes, scores = boxes[keep], scores[keep]
        persons = tracker.track(image, boxes, scores, oracle(people, rng))
        outputs.append(persons)
        frames.append(tracked_frame(image_info['id'], image_info['file_name'], persons=persons))
    write_posetrack18(str(out_file), frames, joint_thr=tracker.joint_thr)
    return outputs


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    root = tmp_path_factory.mktemp('clips')
    return root, ensure_clips(str(root), scenarios=('walking', 'crossing', 'occluding'), num_frames=30)


def test_trackers_are_plugins_with_the_papers_defaults():
    assert TRACKERS.group == 'sbpose.trackers'
    assert {'FlowPoseTracker', 'OKSTracker', 'IoUTracker'} <= set(TRACKERS.names())
    flow = build_tracker(dict(type='FlowPoseTracker'))
    assert (flow.similarity, flow.propagate) == ('flow_oks', True)
    assert (flow.bbox_thr, flow.joint_thr, flow.propagate_enlarge) == (0.5, 0.4, 0.15)
    assert (OKSTracker().similarity, OKSTracker().propagate) == ('oks', False)
    assert (IoUTracker().similarity, IoUTracker().propagate) == ('iou', False)


def test_greedy_matching_takes_the_highest_similarity_first():
    sim = np.array([[0.9, 0.8], [0.85, 0.1]])
    # Hungarian would pair (0, 1) + (1, 0) = 1.65; greedy takes 0.9 first, then only 0.1 is left.
    assert greedy_match(sim, 0.2) == [(0, 0)]
    assert greedy_match(sim, 0.05) == [(0, 0), (1, 1)]
    assert greedy_match(np.zeros((0, 3)), 0.1) == []


def test_masked_oks_restated():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 100, (3, 17, 2)), rng.uniform(0, 100, (2, 17, 2))
    va, vb = rng.random((3, 17)) > 0.3, rng.random((2, 17)) > 0.3
    area = np.array([900.0, 2500.0])
    got = masked_oks(a, va, b, vb, area, COCO_SIGMAS)
    for i in range(3):
        for j in range(2):
            both = va[i] & vb[j]
            e = ((a[i] - b[j]) ** 2).sum(1) / (2 * COCO_SIGMAS) ** 2 / area[j] / 2
            assert got[i, j] == pytest.approx(np.exp(-e)[both].mean())
    assert masked_oks(a[:1], np.zeros((1, 17), bool), b, vb, area, COCO_SIGMAS).max() == 0


@pytest.mark.parametrize('method', ['dis', 'farneback'])
def test_dense_flow_moves_joints_with_the_image(method):
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (160, 200), dtype=np.uint8), (5, 5), 0)
    moved = np.roll(texture, (-2, 3), axis=(0, 1))  # content moves 3 px right, 2 px up
    flow = DenseFlow(method=method)(texture, moved)
    points = np.array([[60.0, 70.0], [120.5, 90.25], [100.0, 50.0]])
    np.testing.assert_allclose(warp_points(points, flow), points + (3, -2), atol=0.5)


def test_flow_tracker_makes_fewer_id_switches_than_the_iou_tracker_across_crossings(tmp_path):
    """Two people walking through each other, four generated clips: the IoU tracker swaps
    their IDs where their boxes overlap, the flow-based pose similarity follows the poses."""
    switches = {'iou': 0, 'flow': 0}
    for seed in range(4):
        root = tmp_path / f'crossing{seed}'
        (seq, paths), = ensure_clips(str(root), scenarios=('crossing',), num_frames=40, seed=seed).items()
        for name, tracker in (('iou', IoUTracker()), ('flow', FlowPoseTracker())):
            out = root / name / f'{seq}.json'
            track_clip(root, paths, tracker, out)
            switches[name] += evaluate_files(paths['ann'], str(out))['groups']['Total']['num_switches']
    assert switches['iou'] > 0  # the clips do test crossings
    assert switches['flow'] < switches['iou'], switches


def test_joint_propagation_recovers_a_person_the_detector_misses(clips, tmp_path):
    root, paths = clips
    walking = paths['000001_walking']
    gt = read_posetrack18(walking['ann'])
    frame = 12
    with_prop = track_clip(root, walking, FlowPoseTracker(), tmp_path / 'a.json', drop=(frame, 0))
    without = track_clip(root, walking, FlowPoseTracker(propagate=False), tmp_path / 'b.json',
                         drop=(frame, 0))
    target = next(p for p in gt['persons'][gt['images'][frame]['id']] if p['track_id'] == 0)
    track_before = [p for p in with_prop[frame - 1]
                    if bbox_iou_xywh([p['bbox']], [target['bbox']])[0, 0] > 0.3]
    assert len(track_before) == 1
    recovered = [p for p in with_prop[frame] if p['track_id'] == track_before[0]['track_id']]
    assert len(recovered) == 1 and recovered[0]['propagated']
    labelled = target['keypoints'][:, 2] > 0
    err = np.linalg.norm(recovered[0]['keypoints'] - target['keypoints'][:, :2], axis=1)[labelled]
    assert err.mean() < 6  # the pose re-estimated in the propagated box is the person's
    assert len(without[frame]) == len(with_prop[frame]) - 1  # without propagation: missed
    assert with_prop[frame + 1][0]['track_id'] in {p['track_id'] for p in with_prop[frame - 1]}


def test_a_detector_that_finds_nobody_gives_empty_frames():
    tracker = FlowPoseTracker()
    calls = []
    image = np.zeros((64, 48, 3), np.uint8)
    for _ in range(3):
        persons = tracker.track(image, np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                                lambda img, b, s: calls.append(len(b)) or [])
        assert persons == []
    assert calls == []  # the pose network is not even called


def test_posetrack_json_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    frames = []
    for t in range(3):
        persons = [dict(track_id=tid, keypoints=rng.uniform(0, 300, (17, 2)).astype(np.float32),
                        keypoint_scores=rng.uniform(0, 1, 17).astype(np.float32),
                        bbox=np.array([1.5, 2.25, 30, 40], np.float32), bbox_score=0.875)
                   for tid in (t, 7)]
        frames.append(tracked_frame(10000010000 + t, f'images/val/000001_x/{t:06d}.jpg',
                                    persons=persons, vid_id='000001'))
    path = tmp_path / 'pred.json'
    write_posetrack18(str(path), frames, joint_thr=0.4)
    raw = json.loads(path.read_text())
    assert set(raw) == {'images', 'annotations', 'categories'}
    assert raw['images'][0] == dict(id=10000010000, file_name='images/val/000001_x/000000.jpg',
                                    frame_id=10000010000, vid_id='000001', nframes=3, is_labeled=True)
    back = read_posetrack18(str(path))
    assert [im['id'] for im in back['images']] == [10000010000, 10000010001, 10000010002]
    for frame in frames:
        got = back['persons'][frame['image']['id']]
        assert [p['track_id'] for p in got] == [p['track_id'] for p in frame['persons']]
        for p, q in zip(frame['persons'], got):
            keep = p['keypoint_scores'] >= 0.4
            np.testing.assert_allclose(q['keypoints'][keep, :2], p['keypoints'][keep], atol=1e-3)
            np.testing.assert_allclose(q['keypoints'][:, 2], np.where(keep, p['keypoint_scores'], 0),
                                       atol=1e-3)
            assert (q['keypoints'][~keep] == 0).all()  # joints < 0.4 are not predicted
            assert q['bbox'] == [1.5, 2.25, 30.0, 40.0] and q['bbox_score'] == 0.875


def test_posetrack18_dataset_reads_the_generated_clips(clips):
    from sbcore.registries import DATASETS
    root, paths = clips
    ds = DATASETS.build(dict(type='PoseTrack18Dataset', ann_file=str(Path(root) / 'annotations' / 'val'),
                             data_prefix=dict(img=str(root)), metainfo=dict(from_file='coco')))
    total = sum(len(json.loads(Path(p['ann']).read_text())['annotations']) for p in paths.values())
    assert 0 < len(ds.data_list) <= total
    sample = ds.data_list[0]
    assert Path(sample['img_path']).is_file() and sample['img_shape'].tolist() == [256, 320]
    assert {d['track_id'] for d in ds.data_list if d['vid_id'] == '000002'} == {0, 1}
    assert sample['bbox_head'][2] > 0


def test_clips_cover_the_scenarios_with_consistent_track_ids():
    size = (320, 256)
    _, entering = render_clip('entering', 30, size, seed=0, clip_index=4)
    assert entering[0] == [] and {p['track_id'] for p in entering[-1]} == {0, 1}  # walked in
    _, leaving = render_clip('leaving', 40, size, seed=0, clip_index=5)
    assert len(leaving[0]) == 2 and len(leaving[-1]) < 2  # walked out
    _, occluding = render_clip('occluding', 40, size, seed=0, clip_index=3)
    seen = [any(p['track_id'] == 0 for p in f) for f in occluding]
    first_gap = seen.index(False)
    assert first_gap > 0 and any(seen[first_gap:])  # hidden behind the pillar, then back
    frames, crossing = render_clip('crossing', 40, size, seed=0, clip_index=2)
    iou = [bbox_iou_xywh([f[0]['bbox']], [f[1]['bbox']])[0, 0] for f in crossing if len(f) == 2]
    assert max(iou) > 0.3 and iou[0] == 0  # they meet
    again, _ = render_clip('crossing', 40, size, seed=0, clip_index=2)
    assert all((a == b).all() for a, b in zip(frames, again))  # deterministic
    assert set(SCENARIOS) >= {'walking', 'turning', 'crossing', 'occluding', 'entering', 'leaving'}


def test_evaluation_scores_truth_perfectly_and_counts_an_id_swap(clips):
    _, paths = clips
    gt = read_posetrack18(paths['000001_walking']['ann'])
    gt_frames = [gt['persons'][im['id']] for im in gt['images']]

    def as_prediction(person, track_id):
        k = person['keypoints'].copy()
        k[:, 2] = np.where(k[:, 2] > 0, 1.0, 0.0)  # score 1 where labelled, else not predicted
        return dict(track_id=track_id, keypoints=k)

    perfect = [[as_prediction(p, p['track_id']) for p in f] for f in gt_frames]
    result = evaluate_tracking([(gt_frames, perfect)])['groups']['Total']
    assert (result['mota'], result['ap'], result['idf1'], result['num_switches']) == (1.0, 1.0, 1.0, 0)
    swap_at = 15
    swapped = [[as_prediction(p, (1 - p['track_id']) if t >= swap_at else p['track_id']) for p in f]
               for t, f in enumerate(gt_frames)]
    result = evaluate_tracking([(gt_frames, swapped)])
    total = result['groups']['Total']
    # Each joint of both people labelled at the swap (and earlier) switches once.
    switched = np.array([sum(int(p['keypoints'][k, 2] > 0 and any(
        q['track_id'] == p['track_id'] and q['keypoints'][k, 2] > 0 for f in gt_frames[:swap_at] for q in f))
        for p in gt_frames[swap_at]) for k in range(17)])
    assert total['num_switches'] == switched.sum() > 0
    assert total['ap'] == 1.0 and total['idf1'] < 1.0
    # MOTA per joint over the frames but the last (poseval's rule), then the mean over the joints.
    objects = np.array([sum(int(p['keypoints'][k, 2] > 0) for f in gt_frames[:-1] for p in f)
                        for k in range(17)])
    assert [j['num_objects'] for j in result['per_joint']] == objects.tolist()
    assert total['mota'] == pytest.approx(np.mean(1 - switched / objects))
