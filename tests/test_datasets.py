"""Dataset-info files and the COCO/MPII datasets on the real samples, against re-statements of the
reference's selection rules (docs: simplebaseline-reference.md "Boxes" and "MPII")."""
import json

import numpy as np
import pytest

import sbcore  # noqa: F401  (sets the oneDNN ISA before anything imports mindspore)
from sbcore.errors import DataError
from sbcore.registries import DATASETS
from sbplugins.datasets.coco import CocoDataset
from sbplugins.datasets.dataset_info import load_dataset_info, parse_dataset_info
from sbplugins.datasets.mpii import MpiiDataset

COCO_FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
MPII_FLIP_PAIRS = [(0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)]
COCO_SIGMAS_X10 = [
    .26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89
]


# --- dataset info -----------------------------------------------------------------------------------
def test_coco_info_matches_reference_and_annotation_file(coco_sample):
    meta = load_dataset_info('coco')
    assert meta['num_keypoints'] == 17
    assert meta['flip_pairs'] == COCO_FLIP_PAIRS
    assert meta['flip_indices'] == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    np.testing.assert_allclose(meta['sigmas'], np.array(COCO_SIGMAS_X10) / 10, rtol=1e-6)
    assert meta['joint_weights'].shape == (17, ) and meta['joint_weights'].dtype == np.float32
    # joint names and skeleton agree with the real annotation file's category (1-based links there)
    category = json.loads(coco_sample['ann_file'].read_text())['categories'][0]
    assert meta['keypoint_names'] == category['keypoints']
    links = {frozenset(link) for link in meta['skeleton_links']}
    assert links == {frozenset((a - 1, b - 1)) for a, b in category['skeleton']}
    assert meta['skeleton_link_colors'].shape == (19, 3)
    assert meta['upper_body_ids'] == list(range(11)) and meta['lower_body_ids'] == list(
        range(11, 17))


def test_mpii_info_matches_reference():
    meta = load_dataset_info('mpii')
    assert meta['num_keypoints'] == 16
    assert meta['flip_pairs'] == MPII_FLIP_PAIRS
    assert [meta['keypoint_names'][i]
            for i in (6, 7, 8, 9)] == ['pelvis', 'thorax', 'upper_neck', 'head_top']
    flip = meta['flip_indices']
    assert all(flip[flip[k]] == k for k in range(16))


def test_dataset_info_errors_name_file_and_key(tmp_path):
    info_file = tmp_path / 'bad_info.py'
    info_file.write_text(
        'dataset_info = dict(dataset_name="x", keypoint_info={}, skeleton_info={}, '
        'joint_weights=[])\n')
    with pytest.raises(KeyError, match=r'bad_info\.py.*sigmas'):
        load_dataset_info(str(info_file))
    (tmp_path / 'none.py').write_text('x = 1\n')
    with pytest.raises(KeyError, match=r'none\.py.*dataset_info'):
        load_dataset_info(str(tmp_path / 'none.py'))
    with pytest.raises(FileNotFoundError, match='missing_info.py'):
        load_dataset_info('configs/missing_info.py')
    base = dict(dataset_name='x', skeleton_info={}, joint_weights=[1, 1], sigmas=[.1, .1])
    one_sided = dict(base,
                     keypoint_info={
                         0: dict(name='l', id=0, color=[0, 0, 0], type='upper', swap='r'),
                         1: dict(name='r', id=1, color=[0, 0, 0], type='upper', swap='')
                     })
    with pytest.raises(ValueError, match='mutual'):
        parse_dataset_info(one_sided)
    with pytest.raises(ValueError, match='sigmas'):
        parse_dataset_info(
            dict(one_sided,
                 sigmas=[.1],
                 keypoint_info={
                     0: dict(one_sided['keypoint_info'][0], swap='r'),
                     1: dict(one_sided['keypoint_info'][1], swap='l')
                 }))


