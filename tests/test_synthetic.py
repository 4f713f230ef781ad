"""The synthetic person dataset: determinism, COCO schema and rules, scoring, left/right cue, caching."""
import contextlib
import io
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from sbplugins.datasets import synthetic_people as sp
from sbplugins.datasets.synthetic_painter import Painter, draw_person
from sbplugins.datasets.synthetic_pose import sample_pose
from sbplugins.datasets.synthetic import SyntheticCocoDataset
from tool_helpers import load_tool_module

SIZES = dict(num_train_images=12, num_val_images=40, image_size=(320, 256), max_people_per_image=2, seed=3)


@pytest.fixture(scope='module')
def generated(tmp_path_factory) -> dict:
    return sp.generate_dataset(str(tmp_path_factory.mktemp('synthetic') / 'a'), **SIZES)


def _files(root: str) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(Path(root).rglob('*')) if p.is_file()}


def _quiet_coco(path: str) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):
        return COCO(path)


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(generated, tmp_path):
    again = sp.generate_dataset(str(tmp_path / 'b'), **SIZES)
    first, second = _files(generated['root']), _files(again['root'])
    assert sorted(first) == sorted(second)
    num_images = SIZES['num_train_images'] + SIZES['num_val_images']
    assert len([k for k in first if k.endswith('.jpg')]) == num_images
    assert all(first[k] == second[k] for k in first), [k for k in first if first[k] != second[k]]
    other = sp.generate_dataset(str(tmp_path / 'c'),
                                **dict(SIZES, seed=4, num_train_images=1, num_val_images=1))
    assert _files(other['root'])['images/val/000001000001.jpg'] != first['images/val/000001000001.jpg']


def test_growing_a_split_keeps_its_first_images(generated, tmp_path):
    # each image draws from its own (seed, split, index) stream
    small = sp.generate_dataset(str(tmp_path / 's'), **dict(SIZES, num_train_images=3, num_val_images=2))
    big = _files(generated['root'])
    for name, data in _files(small['root']).items():
        if name.endswith('.jpg'):
            assert big[name] == data, name


@pytest.mark.parametrize('split', ['train', 'val'])
def test_annotations_follow_the_coco_keypoint_rules(generated, split):
    coco = _quiet_coco(generated[f'{split}_ann'])
    cat = coco.loadCats(1)[0]
    assert cat['name'] == 'person' and cat['keypoints'] == list(sp.KEYPOINT_NAMES)
    assert len(cat['skeleton']) == 19 and all(1 <= i <= 17 for link in cat['skeleton'] for i in link)
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) >= len(coco.getImgIds())  # at least one person per image
    assert len({a['id'] for a in anns}) == len(anns)
    seen_v = set()
    for ann in anns:
        img = coco.loadImgs(ann['image_id'])[0]
        k = np.array(ann['keypoints'], dtype=np.float64).reshape(17, 3)
        v = k[:, 2]
        seen_v |= set(v.tolist())
        assert set(v.tolist()) <= {0, 1, 2}, ann['id']
        assert ann['num_keypoints'] == int((v > 0).sum()), ann['id']
        assert (k[v == 0, :2] == 0).all(), ann['id']
        labelled = k[v > 0]
        assert (labelled[:, 0] >= 0).all() and (labelled[:, 0] <= img['width'] - 1).all(), ann['id']
        assert (labelled[:, 1] >= 0).all() and (labelled[:, 1] <= img['height'] - 1).all(), ann['id']
        x, y, w, h = ann['bbox']
        assert x >= 0 and y >= 0 and x + w <= img['width'] and y + h <= img['height'], ann['id']
        assert 0 < ann['area'] <= w * h, ann['id']
        # labelled joints sit on or next to the person's silhouette, hence inside its box (+1 px)
        assert (labelled[:, 0] >= x - 1).all() and (labelled[:, 0] <= x + w + 1).all(), ann['id']
        assert ann['iscrowd'] == 0 and ann['category_id'] == 1
        on_disk = cv2.imread(os.path.join(generated[f'{split}_images'], img['file_name']))
        assert on_disk.shape == (img['height'], img['width'], 3)
    if split == 'val':  # 40 images: visible, hidden (occluded) and unlabelled joints all occur
        assert seen_v == {0, 1, 2}


def test_ground_truth_scored_as_predictions_gives_ap_1(generated, tmp_path):
    gt = _quiet_coco(generated['val_ann'])
    results = []
    for ann in gt.loadAnns(gt.getAnnIds()):
        k = np.array(ann['keypoints'], dtype=np.float64).reshape(17, 3)
        k[:, 2] = 1.0  # the official results schema: [x, y, score] * 17
        results.append(dict(image_id=ann['image_id'], category_id=1, keypoints=k.ravel().tolist(), score=1.0))
    res_file = tmp_path / 'keypoints_results.json'
    res_file.write_text(json.dumps(results))
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(str(res_file))
        ev = COCOeval(gt, dt, 'keypoints')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ev.stats[0] == pytest.approx(1.0, abs=1e-9)  # AP
    assert ev.stats[5] == pytest.approx(1.0, abs=1e-9)  # AR


def _iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_detection_file_loads_and_covers_every_person(generated):
    gt = _quiet_coco(generated['val_ann'])
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(generated['val_det'])
    dets = dt.loadAnns(dt.getAnnIds())
    assert all(d['category_id'] == 1 and 0 < d['score'] <= 1 and len(d['bbox']) == 4 for d in dets)
    for ann in gt.loadAnns(gt.getAnnIds()):
        same_image = [d for d in dets if d['image_id'] == ann['image_id']]
        best = max(same_image, key=lambda d: _iou(d['bbox'], ann['bbox']))
        assert _iou(best['bbox'], ann['bbox']) > 0.6 and best['score'] >= 0.5, ann['id']
    assert any(d['score'] < 0.5 for d in dets)  # some low-score false positives


