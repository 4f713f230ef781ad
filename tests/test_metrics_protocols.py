"""Datasets in their published formats with their own evaluation protocols (CrowdPose, AI
Challenger, OCHuman, Human-Art 17/21), on small files the tests write themselves; CocoMetric
against direct xtcocotools / pycocotools runs; Soft-OKS-NMS against a loop restatement."""
import contextlib
import io
import json

import numpy as np
import pytest

import sbcore  # noqa: F401  (sets the oneDNN ISA before anything imports mindspore)
from sbcore.errors import DataError
from sbcore.registries import METRICS
from sbplugins.datasets.coco import CocoDataset
from sbplugins.datasets.dataset_info import load_dataset_info
from sbplugins.metrics.coco_metric import CocoMetric
from sbplugins.metrics.cocoeval_io import summary_stats
from sbplugins.metrics.oks import oks_iou, soft_oks_nms
from sbplugins.utils.geometry.boxes import bbox_xywh_to_center_scale

from pipeline_sizes import resize_pipeline


# --- files in each published layout ----------------------------------------------------------------
def person(rng, img_w, img_h, num_kpt, labelled=0.8):
    w, h = rng.uniform(60, 200), rng.uniform(120, 300)
    x, y = rng.uniform(0, img_w - w), rng.uniform(0, img_h - h)
    kpts = np.stack([rng.uniform(x, x + w, num_kpt), rng.uniform(y, y + h, num_kpt),
                     rng.choice([1, 2], num_kpt)], axis=1)
    kpts[rng.uniform(size=num_kpt) > labelled] = 0
    kpts[0, 2] = 2  # at least one labelled joint
    return [float(v) for v in (x, y, w, h)], kpts


def write_coco_style(path, rng, num_kpt, num_images=8, area=True, crowd_index=False,
                     extra_field=None, names=None):
    """A COCO-style keypoint file; CrowdPose: no area, images carry crowdIndex; Human-Art 21:
    ``keypoints`` (17) plus ``keypoints_21`` (21)."""
    images, anns = [], []
    for i in range(num_images):
        img = dict(id=100 + i, file_name=f'{100 + i:06d}.jpg', width=640, height=480)
        if crowd_index:
            img['crowdIndex'] = round(i / (num_images - 1), 3)  # easy, medium and hard images
        images.append(img)
        for _ in range(rng.integers(1, 4)):
            bbox, kpts = person(rng, 640, 480, extra_field[1] if extra_field else num_kpt)
            ann = dict(id=len(anns) + 1, image_id=img['id'], category_id=1, iscrowd=0,
                       bbox=bbox, num_keypoints=int((kpts[:, 2] > 0).sum()))
            if extra_field:
                ann[extra_field[0]] = kpts.ravel().tolist()
                ann['keypoints'] = kpts[:num_kpt].ravel().tolist()
            else:
                ann['keypoints'] = kpts.ravel().tolist()
            if area:
                ann['area'] = bbox[2] * bbox[3] * 0.6
            anns.append(ann)
    k = extra_field[1] if extra_field else num_kpt
    cats = [dict(id=1, name='person', keypoints=names or [f'j{j}' for j in range(k)],
                 skeleton=[])]
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=cats)))
    return path


def predictions_for(dataset, rng, noise=4.0, duplicates=True):
    """GT instances of ``dataset`` as a batch with noisy predictions (plus near-duplicates)."""
    infos = dataset.data_list
    bbox = np.concatenate([d['bbox'] for d in infos])
    center, scale = bbox_xywh_to_center_scale(bbox, 0.75)
    kpts = np.concatenate([d['keypoints'] for d in infos]).astype(np.float64)
    img_ids = np.array([d['img_id'] for d in infos])
    if duplicates:
        rep = rng.integers(0, len(infos), len(infos))
        kpts = np.concatenate([kpts, kpts[rep] + rng.normal(0, 1.0, kpts[rep].shape)])
        scale = np.concatenate([scale, scale[rep]])
        center = np.concatenate([center, center[rep]])
        img_ids = np.concatenate([img_ids, img_ids[rep]])
    kpts = np.round((kpts + rng.normal(0, noise, kpts.shape)) * 8) / 8  # exact in the results file
    n = len(kpts)
    batch = dict(img_id=img_ids, bbox_center=center, bbox_scale=scale.astype(np.float32),
                 bbox_score=rng.uniform(0.5, 1.0, n).astype(np.float32))
    preds = dict(keypoints=kpts.astype(np.float32),
                 keypoint_scores=rng.uniform(0.1, 1.0, kpts.shape[:2]).astype(np.float32))
    return batch, preds


