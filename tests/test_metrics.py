"""CocoMetric, OKS-NMS and PCKh against independent loop re-statements and pycocotools itself."""
import contextlib
import io
import json

import numpy as np
import pytest

import sbcore  # noqa: F401  (sets the oneDNN ISA before anything imports mindspore)
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from sbcore.registries import METRICS
from sbplugins.datasets.coco import CocoDataset
from sbplugins.datasets.mpii import MpiiDataset
from sbplugins.metrics.coco_metric import CocoMetric
from sbplugins.metrics.cocoeval_io import load_keypoint_results
from sbplugins.metrics.oks import oks_iou, oks_nms
from sbplugins.metrics.pckh_metric import PCKhMetric

COCO_SIGMAS = np.array(
    [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10.0
COCO_KEYS = [
    'AP', 'AP .5', 'AP .75', 'AP (M)', 'AP (L)', 'AR', 'AR .5', 'AR .75', 'AR (M)', 'AR (L)'
]


# --- independent re-statements of the reference code ------------------------------------------------
def ref_oks(g, d, area_g, area_d, sigmas):
    """One pair, joint by joint, as written in the reference (no visibility test)."""
    total = 0.0
    for k in range(len(sigmas)):
        var = (sigmas[k] * 2)**2
        d2 = (g[k][0] - d[k][0])**2 + (g[k][1] - d[k][1])**2
        total += np.exp(-(d2 / var / ((area_g + area_d) / 2 + np.spacing(1)) / 2))
    return total / len(sigmas)


def ref_nms(poses, thr, sigmas):
    """poses: list of (kpts (K,2), score, area); the reference's greedy loop. Returns kept indices."""
    order = sorted(range(len(poses)), key=lambda i: -poses[i][1])  # stable: ties keep input order
    keep = []
    while order:
        i = order.pop(0)
        keep.append(i)
        order = [
            j for j in order
            if ref_oks(poses[i][0], poses[j][0], poses[i][2], poses[j][2], sigmas) <= thr
        ]
    return sorted(keep)


def ref_rescore(kscores, box_score, thr=0.2):
    s = [v for v in kscores if v > thr]
    return box_score * (sum(s) / len(s) if s else 0.0)


# --- OKS / NMS ---------------------------------------------------------------------------------------
def test_oks_iou_matches_loop():
    rng = np.random.default_rng(0)
    g, d = rng.uniform(0, 100, (17, 2)), rng.uniform(0, 100, (5, 17, 2))
    areas = rng.uniform(500, 5000, 5)
    got = oks_iou(g[None], d, 2000.0, areas, COCO_SIGMAS)
    want = [ref_oks(g, d[i], 2000.0, areas[i], COCO_SIGMAS) for i in range(5)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert oks_iou(g, g, 100.0, 100.0, COCO_SIGMAS) == pytest.approx(1.0, abs=1e-15)


def test_oks_nms_matches_loop():
    """Clusters of near-duplicate poses in several images (different person counts per image)."""
    rng = np.random.default_rng(1)
    kpts, scores, areas, img_ids = [], [], [], []
    for img in range(12):
        for person in range(rng.integers(1, 4)):
            base = rng.uniform(0, 300, (17, 2))
            area = rng.uniform(2000, 20000)
            for _ in range(rng.integers(1, 6)):
                kpts.append(base + rng.normal(0, rng.choice([0.5, 3, 10]), (17, 2)))
                scores.append(rng.uniform())
                areas.append(area * rng.uniform(0.8, 1.2))
                img_ids.append(img * 7 % 5 if img < 10 else 100 + img)  # images interleave
    kpts, scores, areas, img_ids = map(np.asarray, (kpts, scores, areas, img_ids))
    for thr in (0.9, 0.5):
        keep = oks_nms(kpts, scores, areas, img_ids, COCO_SIGMAS, thr)
        want = []
        for img in np.unique(img_ids):
            idx = np.flatnonzero(img_ids == img)
            kept = ref_nms([(kpts[i], scores[i], areas[i]) for i in idx], thr, COCO_SIGMAS)
            want += idx[kept].tolist()
        assert sorted(np.flatnonzero(keep).tolist()) == sorted(want)
        assert 0 < keep.sum() < len(keep)  # the case exercises suppression


def test_oks_nms_ties_keep_input_order():
    pose = np.zeros((1, 17, 2))
    keep = oks_nms(np.concatenate([pose, pose, pose + 500]), np.array([0.5, 0.5, 0.5]),
                   np.array([100.0, 100.0, 100.0]), np.array([1, 1, 1]), COCO_SIGMAS, 0.9)
    assert keep.tolist() == [True, False, True]


# --- CocoMetric --------------------------------------------------------------------------------------
def gt_batch(coco_sample):
    """The real sample's ground-truth instances as one batch with enlarged boxes (aspect 0.75)."""
    from sbplugins.utils.geometry.boxes import bbox_xywh_to_center_scale
    ds = CocoDataset(str(coco_sample['ann_file']))
    bbox = np.concatenate([d['bbox'] for d in ds.data_list])
    center, scale = bbox_xywh_to_center_scale(bbox, 192 / 256)
    batch = dict(img_id=np.array([d['img_id'] for d in ds.data_list]),
                 id=np.array([d['id'] for d in ds.data_list]),
                 bbox_center=center,
                 bbox_scale=scale,
                 bbox_score=np.ones(len(ds), np.float32))
    return batch, np.concatenate([d['keypoints'] for d in ds.data_list])


def test_coco_metric_ground_truth_scores_one(coco_sample, tmp_path, capsys):
    batch, kpts = gt_batch(coco_sample)
    metric = METRICS.build(dict(type='CocoMetric', ann_file=str(coco_sample['ann_file'])))
    metric.work_dir = str(tmp_path)
    half = len(kpts) // 2  # two process() calls, as batches arrive
    for sl in (slice(0, half), slice(half, None)):
        metric.process({
            k: v[sl]
            for k, v in batch.items()
        }, dict(keypoints=kpts[sl], keypoint_scores=np.ones(kpts[sl].shape[:2], np.float32)))
    metrics = metric.compute_metrics(metric.results)
    assert sorted(metrics) == sorted(f'coco/{k}' for k in COCO_KEYS)
    for key in ('AP', 'AP .5', 'AP .75', 'AR'):
        assert metrics[f'coco/{key}'] == pytest.approx(1.0, abs=1e-12)
    assert 'Average Precision' in capsys.readouterr().out  # pycocotools' table printed
    written = json.loads((tmp_path / 'keypoints_results.json').read_text())
    assert len(written) == len(kpts) and set(
        written[0]) == {'image_id', 'category_id', 'keypoints', 'score'}
    assert len(written[0]['keypoints']) == 51 and written[0]['category_id'] == 1
    assert not (tmp_path / 'metrics.json').exists()  # the evaluator is its only writer


def perturbed_predictions(coco_sample, rng):
    """GT poses with noise plus the detector's extra boxes carrying jittered copies (duplicates for NMS).

    Coordinates are multiples of 1/8 px, exact in float32 and in the metric's 1e-3 px results file.
    """
    batch, kpts = gt_batch(coco_sample)
    n = len(kpts)
    rep = rng.integers(0, n, 3 * n)  # extra, partly near-duplicate poses
    scale = np.concatenate(
        [batch['bbox_scale'], batch['bbox_scale'][rep] * rng.uniform(0.8, 1.2, (3 * n, 1))])
    all_kpts = np.concatenate([
        kpts + rng.normal(0, 4, kpts.shape),
        kpts[rep] + rng.normal(0, 1, (3 * n, 17, 2)) * rng.choice([0.2, 2, 30], (3 * n, 1, 1))
    ])
    all_kpts = np.round(all_kpts * 8) / 8
    out_batch = dict(img_id=np.concatenate([batch['img_id'], batch['img_id'][rep]]),
                     id=np.arange(4 * n),
                     bbox_center=np.zeros((4 * n, 2), np.float32),
                     bbox_scale=scale.astype(np.float32),
                     bbox_score=rng.uniform(0.3, 1.0, 4 * n).astype(np.float32))
    kscores = rng.uniform(0, 1, (4 * n, 17)).astype(np.float32)
    return out_batch, dict(keypoints=all_kpts.astype(np.float32), keypoint_scores=kscores)


@pytest.mark.parametrize('nms_mode', ['oks_nms', 'none'])
def test_coco_metric_matches_direct_pycocotools(coco_sample, tmp_path, nms_mode):
    rng = np.random.default_rng(2)
    batch, preds = perturbed_predictions(coco_sample, rng)
    metric = CocoMetric(str(coco_sample['ann_file']),
                        nms_mode=nms_mode,
                        outfile_prefix=str(tmp_path / 'out'))
    metric.process(batch, preds)
    with contextlib.redirect_stdout(io.StringIO()):
        got = metric.compute_metrics(metric.results)

    # The test's own pipeline: rescoring loop, NMS loop, results file, pycocotools.
    kpts = preds['keypoints'].astype(np.float64)
    kscores = preds['keypoint_scores'].astype(np.float64)
    areas = np.prod(batch['bbox_scale'].astype(np.float64) * 200, axis=1)
    scores = [ref_rescore(kscores[i], float(batch['bbox_score'][i])) for i in range(len(kpts))]
    keep = []
    for img in np.unique(batch['img_id']):
        idx = np.flatnonzero(batch['img_id'] == img)
        if nms_mode == 'oks_nms':
            idx = idx[ref_nms([(kpts[i], scores[i], areas[i]) for i in idx], 0.9, COCO_SIGMAS)]
        keep += idx.tolist()
    if nms_mode == 'oks_nms':
        assert len(keep) < len(kpts)
    results = [
        dict(image_id=int(batch['img_id'][i]),
             category_id=1,
             score=scores[i],
             keypoints=np.concatenate([kpts[i], kscores[i][:, None]], 1).ravel().tolist())
        for i in keep
    ]
    res_file = tmp_path / 'own_results.json'
    res_file.write_text(json.dumps(results))
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(coco_sample['ann_file']))
        ev = COCOeval(coco, coco.loadRes(str(res_file)), 'keypoints')
        ev.params.useSegm = None
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    want = dict(zip(COCO_KEYS, ev.stats[:10]))
    assert 0.05 < want['AP'] < 0.99  # a non-trivial case
    for key in COCO_KEYS:
        assert got[f'coco/{key}'] == pytest.approx(want[key], abs=1e-9), key
    assert len(json.loads((tmp_path / 'out' / 'keypoints_results.json').read_text())) == len(keep)


def test_vectorised_load_results_equals_pycocotools_loadres(coco_sample):
    rng = np.random.default_rng(5)
    batch, preds = perturbed_predictions(coco_sample, rng)
    flat = np.concatenate([preds['keypoints'], preds['keypoint_scores'][..., None]], -1)
    records = [dict(image_id=int(i), category_id=1, keypoints=k, score=float(s))
               for i, k, s in zip(batch['img_id'], flat.reshape(len(flat), -1).astype(np.float64),
                                  batch['bbox_score'])]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(coco_sample['ann_file']))
        ours = load_keypoint_results(coco, [dict(r) for r in records])
        theirs = coco.loadRes([dict(r) for r in records])
    assert ours.dataset['images'] == theirs.dataset['images']
    assert ours.dataset['categories'] == theirs.dataset['categories']
    assert len(ours.anns) == len(theirs.anns) == len(records)
    for ann_id, want in theirs.anns.items():
        got = ours.anns[ann_id]
        assert got['id'] == want['id'] and got['image_id'] == want['image_id']
        assert got['area'] == want['area'] and got['bbox'] == [float(v) for v in want['bbox']]
    assert ours.imgToAnns.keys() == theirs.imgToAnns.keys()
    with pytest.raises(ValueError, match=r'image ids not in the annotation file: \[123456789\]'):
        load_keypoint_results(coco, [dict(records[0], image_id=123456789)])


def test_coco_metric_rescoring():
    metric = CocoMetric.__new__(CocoMetric)
    metric.score_mode, metric.keypoint_score_thr = 'bbox_keypoint', 0.2
    kscores = np.array([[0.1, 0.2, 0.5, 0.9], [0.1, 0.0, 0.2, 0.15], [1, 1, 1, 1]])
    got = metric.rescore(kscores, np.array([0.5, 1.0, 0.25]))
    want = [ref_rescore(kscores[i], b) for i, b in enumerate([0.5, 1.0, 0.25])]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got[1] == 0.0


# --- PCKh --------------------------------------------------------------------------------------------
def ref_pckh(pred, gt, vis, head, thr):
    """The MPII script restated with loops: per-joint PCKh and the Mean without pelvis/thorax."""
    n, k = vis.shape
    correct, count = np.zeros(k), np.zeros(k)
    for i in range(n):
        if head[i] <= 0:
            continue
        for j in range(k):
            if vis[i, j] > 0:
                count[j] += 1
                d = np.hypot(*(pred[i, j] - gt[i, j]))
                correct[j] += d / head[i] <= thr
    per_joint = [100 * correct[j] / count[j] if count[j] else 0.0 for j in range(k)]
    used = [j for j in range(k) if j not in (6, 7)]
    mean = 100 * sum(correct[j] for j in used) / sum(count[j] for j in used)
    return per_joint, mean


def test_pckh_matches_loop(mpii_sample):
    ds = MpiiDataset(str(mpii_sample['ann_file']))
    rng = np.random.default_rng(3)
    reps = 40
    gt = np.concatenate([d['keypoints'] for d in ds.data_list] * reps).astype(np.float64)
    vis = np.concatenate([d['keypoints_visible'] for d in ds.data_list] * reps)
    vis = vis * (rng.uniform(size=vis.shape) > 0.15)  # some unlabelled joints
    head = np.concatenate([d['head_size'] for d in ds.data_list] * reps).astype(np.float64)
    head[::17] = 0.0  # instances without a head size are skipped
    pred = gt + rng.normal(0, 1, gt.shape) * head[:, None, None] * rng.choice([0.03, 0.2, 0.6],
                                                                              (len(gt), 1, 1))
    metric = METRICS.build(dict(type='PCKhMetric'))
    metric.dataset_meta = ds.metainfo
    metric.process(
        dict(keypoints=gt[:, None], keypoints_visible=vis[:, None], head_size=head[:, None]),
        dict(keypoints=pred))
    got = metric.compute_metrics(metric.results)
    per_joint, mean = ref_pckh(pred, gt, vis, head, 0.5)
    _, mean_01 = ref_pckh(pred, gt, vis, head, 0.1)
    assert got['pckh/Mean'] == pytest.approx(mean, abs=1e-9)
    assert got['pckh/Mean@0.1'] == pytest.approx(mean_01, abs=1e-9)
    assert 20 < mean < 95 and mean_01 < mean
    names = ds.metainfo['keypoint_name2id']
    for part, joints in (('Head', ['head_top']), ('Shoulder', ['left_shoulder', 'right_shoulder']),
                         ('Elbow', ['left_elbow',
                                    'right_elbow']), ('Wrist', ['left_wrist', 'right_wrist']),
                         ('Hip', ['left_hip', 'right_hip']), ('Knee', ['left_knee', 'right_knee']),
                         ('Ankle', ['left_ankle', 'right_ankle'])):
        want = np.mean([per_joint[names[j]] for j in joints])
        assert got[f'pckh/{part}'] == pytest.approx(want, abs=1e-9), part
    assert len(got) == 9


def test_pckh_perfect_predictions(mpii_sample):
    ds = MpiiDataset(str(mpii_sample['ann_file']))
    gt = np.concatenate([d['keypoints'] for d in ds.data_list])
    metric = PCKhMetric()
    metric.process(
        dict(keypoints=gt,
             keypoints_visible=np.concatenate([d['keypoints_visible'] for d in ds.data_list]),
             head_size=np.concatenate([d['head_size'] for d in ds.data_list])),
        dict(keypoints=gt + 0.5))
    got = metric.compute_metrics(metric.results)
    assert got['pckh/Mean'] == 100.0 and got['pckh/Mean@0.1'] == 100.0