def test_front_facing_figures_have_their_left_on_the_image_right():
    for seed in range(200):
        for front in (True, False):
            j, _ = sample_pose(np.random.default_rng(seed), front)
            names = sp.KEYPOINT_NAMES
            for part in ('shoulder', 'hip', 'ear'):
                dx = j[names.index(f'left_{part}'), 0] - j[names.index(f'right_{part}'), 0]
                assert (dx > 0) == front, (seed, front, part)


def test_the_two_sides_are_shaded_differently_left_darker():
    # a hand-made upright figure (18 points: COCO joints + head centre) with its arms held out
    j = np.array([[160, 62], [164, 57], [156, 57], [169, 59], [151, 59], [175, 80], [145, 80],
                  [200, 90], [120, 90], [225, 100], [95, 100], [168, 125], [152, 125],
                  [170, 160], [150, 160], [170, 195], [150, 195], [160, 58]], dtype=np.float64)
    image, cover = np.zeros((256, 320, 3), np.uint8), np.zeros((256, 320), np.uint8)
    paint = Painter(image, cover)
    paint.layer = 1
    draw_person(paint, np.random.default_rng(0), j, height=150.0, head_r=0.07, front=True)
    for left, right in ((5, 6), (11, 12), (13, 14)):  # upper arms, thighs, shins at mid-segment
        nxt = {5: 7, 6: 8, 11: 13, 12: 14, 13: 15, 14: 16}
        pl = np.round((j[left] + j[nxt[left]]) / 2).astype(int)
        pr = np.round((j[right] + j[nxt[right]]) / 2).astype(int)
        lum_l, lum_r = image[pl[1], pl[0]].astype(float).sum(), image[pr[1], pr[0]].astype(float).sum()
        assert cover[pl[1], pl[0]] == 1 and cover[pr[1], pr[0]] == 1
        assert lum_r > 0 and lum_l < 0.75 * lum_r, (left, lum_l, lum_r)


def test_ensure_dataset_reuses_matching_data_and_regenerates_on_change(tmp_path):
    root = str(tmp_path / 'syn')
    small = dict(num_train_images=2, num_val_images=2, seed=0)
    paths = sp.ensure_dataset(root, **small)
    stamp = os.stat(paths['train_ann']).st_mtime_ns
    assert sp.ensure_dataset(root, **small) == paths
    assert os.stat(paths['train_ann']).st_mtime_ns == stamp  # not rewritten
    sp.ensure_dataset(root, **dict(small, num_train_images=3))
    assert len(json.loads(Path(paths['train_ann']).read_text())['images']) == 3
    assert json.loads(Path(paths['meta']).read_text())['num_train_images'] == 3
    assert sorted(os.listdir(tmp_path)) == ['syn']  # no temporary folders left behind
    foreign = tmp_path / 'not_ours'
    foreign.mkdir()
    (foreign / 'keep.txt').write_text('user data')
    with pytest.raises(FileExistsError, match='not_ours'):
        sp.ensure_dataset(str(foreign), **small)
    assert (foreign / 'keep.txt').read_text() == 'user data'


def test_synthetic_dataset_is_a_coco_dataset_over_the_generated_files(tmp_path):
    import sbcore  # noqa: F401  (sets the CPU ISA before anything imports mindspore)
    from sbcore.registries import DATASETS

    common = dict(data_root=str(tmp_path / 'syn'), num_train_images=3, num_val_images=5, seed=1)
    val = DATASETS.build(dict(type='SyntheticCocoDataset', split='val', **common))
    assert isinstance(val, SyntheticCocoDataset)
    anns = json.loads(Path(val.paths['val_ann']).read_text())['annotations']
    assert len(val) == sum(a['num_keypoints'] > 0 for a in anns)
    inst = val.data_list[0]
    assert os.path.isfile(inst['img_path']) and inst['keypoints'].shape == (1, 17, 2)
    dets = SyntheticCocoDataset(split='val', use_detections=True, **common)
    assert len(dets) == len(json.loads(Path(val.paths['val_det']).read_text()))
    train = SyntheticCocoDataset(split='train', pipeline=[dict(type='LoadImage')], **common)
    assert train[0]['img'].shape == (256, 320, 3)
    with pytest.raises(ValueError, match='use_detections'):
        SyntheticCocoDataset(split='train', use_detections=True, **common)


def test_difficulty_zero_gives_whole_front_facing_people(tmp_path):
    # no truncation, occluders or back-facing figures: every joint is labelled (v > 0)
    paths = sp.generate_dataset(str(tmp_path / 'easy'), num_train_images=0, num_val_images=20, difficulty=0.0)
    anns = json.loads(Path(paths['val_ann']).read_text())['annotations']
    assert anns and all(a['num_keypoints'] == 17 for a in anns)
    with pytest.raises(ValueError, match='difficulty=1.5'):
        sp.generate_dataset(str(tmp_path / 'bad'), num_train_images=1, num_val_images=1, difficulty=1.5)


def test_command_line_tool_writes_the_dataset_and_a_preview(tmp_path, capsys):
    tool = load_tool_module('generate_synthetic')
    sheet = tmp_path / 'sheet.png'
    assert tool.main(['--out', str(tmp_path / 'syn'), '--num-train', '2', '--num-val', '5',
                      '--preview', str(sheet), '--num-preview', '5']) == 0
    out = capsys.readouterr().out
    assert 'val: 5 images' in out and 'train: 2 images' in out and str(sheet) in out
    assert cv2.imread(str(sheet)).shape == (2 * 256, 4 * 320, 3)  # 5 tiles on a 4-column grid