def direct_xtcocotools(gt_file, res_file, iou_type, sigmas, use_area):
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_file))
        ev = COCOeval(gt, gt.loadRes(str(res_file)), iou_type, sigmas, use_area=use_area)
        ev.params.useSegm = None
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.asarray(ev.stats)


def run_metric(metric, batch, preds):
    metric.process(batch, preds)
    with contextlib.redirect_stdout(io.StringIO()):
        return metric.compute_metrics(metric.results)


# --- CrowdPose ------------------------------------------------------------------------------------
def test_crowdpose_layout_trains_and_evaluates_with_its_protocol(tmp_path):
    rng = np.random.default_rng(0)
    gt_file = write_coco_style(tmp_path / 'crowdpose_test.json', rng, 14, num_images=10,
                               area=False, crowd_index=True)
    info = dict(from_file='crowdpose')
    ds = CocoDataset(str(gt_file), metainfo=info)  # no area: the box's, by the dataset's rule
    raw = json.loads(gt_file.read_text())['annotations']
    assert len(ds) == len(raw)
    np.testing.assert_allclose([d['area'][0] for d in ds.data_list],
                               [a['bbox'][2] * a['bbox'][3] for a in raw], rtol=1e-6)
    metric = METRICS.build(dict(type='CocoMetric', ann_file=str(gt_file), metainfo=info,
                                prefix='crowdpose', outfile_prefix=str(tmp_path / 'out')))
    assert (metric.iou_type, metric.use_area, metric.max_dets) == ('keypoints_crowd', False, 20)
    got = run_metric(metric, *predictions_for(ds, rng))
    assert list(got) == [f'crowdpose/{k}' for k in ('AP', 'AP .5', 'AP .75', 'AR', 'AR .5',
                                                    'AR .75', 'AP(E)', 'AP(M)', 'AP(H)')]
    want = direct_xtcocotools(gt_file, tmp_path / 'out' / 'keypoints_results.json',
                              'keypoints_crowd', load_dataset_info('crowdpose')['sigmas'], False)
    np.testing.assert_allclose(list(got.values()), want, rtol=0, atol=1e-9)
    assert 0.05 < got['crowdpose/AP'] < 0.99
    assert all(0 < got[f'crowdpose/AP({x})'] <= 1 for x in 'EMH')


def test_crowd_levels_need_crowd_index(tmp_path):
    gt_file = write_coco_style(tmp_path / 'no_index.json', np.random.default_rng(1), 14,
                               area=False)
    with pytest.raises(DataError, match=r"no_index\.json: images\[0\] lacks field\(s\) "
                                        r"\['crowdIndex'\]"):
        CocoMetric(str(gt_file), metainfo=dict(from_file='crowdpose'))