# --- COCO -------------------------------------------------------------------------------------------
def ref_gt_instances(ann_file):
    """The reference's ground-truth selection, restated: not crowd, any v > 0, area > 0, clipped box."""
    data = json.loads(ann_file.read_text())
    images = {im['id']: im for im in data['images']}
    out = []
    for ann in data['annotations']:
        kpts = np.array(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
        if ann['iscrowd'] or not (kpts[:, 2] > 0).any():
            continue
        img = images[ann['image_id']]
        x, y, w, h = ann['bbox']
        x1, y1 = max(0, x), max(0, y)
        x2 = min(img['width'] - 1, x1 + max(0, w - 1))
        y2 = min(img['height'] - 1, y1 + max(0, h - 1))
        if ann['area'] > 0 and x2 >= x1 and y2 >= y1:
            out.append((ann['id'], [x1, y1, x2 - x1, y2 - y1], kpts))
    return out


def test_coco_gt_boxes(coco_sample):
    ds = CocoDataset(str(coco_sample['ann_file']), data_root=str(coco_sample['root']))
    expected = ref_gt_instances(coco_sample['ann_file'])
    assert len(ds) == len(expected) == 12  # 14 persons, two without labelled keypoints
    for inst, (ann_id, bbox, kpts) in zip(ds.data_list, expected):
        assert inst['id'] == ann_id
        np.testing.assert_allclose(inst['bbox'], [bbox], rtol=0, atol=1e-4)
        np.testing.assert_array_equal(inst['keypoints'][0], kpts[:, :2])
        np.testing.assert_array_equal(inst['keypoints_visible'][0], (kpts[:, 2]
                                                                     > 0).astype(np.float32))
        assert inst['bbox_score'].tolist() == [1.0]
        assert inst['keypoints'].shape == (1, 17, 2) and inst['keypoints_visible'].shape == (1, 17)
    assert all(p['img_path'].startswith(str(coco_sample['img_dir'])) for p in ds.data_list)
    assert (coco_sample['img_dir'] / ds.data_list[0]['img_path'].split('/')[-1]).is_file()


def test_coco_gt_selection_rules_on_edited_file(coco_sample, tmp_path):
    """Crowd, unlabelled, zero-area and off-image persons are dropped, like the restated rules."""
    data = json.loads(coco_sample['ann_file'].read_text())
    anns = [a for a in data['annotations'] if a['num_keypoints'] > 0]
    anns[0]['iscrowd'] = 1
    anns[1]['area'] = 0.0
    anns[2]['bbox'][0] = 10000.0  # starts right of the image: x2 < x1 after clipping
    anns[3]['keypoints'][2::3] = [0] * 17  # coordinates kept but nothing labelled
    anns[4]['bbox'][1] = -50.0  # partly above the image: clipped, kept
    path = tmp_path / 'edited.json'
    path.write_text(json.dumps(data))
    ds = CocoDataset(str(path))
    expected = ref_gt_instances(path)
    assert len(ds) == len(expected) == 12 - 4
    assert [d['id'] for d in ds.data_list] == [e[0] for e in expected]
    np.testing.assert_allclose(np.concatenate([d['bbox'] for d in ds.data_list]),
                               [e[1] for e in expected], atol=1e-4)


def test_coco_detection_boxes(coco_sample):
    kwargs = dict(ann_file=str(coco_sample['ann_file']),
                  bbox_file=str(coco_sample['det_file']),
                  data_prefix=dict(img=str(coco_sample['img_dir']) + '/'),
                  test_mode=True)
    ds = CocoDataset(**kwargs)
    dets = json.loads(coco_sample['det_file'].read_text())
    assert len(ds) == len(dets) == 118
    np.testing.assert_allclose(ds.data_list[5]['bbox'][0], dets[5]['bbox'],
                               rtol=1e-6)  # not clipped
    assert ds.data_list[5]['bbox_score'][0] == pytest.approx(dets[5]['score'], rel=1e-6)
    assert all(inst['id'] == -1 and not inst['keypoints'].any() for inst in ds.data_list)
    thr = 0.5
    ds_thr = CocoDataset(det_score_thr=thr, **kwargs)
    assert len(ds_thr) == sum(d['score'] >= thr for d in dets) < 118


def test_coco_other_keypoint_layout_by_config(tmp_path, mpii_sample):
    """A COCO-format file with 16 MPII-layout joints loads by pointing metainfo at mpii.py."""
    kpts = np.array(json.loads(mpii_sample['ann_file'].read_text())[0]['joints'])
    ann = dict(id=7,
               image_id=1,
               category_id=1,
               iscrowd=0,
               area=100.0,
               bbox=[10, 10, 50, 80],
               keypoints=np.concatenate([kpts, np.full((16, 1), 2)], 1).ravel().tolist())
    path = tmp_path / 'mpii_as_coco.json'
    path.write_text(
        json.dumps(
            dict(images=[dict(id=1, file_name='a.jpg', width=2000, height=2000)],
                 annotations=[ann])))
    ds = CocoDataset(str(path), metainfo=dict(from_file='mpii'))
    assert len(ds) == 1 and ds.data_list[0]['keypoints'].shape == (1, 16, 2)
    with pytest.raises(ValueError,
                       match=r'mpii_as_coco\.json.*48 keypoint values, expected 3 x 17'):
        CocoDataset(str(path))


def test_coco_errors_name_the_file(tmp_path, coco_sample):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        CocoDataset(str(tmp_path / 'nope.json'))
    bad = tmp_path / 'broken.json'
    bad.write_text('{"images": [')
    with pytest.raises(ValueError, match='broken.json.*not valid JSON'):
        CocoDataset(str(bad))
    no_kpts = tmp_path / 'no_kpts.json'
    no_kpts.write_text(
        json.dumps(
            dict(images=[dict(id=1, file_name='a.jpg', width=9, height=9)],
                 annotations=[dict(id=3, image_id=1, bbox=[0, 0, 1, 1])])))
    with pytest.raises(DataError, match=r"no_kpts\.json.*keypoints"):
        CocoDataset(str(no_kpts))
    dets = json.loads(coco_sample['det_file'].read_text())
    dets[3]['image_id'] = 424242
    det_file = tmp_path / 'dets.json'
    det_file.write_text(json.dumps(dets))
    with pytest.raises(KeyError, match=r'dets\.json.*424242'):
        CocoDataset(str(coco_sample['ann_file']), bbox_file=str(det_file))
    with pytest.raises(FileNotFoundError, match='missing_dets.json'):
        CocoDataset(str(coco_sample['ann_file']), bbox_file=str(tmp_path / 'missing_dets.json'))


def test_getitem_is_seeded_and_leaves_data_list_alone(coco_sample):
    draws = []

    def record_draw(results):
        results['draw'] = results['rng'].random()
        results['keypoints'][...] = -1  # a transform writing in place must not reach data_list
        return results

    ds = CocoDataset(str(coco_sample['ann_file']), pipeline=[record_draw])
    a, b, c = ds[3], ds[3], ds[4]
    assert a['draw'] == b['draw'] != c['draw']
    assert a['draw'] == np.random.default_rng(3).random()
    assert ds.data_list[3]['keypoints'].min() >= 0
    assert a['flip_indices'] == ds.metainfo['flip_indices']
    np.testing.assert_array_equal(a['dataset_keypoint_weights'], ds.metainfo['joint_weights'])
    assert DATASETS.build(dict(type='CocoDataset', ann_file=str(coco_sample['ann_file']))).__class__ \
        is CocoDataset


# --- MPII -------------------------------------------------------------------------------------------
def test_mpii_sample(mpii_sample):
    ds = MpiiDataset(str(mpii_sample['ann_file']), data_root=str(mpii_sample['root']))
    anns = json.loads(mpii_sample['ann_file'].read_text())
    assert len(ds) == len(anns) == 5
    for inst, ann in zip(ds.data_list, anns):
        s = ann['scale']
        # reference: center y += 15 s, s *= 1.25, then 1-based -> 0-based (center and joints)
        center = np.array([ann['center'][0] - 1, ann['center'][1] + 15 * s - 1])
        np.testing.assert_allclose(inst['bbox_center'][0], center, rtol=1e-6)
        np.testing.assert_allclose(inst['bbox_scale'][0], [1.25 * s, 1.25 * s], rtol=1e-6)
        np.testing.assert_allclose(inst['keypoints'][0], np.array(ann['joints']) - 1, rtol=1e-6)
        np.testing.assert_array_equal(inst['keypoints_visible'][0], np.array(ann['joints_vis']) > 0)
        # fallback head size: 0.6 * diagonal of a square head box of side |head_top - upper_neck|
        neck, top = np.array(ann['joints'][8]), np.array(ann['joints'][9])
        assert inst['head_size'][0] == pytest.approx(0.6 * np.sqrt(2) * np.linalg.norm(top - neck),
                                                     rel=1e-5)
        assert (mpii_sample['img_dir'] / ann['image']).is_file()
        assert inst['img_path'].endswith(ann['image'])


def test_mpii_headbox_file(tmp_path, mpii_sample):
    boxes = [[10, 20, 40, 60], [0, 0, 3, 4], [5, 5, 6, 6], [1, 1, 31, 41], [0, 0, 10, 0]]
    (tmp_path / 'heads.json').write_text(json.dumps(boxes))
    ds = MpiiDataset(str(mpii_sample['ann_file']), headbox_file=str(tmp_path / 'heads.json'))
    np.testing.assert_allclose([d['head_size'][0] for d in ds.data_list],
                               [0.6 * 50, 0.6 * 5, 0.6 * np.sqrt(2), 0.6 * 50, 0.6 * 10],
                               rtol=1e-6)
    (tmp_path / 'short.json').write_text(json.dumps(boxes[:3]))
    with pytest.raises(ValueError, match=r'short\.json.*\(5, 4\)'):
        MpiiDataset(str(mpii_sample['ann_file']), headbox_file=str(tmp_path / 'short.json'))


def test_mpii_headbox_mat_file(tmp_path, mpii_sample):
    from scipy.io import savemat
    boxes = np.array([[10, 20, 40, 60], [0, 0, 3, 4], [5, 5, 6, 6], [1, 1, 31, 41], [0, 0, 10, 0]],
                     float)
    src = np.stack([boxes[:, :2].T, boxes[:, 2:].T])  # (2 corners, 2 xy, N) as in gt_valid.mat
    savemat(tmp_path / 'gt_valid.mat', dict(headboxes_src=src))
    ds = MpiiDataset(str(mpii_sample['ann_file']), headbox_file=str(tmp_path / 'gt_valid.mat'))
    np.testing.assert_allclose([d['head_size'][0] for d in ds.data_list],
                               0.6 * np.linalg.norm(boxes[:, 2:] - boxes[:, :2], axis=1),
                               rtol=1e-6)


# --- with the real pipeline, into the metrics ---------------------------------------------------------
def stack(samples):
    return {k: np.stack([s[k] for s in samples]) for k in samples[0]}


def test_coco_pipeline_into_metric(coco_sample, tmp_path):
    from sbplugins.metrics.coco_metric import CocoMetric
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale', aspect_ratio=192 / 256),
        dict(type='TopdownAffine', input_size=(192, 256)),
        dict(type='PackPoseInputs')
    ]
    ds = CocoDataset(str(coco_sample['ann_file']),
                     data_root=str(coco_sample['root']),
                     pipeline=pipeline,
                     test_mode=True)
    batch = stack([ds[i] for i in range(len(ds))])
    assert batch['img'].shape == (12, 256, 192, 3) and batch['img'].dtype == np.uint8
    assert batch['keypoints'].shape == (12, 17, 2) and batch['bbox_scale'].shape == (12, 2)
    metric = CocoMetric(str(coco_sample['ann_file']), outfile_prefix=str(tmp_path))
    metric.process(batch,
                   dict(keypoints=batch['keypoints'], keypoint_scores=batch['keypoints_visible']))
    assert metric.compute_metrics(metric.results)['coco/AP'] == pytest.approx(1.0, abs=1e-12)


def test_mpii_pipeline_into_metric(mpii_sample):
    from sbplugins.metrics.pckh_metric import PCKhMetric
    from sbplugins.transforms.formatting import DEFAULT_KEYS
    pipeline = [
        dict(type='LoadImage'),
        dict(type='GetBBoxCenterScale'),
        dict(type='TopdownAffine', input_size=(256, 256)),
        dict(type='PackPoseInputs', keys=DEFAULT_KEYS + ('head_size', ))
    ]
    ds = MpiiDataset(str(mpii_sample['ann_file']),
                     data_root=str(mpii_sample['root']),
                     pipeline=pipeline)
    batch = stack([ds[i] for i in range(len(ds))])
    assert batch['img'].shape == (5, 256, 256, 3) and batch['keypoints'].shape == (5, 16, 2)
    np.testing.assert_allclose(batch['bbox_center'],
                               np.concatenate([d['bbox_center'] for d in ds.data_list]))
    metric = PCKhMetric()
    metric.process(batch, dict(keypoints=batch['keypoints'] + 1.0))
    assert metric.compute_metrics(metric.results)['pckh/Mean'] == 100.0
