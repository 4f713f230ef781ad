"""The inference API on real COCO images: model building, checkpoint loading, top-down inference.

The model is a randomly initialised ResNet-18 SimpleBaseline (tests/configs/coco_sample_res18.py):
its keypoints are meaningless, so the tests check what holds for any weights (shapes, geometry,
translation equivariance, flip-test arithmetic, agreement with the evaluation data path).
"""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before mindspore loads)
import mindspore
from sbcore.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from sbcore.registries import DATASETS

from sbplugins.apis import inference_topdown, init_model, load_model_weights

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(REPO_ROOT / 'tests' / 'configs' / 'coco_sample_res18.py')
IMAGE_785 = '000000000785.jpg'  # one skier
IMAGE_40083 = '000000040083.jpg'  # several people
COCO_FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def gt_boxes(coco_sample, file_name: str) -> np.ndarray:
    """(N, 4) xywh boxes of the image's non-crowd annotated persons with keypoints."""
    coco = json.loads(Path(coco_sample['ann_file']).read_text())
    img_id = next(i['id'] for i in coco['images'] if i['file_name'] == file_name)
    boxes = [a['bbox'] for a in coco['annotations']
             if a['image_id'] == img_id and not a.get('iscrowd') and a['num_keypoints'] > 0]
    return np.asarray(boxes, np.float32).reshape(-1, 4)


def padded_box_limits(bbox: np.ndarray, aspect: float = 192 / 256, padding: float = 1.25):
    """(x0, y0, x1, y1) of the crop region: the box grown to the crop aspect, then x1.25
    (re-stated from the reference doc, not from the project's helper)."""
    x, y, w, h = (float(v) for v in bbox)
    if w > aspect * h:
        h = w / aspect
    else:
        w = h * aspect
    cx, cy = x + float(bbox[2]) / 2, y + float(bbox[3]) / 2
    w, h = w * padding, h * padding
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


@pytest.fixture(scope='module')
def model(coco_sample):
    mindspore.set_seed(1)
    return init_model(CONFIG, cfg_options=coco_sample['cfg_options'])