# --- the box-area OKS (use_area=False) and the backends -------------------------------------------
def test_use_area_false_ignores_the_area_field(tmp_path):
    """use_area=False scores OKS against the GT box (x 0.53), so the annotations' area does not
    matter; use_area=True follows it."""
    rng = np.random.default_rng(2)
    gt_file = write_coco_style(tmp_path / 'aic_like.json', rng, 14)
    ds = CocoDataset(str(gt_file), metainfo=dict(from_file='aic'))
    batch, preds = predictions_for(ds, rng, noise=1.5, duplicates=False)
    data = json.loads(gt_file.read_text())
    for ann in data['annotations']:
        ann['area'] *= 9.0
    scaled = tmp_path / 'aic_like_scaled.json'
    scaled.write_text(json.dumps(data))
    box = [run_metric(CocoMetric(str(f), metainfo=dict(from_file='aic')), batch, preds)['coco/AP']
           for f in (gt_file, scaled)]
    seg = [run_metric(CocoMetric(str(f), metainfo=dict(from_file='aic'), use_area=True), batch,
                      preds)['coco/AP'] for f in (gt_file, scaled)]
    assert box[0] == box[1]
    assert seg[1] > seg[0]
    metric = CocoMetric(str(gt_file), metainfo=dict(from_file='aic'), outfile_prefix=str(tmp_path))
    got = run_metric(metric, batch, preds)
    want = direct_xtcocotools(gt_file, tmp_path / 'keypoints_results.json', 'keypoints',
                              load_dataset_info('aic')['sigmas'], False)
    np.testing.assert_allclose(list(got.values()), want, rtol=0, atol=1e-9)


def test_pycocotools_and_xtcocotools_agree_on_coco_protocol(coco_sample, tmp_path):
    """COCO's protocol runs on pycocotools; xtcocotools with use_area=True gives the same stats,
    so choosing the backend by protocol changes no number."""
    rng = np.random.default_rng(3)
    ds = CocoDataset(str(coco_sample['ann_file']))
    batch, preds = predictions_for(ds, rng)
    metric = CocoMetric(str(coco_sample['ann_file']), outfile_prefix=str(tmp_path))
    assert metric.backend == 'pycocotools'
    got = run_metric(metric, batch, preds)
    want = direct_xtcocotools(coco_sample['ann_file'], tmp_path / 'keypoints_results.json',
                              'keypoints', load_dataset_info('coco')['sigmas'], True)
    np.testing.assert_allclose(list(got.values()), want, rtol=0, atol=1e-9)
    assert 0.05 < got['coco/AP'] < 0.99


def test_summary_restatement_and_max_dets(tmp_path):
    """summary_stats reads the same cells as the libraries' summaries (checked at 20 detections
    for both summaries); fewer detections per image can only lower the recall."""
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval
    rng = np.random.default_rng(4)
    gt_file = write_coco_style(tmp_path / 'crowd.json', rng, 14, num_images=10, crowd_index=True)
    ds = CocoDataset(str(gt_file), metainfo=dict(from_file='crowdpose'))
    batch, preds = predictions_for(ds, rng)
    metric = CocoMetric(str(gt_file), metainfo=dict(from_file='crowdpose'),
                        outfile_prefix=str(tmp_path))
    run_metric(metric, batch, preds)
    res = tmp_path / 'keypoints_results.json'
    for iou_type in ('keypoints', 'keypoints_crowd'):
        stats = []
        for use_library in (True, False):  # fresh evaluations: the crowd split mutates one
            with contextlib.redirect_stdout(io.StringIO()):
                gt = COCO(str(gt_file))
                ev = COCOeval(gt, gt.loadRes(str(res)), iou_type, metric.metainfo['sigmas'],
                              False)
                ev.evaluate()
                ev.accumulate()
                if use_library:
                    ev.summarize()
                    stats.append(ev.stats)
                else:
                    stats.append(summary_stats(ev, iou_type))
        np.testing.assert_allclose(stats[1], stats[0], rtol=0, atol=1e-12)
    many = run_metric(CocoMetric(str(gt_file), metainfo=dict(from_file='crowdpose')), batch, preds)
    one = run_metric(CocoMetric(str(gt_file), metainfo=dict(from_file='crowdpose'), max_dets=1),
                     batch, preds)
    assert one['coco/AR'] < many['coco/AR']


# --- missing fields --------------------------------------------------------------------------------
def test_missing_fields_get_the_rule_or_a_clear_error(tmp_path):
    rng = np.random.default_rng(5)
    path = write_coco_style(tmp_path / 'gaps.json', rng, 17)
    data = json.loads(path.read_text())
    for ann in data['annotations']:
        del ann['iscrowd'], ann['num_keypoints']
    path.write_text(json.dumps(data))
    ds = CocoDataset(str(path))  # iscrowd 0, num_keypoints counted
    assert len(ds) == len(data['annotations'])
    assert [d['num_keypoints'] for d in ds.data_list] == [
        int((np.array(a['keypoints'][2::3]) > 0).sum()) for a in data['annotations']]
    assert run_metric(CocoMetric(str(path)), *predictions_for(ds, rng, noise=0, duplicates=False)
                      )['coco/AP'] == pytest.approx(1.0)

    third = data['annotations'][2]
    del third['area']
    path.write_text(json.dumps(data))
    match = rf"gaps\.json: annotations\[2\] \(id {third['id']}\) lacks field\(s\) \['area'\]"
    with pytest.raises(DataError, match=match):
        CocoDataset(str(path))  # COCO needs the segmentation area: no rule fills it
    with pytest.raises(DataError, match=match):
        CocoMetric(str(path))
    CocoMetric(str(path), use_area=False)  # the box-area OKS does not read it
    del third['category_id']
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match=r"annotations\[2\].*lacks field\(s\) \['category_id'\]"):
        CocoDataset(str(path))


# --- OCHuman, Human-Art ------------------------------------------------------------------------------
def test_ochuman_eval_only_layout(tmp_path):
    rng = np.random.default_rng(6)
    path = write_coco_style(tmp_path / 'ochuman_coco_format_val_range_0.00_1.00.json', rng, 17)
    info = dict(from_file='ochuman')
    ds = CocoDataset(str(path), metainfo=info, test_mode=True)
    metric = CocoMetric(str(path), metainfo=info)
    assert metric.backend == 'pycocotools' and ds.metainfo['dataset_name'] == 'ochuman'
    batch, preds = predictions_for(ds, rng, noise=0, duplicates=False)
    assert run_metric(metric, batch, preds)['coco/AP'] == pytest.approx(1.0)


def test_humanart_21_joints_read_keypoints_21(tmp_path):
    rng = np.random.default_rng(7)
    path = write_coco_style(tmp_path / 'validation_humanart.json', rng, 17,
                            extra_field=('keypoints_21', 21))
    ds = CocoDataset(str(path), metainfo=dict(from_file='humanart21'))
    raw = json.loads(path.read_text())['annotations']
    assert ds.data_list[0]['keypoints'].shape == (1, 21, 2)
    np.testing.assert_allclose(ds.data_list[0]['keypoints'][0],
                               np.array(raw[0]['keypoints_21']).reshape(21, 3)[:, :2], rtol=1e-6)
    assert ds.metainfo['flip_pairs'][-2:] == [(17, 18), (19, 20)]
    batch, preds = predictions_for(ds, rng, noise=0, duplicates=False)
    metric = CocoMetric(str(path), metainfo=dict(from_file='humanart21'))
    assert run_metric(metric, batch, preds)['coco/AP'] == pytest.approx(1.0)
    ds17 = CocoDataset(str(path), metainfo=dict(from_file='humanart'))
    assert ds17.data_list[0]['keypoints'].shape == (1, 17, 2)


@pytest.mark.parametrize('name,k', [('crowdpose', 14), ('aic', 14), ('ochuman', 17),
                                    ('humanart', 17), ('humanart21', 21)])
def test_shipped_dataset_infos(name, k):
    meta = load_dataset_info(name)
    assert meta['dataset_name'] == name and meta['num_keypoints'] == k
    assert meta['sigmas'].shape == (k,) and meta['joint_weights'].shape == (k,)
    assert (meta['sigmas'] > 0).all() and meta['evaluation']['max_dets'] == 20
    names = meta['keypoint_names']
    for a, b in meta['flip_pairs']:  # left/right swaps pair a left joint with its right twin
        assert names[a].replace('left', 'right') == names[b] or \
            names[a].replace('right', 'left') == names[b]