@pytest.fixture(scope='module')
def checkpoint(model, tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'random_r18.ckpt'
    save_checkpoint(path, {n: p.asnumpy() for n, p in model.parameters_and_names()}, {})
    return path


def test_init_model_is_ready_for_inference(model):
    assert not model.training
    meta = model.dataset_meta
    assert meta['num_keypoints'] == 17 and meta['flip_indices'] == COCO_FLIP_INDICES
    assert len(meta['skeleton_links']) == 19  # the COCO skeleton
    assert model.test_cfg['flip_test'] is True  # the config's default


def test_checkpoint_weights_reach_kernels_that_already_ran(model, checkpoint, coco_sample):
    """Loading into a model that has already run (the Parameter.set_data trap) must change its
    output to the checkpoint's model's output, bit for bit."""
    crop = np.random.default_rng(0).normal(size=(1, 3, 256, 192)).astype(np.float32)
    expected = model(mindspore.Tensor(crop)).asnumpy()
    mindspore.set_seed(2)
    other = init_model(CONFIG, cfg_options=coco_sample['cfg_options'])
    before = other(mindspore.Tensor(crop)).asnumpy()
    assert np.abs(before - expected).max() > 1e-9  # different random init
    load_model_weights(other, str(checkpoint))
    np.testing.assert_array_equal(other(mindspore.Tensor(crop)).asnumpy(), expected)
    loaded = init_model(CONFIG, str(checkpoint), cfg_options=coco_sample['cfg_options'])
    np.testing.assert_array_equal(loaded(mindspore.Tensor(crop)).asnumpy(), expected)


def test_mismatched_checkpoint_is_an_error_naming_the_parameter(model, checkpoint, tmp_path):
    arrays, _ = load_checkpoint(checkpoint)
    arrays.pop('head.final_layer.bias')
    arrays['head.final_layer.weight'] = arrays['head.final_layer.weight'][:5]
    bad = save_checkpoint(tmp_path / 'bad.ckpt', arrays, {})
    with pytest.raises(CheckpointError, match=r'head\.final_layer\.bias') as err:
        load_model_weights(model, str(bad))
    assert 'head.final_layer.weight' in str(err.value) and 'bad.ckpt' in str(err.value)


def test_compiled_and_eager_models_agree_with_padded_batches(model, checkpoint, coco_sample):
    """init_model compiles by default; a last batch padded to a power of two changes nothing."""
    image = str(coco_sample['img_dir'] / IMAGE_40083)
    boxes = np.concatenate([gt_boxes(coco_sample, IMAGE_40083)] * 3)[:5]  # 5 = 4 + 1 (padded)
    compiled = init_model(CONFIG, str(checkpoint), cfg_options=coco_sample['cfg_options'])
    eager = init_model(CONFIG, str(checkpoint), cfg_options=coco_sample['cfg_options'], jit=False)
    assert getattr(compiled.construct, '__wrapped_by_jit__', False)  # mindspore.jit's mark
    assert not getattr(eager.construct, '__wrapped_by_jit__', False)
    for batch_size in (4, 3):  # chunks 4+1 and 3+2 (padded to 3+2)
        ours = inference_topdown(compiled, image, boxes, batch_size=batch_size)
        reference = inference_topdown(eager, image, boxes, batch_size=16)
        for a, b in zip(ours, reference):  # tolerance: float32 kernel order (compiled vs eager)
            np.testing.assert_allclose(a['keypoints'], b['keypoints'], atol=1e-3)
            np.testing.assert_allclose(a['keypoint_scores'], b['keypoint_scores'], rtol=1e-4,
                                       atol=1e-6)


def test_gt_boxes_give_keypoints_inside_their_crops(model, coco_sample):
    image = str(coco_sample['img_dir'] / IMAGE_40083)
    boxes = gt_boxes(coco_sample, IMAGE_40083)
    assert len(boxes) >= 2
    scores = np.linspace(0.5, 0.9, len(boxes))
    persons = inference_topdown(model, image, boxes, scores)
    assert len(persons) == len(boxes)
    for person, box, score in zip(persons, boxes, scores):
        assert person['keypoints'].shape == (17, 2) and person['keypoints'].dtype == np.float32
        assert person['keypoint_scores'].shape == (17,)
        np.testing.assert_array_equal(person['bbox'], box)
        assert person['bbox_score'] == pytest.approx(score)
        x0, y0, x1, y1 = padded_box_limits(box)
        kx, ky = person['keypoints'][:, 0], person['keypoints'][:, 1]
        assert (kx >= x0 - 1).all() and (kx <= x1 + 1).all(), (box, kx)
        assert (ky >= y0 - 1).all() and (ky <= y1 + 1).all(), (box, ky)


def test_no_boxes_means_the_whole_image(model, coco_sample):
    path = coco_sample['img_dir'] / IMAGE_785
    img = cv2.imread(str(path))
    from_array = inference_topdown(model, img)
    from_path = inference_topdown(model, str(path))
    assert len(from_array) == 1
    np.testing.assert_array_equal(from_array[0]['bbox'], [0, 0, img.shape[1], img.shape[0]])
    np.testing.assert_array_equal(from_array[0]['keypoints'], from_path[0]['keypoints'])
    assert inference_topdown(model, img, np.zeros((0, 4))) == []


def test_translation_moves_keypoints_by_the_same_offset(model, coco_sample):
    """Padding the image on the left/top and moving the boxes with it leaves the crops unchanged,
    so keypoints move by exactly the padding (any mix-up of x/y, w/h or boxes shows here)."""
    img = cv2.imread(str(coco_sample['img_dir'] / IMAGE_40083))
    boxes = gt_boxes(coco_sample, IMAGE_40083)[:2]
    dx, dy = 40, 24
    padded = cv2.copyMakeBorder(img, dy, 0, dx, 0, cv2.BORDER_CONSTANT, value=0)
    plain = inference_topdown(model, img, boxes)
    moved = inference_topdown(model, padded, boxes + np.array([dx, dy, 0, 0], np.float32))
    for a, b in zip(plain, moved):
        np.testing.assert_allclose(b['keypoints'] - a['keypoints'], np.tile([dx, dy], (17, 1)),
                                   atol=0.05)
        np.testing.assert_allclose(b['keypoint_scores'], a['keypoint_scores'], rtol=1e-3,
                                   atol=1e-9)


def _restated_heatmaps(model, img: np.ndarray, box: np.ndarray, flip: bool) -> np.ndarray:
    """Crop + normalise + network (+ flip test) re-stated from the reference doc: affine mapping
    the padded box to the 192x256 crop, mirrored input, width reversed, channels swapped,
    one-pixel right shift (column 0 kept), average."""
    x0, y0, x1, y1 = padded_box_limits(box)
    src = np.float32([[x0, y0], [x1, y0], [x0, y1]])
    dst = np.float32([[0, 0], [192, 0], [0, 256]])
    crop = cv2.warpAffine(img, cv2.getAffineTransform(src, dst), (192, 256),
                          flags=cv2.INTER_LINEAR)
    x = model.preprocess(crop[None])
    heatmaps = model(mindspore.Tensor(x)).asnumpy()
    if not flip:
        return heatmaps
    mirrored = model(mindspore.Tensor(np.ascontiguousarray(x[..., ::-1]))).asnumpy()
    back = mirrored[:, COCO_FLIP_INDICES, :, ::-1]
    back = np.concatenate([back[..., :1], back[..., :-1]], axis=-1)
    return (heatmaps + back) / 2


@pytest.mark.parametrize('flip_test', [True, False])
def test_keypoint_scores_match_restated_pipeline(model, coco_sample, flip_test):
    img = cv2.imread(str(coco_sample['img_dir'] / IMAGE_785))
    box = gt_boxes(coco_sample, IMAGE_785)[0]
    saved = dict(model.test_cfg)
    model.test_cfg = dict(saved, flip_test=flip_test)
    try:
        person = inference_topdown(model, img, box[None])[0]
    finally:
        model.test_cfg = saved
    heatmaps = _restated_heatmaps(model, img, box, flip_test)
    # The project's affine uses the official three-point construction; the crops agree up to
    # float rounding (measured: maxima within 6e-7 relative), so 1e-4 relative.
    np.testing.assert_allclose(person['keypoint_scores'], heatmaps.reshape(17, -1).max(axis=1),
                               rtol=1e-4)
    if flip_test:
        plain = _restated_heatmaps(model, img, box, False).reshape(17, -1).max(axis=1)
        assert np.abs(plain - person['keypoint_scores']).max() > 1e-3 * plain.max()


def test_inference_agrees_with_the_evaluation_data_path(model, coco_sample):
    """The API's crops and decoding equal those of the dataset pipeline used by tools/eval.py."""
    ds_cfg = model.cfg.val_dataloader.dataset.to_dict()
    ds_cfg['bbox_file'] = None  # ground-truth boxes (clipped like the reference)
    dataset = DATASETS.build(ds_cfg)
    picks = [i for i, d in enumerate(dataset.data_list) if d['img_id'] == 40083][:3]
    samples = [dataset[i] for i in picks]
    batch = {k: np.stack([s[k] for s in samples]) for k in samples[0]}
    expected = model.predict(batch)
    boxes = np.concatenate([dataset.data_list[i]['bbox'] for i in picks])
    persons = inference_topdown(model, str(coco_sample['img_dir'] / IMAGE_40083), boxes)
    np.testing.assert_allclose(np.stack([p['keypoints'] for p in persons]),
                               expected['keypoints'], atol=1e-3)
    np.testing.assert_allclose(np.stack([p['keypoint_scores'] for p in persons]),
                               expected['keypoint_scores'], rtol=1e-4, atol=1e-9)