# --- Soft-OKS-NMS ----------------------------------------------------------------------------------
def ref_soft_oks_nms(kpts, scores, areas, sigmas, thr, max_dets, method):
    """MMPose's soft_oks_nms with its _rescore, per image, restated with lists."""
    order = list(np.argsort(-scores, kind='stable'))
    rescored = [scores[i] for i in order]
    keep = []
    while order and len(keep) < max_dets:
        i = order.pop(0)
        rescored.pop(0)
        keep.append(i)
        for j in range(len(order)):
            var = (2 * sigmas) ** 2
            d2 = ((kpts[i] - kpts[order[j]]) ** 2).sum(-1)
            e = d2 / var / ((areas[i] + areas[order[j]]) / 2 + np.spacing(1)) / 2
            o = np.exp(-e).mean()
            if method == 'gaussian':
                rescored[j] *= np.exp(-o ** 2 / thr)
            elif o >= thr:
                rescored[j] *= 1 - o
        resort = sorted(range(len(order)), key=lambda j: -rescored[j])
        order = [order[j] for j in resort]
        rescored = [rescored[j] for j in resort]
    return sorted(keep)


@pytest.mark.parametrize('method,thr,max_dets', [('gaussian', 0.9, 20), ('gaussian', 0.3, 4),
                                                 ('linear', 0.3, 20), ('linear', 0.6, 3)])
def test_soft_oks_nms_matches_restatement(method, thr, max_dets):
    rng = np.random.default_rng(8)
    sigmas = load_dataset_info('coco')['sigmas'].astype(np.float64)
    kpts, scores, areas, img_ids = [], [], [], []
    for img in range(6):
        for _ in range(rng.integers(1, 4)):
            base, area = rng.uniform(0, 300, (17, 2)), rng.uniform(3000, 20000)
            for _ in range(rng.integers(1, 5)):
                kpts.append(base + rng.normal(0, rng.choice([1, 5, 20]), (17, 2)))
                scores.append(rng.uniform())
                areas.append(area)
                img_ids.append(img)
    kpts, scores, areas, img_ids = map(np.asarray, (kpts, scores, areas, img_ids))
    keep = soft_oks_nms(kpts, scores, areas, img_ids, sigmas, thr, max_dets, method)
    want = []
    for img in np.unique(img_ids):
        idx = np.flatnonzero(img_ids == img)
        want += idx[ref_soft_oks_nms(kpts[idx], scores[idx], areas[idx], sigmas, thr, max_dets,
                                     method)].tolist()
    assert np.flatnonzero(keep).tolist() == sorted(want)
    assert oks_iou(kpts[:1], kpts[:1], areas[0], areas[0], sigmas)[0] == pytest.approx(1.0)


def test_soft_oks_nms_as_metric_option(coco_sample):
    """nms_mode='soft_oks_nms' keeps near-duplicates that OKS-NMS drops (their decayed scores
    only reorder them), so precision drops and recall stays."""
    rng = np.random.default_rng(9)
    ds = CocoDataset(str(coco_sample['ann_file']))
    batch, preds = predictions_for(ds, rng, noise=2.0)
    hard = run_metric(CocoMetric(str(coco_sample['ann_file'])), batch, preds)
    soft = run_metric(CocoMetric(str(coco_sample['ann_file']), nms_mode='soft_oks_nms'), batch,
                      preds)
    none = run_metric(CocoMetric(str(coco_sample['ann_file']), nms_mode='none'), batch, preds)
    assert soft['coco/AP'] == pytest.approx(none['coco/AP'])  # < 20 poses per image: all kept
    assert soft['coco/AR'] >= hard['coco/AR'] - 1e-12
    with pytest.raises(ValueError, match='nms_mode'):
        CocoMetric(str(coco_sample['ann_file']), nms_mode='soft')


# --- AI Challenger's published layout ----------------------------------------------------------------
def write_aic_release(folder, rng, num_images=5):
    """keypoint_validation_annotations_20170911.json + keypoint_validation_images_20170911/."""
    import cv2
    img_dir = folder / 'keypoint_validation_images_20170911'
    img_dir.mkdir(parents=True)
    records = []
    for i in range(num_images):
        image_id = f'{i:04x}' + 'ab' * 18
        cv2.imwrite(str(img_dir / f'{image_id}.jpg'), np.zeros((480, 640, 3), np.uint8))
        kps, boxes = {}, {}
        for h in range(rng.integers(1, 4)):
            (x, y, w, hh), kpts = person(rng, 640, 480, 14)
            vis = np.where(kpts[:, 2] == 0, 3, np.where(kpts[:, 2] == 2, 1, 2))
            kpts[:, 2] = vis
            kpts[vis == 3, :2] = 0
            kps[f'human{h + 1}'] = [int(round(v)) for v in kpts.ravel()]
            boxes[f'human{h + 1}'] = [int(x), int(y), int(x + w), int(y + hh)]
        records.append(dict(image_id=image_id, url='', keypoint_annotations=kps,
                            human_annotations=boxes))
    ann_file = folder / 'keypoint_validation_annotations_20170911.json'
    ann_file.write_text(json.dumps(records))
    return ann_file, img_dir, records


def test_aic_published_layout(tmp_path):
    rng = np.random.default_rng(10)
    ann_file, img_dir, records = write_aic_release(tmp_path, rng)
    info = dict(from_file='aic')
    ds = CocoDataset(str(ann_file), data_prefix=dict(img=str(img_dir) + '/'), metainfo=info)
    people = [(r, name) for r in records for name in sorted(r['keypoint_annotations'])]
    assert len(ds) == len(people)
    first, (rec, name) = ds.data_list[0], people[0]
    raw = np.array(rec['keypoint_annotations'][name]).reshape(14, 3)
    np.testing.assert_array_equal(first['keypoints_visible'][0], raw[:, 2] != 3)
    x1, y1, x2, y2 = rec['human_annotations'][name]
    # the reference's clipping: x2 = x1 + max(0, w - 1)
    np.testing.assert_allclose(first['bbox'][0], [x1, y1, x2 - x1 - 1, y2 - y1 - 1], atol=1e-4)
    assert tuple(first['img_shape']) == (480, 640) and first['img_path'].endswith('.jpg')
    metric = CocoMetric(str(ann_file), metainfo=info)
    assert run_metric(metric, *predictions_for(ds, rng, noise=0, duplicates=False))[
        'coco/AP'] == pytest.approx(1.0)
    records[1]['keypoint_annotations']['human1'][2] = 7
    ann_file.write_text(json.dumps(records))
    with pytest.raises(DataError, match=r'record 1 .*visibility values \[7\]'):
        CocoDataset(str(ann_file), data_prefix=dict(img=str(img_dir) + '/'), metainfo=info)


# --- the recipes, end to end on folders in the published layouts --------------------------------
REPO = __import__('pathlib').Path(__file__).resolve().parents[1]


def shrink(cfg, work_dir, input_size=(64, 96)):
    """A recipe shrunk to a small backbone and input so it trains in seconds."""
    w, h = input_size
    codec = dict(type='MSRAHeatmap', input_size=(w, h), heatmap_size=(w // 4, h // 4), sigma=2.0)
    cfg.merge_from_dict({
        'work_dir': str(work_dir), 'model.pretrained': None, 'model.backbone.depth': 18,
        'model.backbone.base_channels': 16,  # the head's in_channels follow (backbone contract)
        'model.head.num_deconv_filters': (32, 32, 32), 'model.codec': codec,
        'train_cfg': dict(max_epochs=1, val_interval=1), 'param_scheduler': [],
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.interval': 1,
    })
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].batch_size = 4
        cfg[key].num_workers = 1
        resize_pipeline(cfg[key].dataset.pipeline, (w, h), codec)
    return cfg


def write_images(folder, coco_file):
    import cv2
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for img in json.loads(coco_file.read_text())['images']:
        pixels = rng.integers(0, 255, (img['height'] // 8, img['width'] // 8, 3), dtype=np.uint8)
        cv2.imwrite(str(folder / img['file_name']),
                    cv2.resize(pixels, (img['width'], img['height'])))


def test_crowdpose_recipe_trains_and_evaluates_on_its_layout(tmp_path):
    """configs/simple_baseline/crowdpose/res50_256x192.py, pointed at a CrowdPose folder (no
    area, crowdIndex per image, MMPose's detection file): trains, evaluates with crowd levels."""
    from sbcore.config import Config
    from sbcore.runner import Runner
    rng = np.random.default_rng(11)
    root = tmp_path / 'crowdpose'
    (root / 'annotations').mkdir(parents=True)
    for split in ('trainval', 'test'):
        write_coco_style(root / 'annotations' / f'crowdpose_{split}.json', rng, 14, num_images=4,
                         area=False, crowd_index=True)
    write_images(root / 'images', root / 'annotations' / 'crowdpose_test.json')
    test = json.loads((root / 'annotations' / 'crowdpose_test.json').read_text())
    dets = [dict(image_id=a['image_id'], category_id=1, score=0.9,
                 bbox=[v + d for v, d in zip(a['bbox'], rng.normal(0, 3, 4))])
            for a in test['annotations']]
    (root / 'annotations' / 'det_for_crowd_test_0.1_0.5.json').write_text(json.dumps(dets))
    cfg = Config.fromfile(REPO / 'configs/simple_baseline/crowdpose/res50_256x192.py')
    cfg = shrink(cfg, tmp_path / 'work')
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = str(root) + '/'
    cfg.val_evaluator.ann_file = str(root / 'annotations' / 'crowdpose_test.json')
    cfg.test_evaluator = cfg.val_evaluator
    Runner(cfg).train()
    metrics = json.loads((tmp_path / 'work' / 'metrics.json').read_text())
    assert set(metrics) == {f'crowdpose/{k}' for k in ('AP', 'AP .5', 'AP .75', 'AR', 'AR .5',
                                                       'AR .75', 'AP(E)', 'AP(M)', 'AP(H)')}
    assert all(-1 <= v <= 1 for v in metrics.values())
    results = json.loads((tmp_path / 'work' / 'keypoints_results.json').read_text())
    assert len(results[0]['keypoints']) == 14 * 3


@pytest.mark.parametrize('recipe,k', [('aic/res101_256x192.py', 14),
                                      ('ochuman/res50_256x192.py', 17),
                                      ('humanart/res50_256x192.py', 17),
                                      ('humanart/res50_256x192_21kpt.py', 21)])
def test_dataset_recipes_build_on_their_layouts(tmp_path, recipe, k):
    """Each recipe's val dataset and metric build on a file of its layout put where it looks."""
    from sbcore.config import Config
    from sbcore.registries import DATASETS
    cfg = Config.fromfile(REPO / 'configs/simple_baseline' / recipe).to_dict()
    assert cfg['model']['head']['out_channels'] == k
    ds_cfg = dict(cfg['val_dataloader']['dataset'], pipeline=[])
    rng = np.random.default_rng(12)
    root = tmp_path / 'data'
    ann = root / ds_cfg['data_root'].replace('data/', '', 1) / ds_cfg['ann_file']
    ann.parent.mkdir(parents=True, exist_ok=True)
    if recipe.startswith('aic'):
        assert write_aic_release(ann.parent, rng)[0] == ann  # the release's own names
    elif k == 21:
        write_coco_style(ann, rng, 17, extra_field=('keypoints_21', 21))
    else:
        write_coco_style(ann, rng, 17)
    ds_cfg['data_root'] = str(root / ds_cfg['data_root'].replace('data/', '', 1))
    ds = DATASETS.build(ds_cfg)
    assert ds.data_list[0]['keypoints'].shape == (1, k, 2)
    metric = METRICS.build(dict(cfg['val_evaluator'], ann_file=str(ann)))
    batch, preds = predictions_for(ds, rng, noise=0, duplicates=False)
    got = run_metric(metric, batch, preds)
    assert got[f'{metric.prefix}/AP'] == pytest.approx(1.0)
