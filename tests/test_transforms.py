"""Transforms on the real COCO sample, against a re-statement of the official train sample."""
import json

import cv2
import numpy as np
import pytest

from sbcore.data import Compose
from sbplugins.codecs.msra_heatmap import MSRAHeatmap
from sbplugins.transforms.common import (GenerateTarget, GetBBoxCenterScale, RandomBBoxTransform,
                                         RandomFlip, RandomHalfBody)
from sbplugins.transforms.formatting import PackPoseInputs
from sbplugins.transforms.loading import ImageFileError, LoadImage, jpeg_is_complete
from sbplugins.transforms.topdown_affine import TopdownAffine
from sbplugins.utils.geometry.affine import affine_points, crop_to_image
from sbplugins.utils.geometry.boxes import clip_bbox_xywh
from sbplugins.utils.geometry.flip import flip_indices_from_pairs
from test_codec import ref_generate_target
from test_geometry import COCO_FLIP_PAIRS, ref_affine, ref_box2cs

FLIP_INDICES = flip_indices_from_pairs(17, COCO_FLIP_PAIRS)
CODEC_CFG = dict(type='MSRAHeatmap', input_size=(192, 256), heatmap_size=(48, 64), sigma=2.0)
TRAIN_PIPELINE = [
    dict(type='LoadImage'),
    # aspect fixed here, in the official order: bit-identical crops (see the last test below)
    dict(type='GetBBoxCenterScale', aspect_ratio=192 / 256),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomBBoxTransform'),
    dict(type='TopdownAffine', input_size=(192, 256)),
    dict(type='GenerateTarget', encoder=CODEC_CFG),
    dict(type='PackPoseInputs'),
]
TEST_PIPELINE = [TRAIN_PIPELINE[0], TRAIN_PIPELINE[1], TRAIN_PIPELINE[4], TRAIN_PIPELINE[6]]


def coco_samples(coco_sample):
    """Top-down samples built by hand from the real annotation file (official selection rules)."""
    data = json.loads(coco_sample['ann_file'].read_text())
    images = {im['id']: im for im in data['images']}
    samples = []
    for ann in data['annotations']:
        image = images[ann['image_id']]
        bbox = clip_bbox_xywh(ann['bbox'], image['width'], image['height'], ann['area'])
        if ann['iscrowd'] or bbox is None or ann['num_keypoints'] == 0:
            continue
        kps = np.array(ann['keypoints'], np.float32).reshape(17, 3)
        samples.append(dict(
            img_path=str(coco_sample['img_dir'] / image['file_name']), img_id=ann['image_id'],
            id=ann['id'], category_id=1, bbox=bbox[None].astype(np.float32),
            bbox_score=np.ones(1, np.float32), keypoints=kps[None, :, :2],
            keypoints_visible=np.minimum(kps[None, :, 2], 1), flip_indices=FLIP_INDICES))
    assert len(samples) >= 5
    return samples


def official_train_sample(sample, rng):
    """The official COCO __getitem__, restated, drawing the same numbers in our pipeline's order
    (flip first, as RandomFlip runs before RandomBBoxTransform)."""
    img = cv2.imread(sample['img_path'], cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    joints = sample['keypoints'][0].astype(np.float64)
    vis = sample['keypoints_visible'][0].copy()
    c, s = ref_box2cs(*sample['bbox'][0].astype(np.float64), 192 / 256)
    flip = rng.random() <= 0.5
    s = s * np.clip(rng.standard_normal() * 0.3 + 1, 0.7, 1.3)
    r = np.clip(rng.standard_normal() * 40, -80, 80) if rng.random() <= 0.6 else 0
    if flip:
        img = img[:, ::-1, :]
        joints[:, 0] = img.shape[1] - joints[:, 0] - 1
        for a, b in COCO_FLIP_PAIRS:
            joints[[a, b]] = joints[[b, a]]
            vis[[a, b]] = vis[[b, a]]
        c[0] = img.shape[1] - c[0] - 1
    trans = ref_affine(c, s, r, (192, 256))
    crop = cv2.warpAffine(np.ascontiguousarray(img), trans, (192, 256), flags=cv2.INTER_LINEAR)
    for j in range(17):
        if vis[j] > 0:
            joints[j] = trans @ np.array([joints[j, 0], joints[j, 1], 1.0])
    target, weight = ref_generate_target(joints, vis, 2.0)
    return crop, target, weight, joints, vis


def test_train_pipeline_matches_official_sample(coco_sample):
    """The restated official sample uses float32 box math in the same order as ours, so crops are
    bit-identical; rotation via float32 scales may move heatmap values by float32 rounding."""
    pipeline = Compose(TRAIN_PIPELINE)
    flips = 0
    for i, sample in enumerate(coco_samples(coco_sample)):
        for seed in range(3):
            out = pipeline(dict(sample, rng=np.random.default_rng((i, seed))))
            crop, target, weight, joints, vis = official_train_sample(
                sample, np.random.default_rng((i, seed)))
            flips += out['bbox_center'][0] != sample['bbox'][0, 0] + sample['bbox'][0, 2] / 2
            assert out['img'].shape == (256, 192, 3) and out['img'].dtype == np.uint8
            np.testing.assert_array_equal(out['img'], crop)
            np.testing.assert_array_equal(out['keypoint_weights'], weight)
            np.testing.assert_allclose(out['heatmaps'], target, atol=1e-5)
            # GT kept in image space, unflipped
            np.testing.assert_array_equal(out['keypoints'], sample['keypoints'][0])
    assert flips > 0


def test_aspect_fixed_late_is_float_rounding_away_from_official(coco_sample):
    """GetBBoxCenterScale() without aspect_ratio leaves the fix to TopdownAffine: same box up to
    float32 rounding, so scales agree to 1e-6 and crops to a few grey levels at a few pixels."""
    late = Compose([dict(t, aspect_ratio=None) if t['type'] == 'GetBBoxCenterScale' else t
                    for t in TRAIN_PIPELINE])
    early = Compose(TRAIN_PIPELINE)
    for i, sample in enumerate(coco_samples(coco_sample)[:4]):
        a = late(dict(sample, rng=np.random.default_rng(i)))
        b = early(dict(sample, rng=np.random.default_rng(i)))
        np.testing.assert_allclose(a['bbox_scale'], b['bbox_scale'], rtol=1e-6)
        diff = np.abs(a['img'].astype(int) - b['img'].astype(int))
        assert diff.max() <= 8 and (diff > 0).mean() < 0.01
        np.testing.assert_allclose(a['heatmaps'], b['heatmaps'], atol=1e-4)


def test_test_pipeline_crop_and_inverse(coco_sample):
    """Without augmentation, visible keypoints mapped into the crop map back to the image with
    crop_to_image, and the heatmap peaks sit at the encoded joints."""
    samples = coco_samples(coco_sample)
    load_box = Compose(TEST_PIPELINE[:2])
    affine = TopdownAffine((192, 256))
    codec = MSRAHeatmap()
    for sample in samples:
        res = affine(load_box(dict(sample)))
        assert res['img'].shape == (256, 192, 3)
        vis = sample['keypoints_visible'][0] > 0
        crop_kp = res['keypoints'][0]
        back = crop_to_image(crop_kp[None], res['bbox_center'], res['bbox_scale'], (192, 256))[0]
        np.testing.assert_allclose(back[vis], sample['keypoints'][0][vis], atol=2e-3)
        enc = codec.encode(res['keypoints'], res['keypoints_visible'])
        for k in np.flatnonzero(enc['keypoint_weights'][0] > 0):
            mu = np.trunc(crop_kp[k] / 4 + 0.5).astype(int)
            if 0 <= mu[0] < 48 and 0 <= mu[1] < 64:
                peak = np.unravel_index(enc['heatmaps'][k].argmax(), (64, 48))
                assert (peak[1], peak[0]) == tuple(mu)


def test_crop_pixels_come_from_the_inverse_mapped_image_position(coco_sample):
    sample = coco_samples(coco_sample)[0]
    res = LoadImage()(dict(sample))
    img = res['img'].copy()
    res = TopdownAffine((192, 256))(RandomBBoxTransform()(GetBBoxCenterScale()(
        dict(res, rng=np.random.default_rng(7)))))
    inv = cv2.invertAffineTransform(res['affine_matrix'])
    us, vs = np.meshgrid(np.arange(0, 192, 17), np.arange(0, 256, 23))
    src = affine_points(np.stack([us, vs], -1).astype(np.float64), inv)
    inside = (src[..., 0] > 1) & (src[..., 0] < img.shape[1] - 2) & \
             (src[..., 1] > 1) & (src[..., 1] < img.shape[0] - 2)
    x0 = np.clip(np.floor(src[..., 0]), 0, img.shape[1] - 2).astype(int)
    y0 = np.clip(np.floor(src[..., 1]), 0, img.shape[0] - 2).astype(int)
    fx, fy = (src[..., 0] - x0)[..., None], (src[..., 1] - y0)[..., None]
    f = img.astype(np.float64)
    bilinear = (f[y0, x0] * (1 - fx) * (1 - fy) + f[y0, x0 + 1] * fx * (1 - fy)
                + f[y0 + 1, x0] * (1 - fx) * fy + f[y0 + 1, x0 + 1] * fx * fy)
    got = res['img'][vs, us].astype(np.float64)
    # cv2 quantises the bilinear weights to 1/32: allow a couple of grey levels
    assert inside.sum() > 50
    assert np.abs(got[inside] - bilinear[inside]).max() <= 3
    assert np.all(got[~inside & ((src[..., 0] < -1) | (src[..., 1] < -1))] == 0)  # zero border


def test_pack_pose_inputs_shapes_and_keys(coco_sample):
    sample = coco_samples(coco_sample)[0]
    out = Compose(TRAIN_PIPELINE)(dict(sample, rng=np.random.default_rng(0)))
    expected = {'img': ((256, 192, 3), np.uint8), 'heatmaps': ((17, 64, 48), np.float32),
                'keypoint_weights': ((17,), np.float32), 'bbox_center': ((2,), np.float32),
                'bbox_scale': ((2,), np.float32), 'bbox_score': ((), np.float32),
                'img_id': ((), np.int64), 'id': ((), np.int64), 'keypoints': ((17, 2), np.float32),
                'keypoints_visible': ((17,), np.float32)}
    assert set(out) == set(expected)
    for key, (shape, dtype) in expected.items():
        assert out[key].shape == shape and out[key].dtype == dtype, key
    assert out['id'] == sample['id'] and out['img_id'] == sample['img_id']
    # test time: no targets, no annotation id -> heatmaps left out, id = -1
    test = Compose(TEST_PIPELINE)({k: v for k, v in sample.items() if k != 'id'})
    assert 'heatmaps' not in test and test['id'] == -1
    extra = PackPoseInputs(keys=('img', 'bbox_rotation'))(dict(test, bbox_rotation=np.zeros(1)))
    assert set(extra) == {'img', 'bbox_rotation'}
    with pytest.raises(TypeError, match='img_path'):
        PackPoseInputs(keys=('img_path',))(dict(img_path='a.jpg'))
    with pytest.raises(ValueError, match='rng'):
        PackPoseInputs(keys=('img', 'rng'))


def test_load_image_errors_and_skip(tmp_path, coco_sample):
    with pytest.raises(FileNotFoundError, match='nothere.jpg'):
        LoadImage()(dict(img_path=str(tmp_path / 'nothere.jpg')))
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'not an image')
    with pytest.raises(OSError, match='bad.jpg'):
        LoadImage()(dict(img_path=str(bad)))
    img = np.zeros((5, 7, 3), np.uint8)
    assert LoadImage()(dict(img=img, img_path='unused'))['img'] is img
    path = str(next(coco_sample['img_dir'].glob('*.jpg')))
    bgr = LoadImage()(dict(img_path=path))
    rgb = LoadImage(to_rgb=True)(dict(img_path=path))
    np.testing.assert_array_equal(bgr['img'][..., ::-1], rgb['img'])
    assert bgr['img_shape'] == bgr['img'].shape[:2]


def test_load_image_refuses_empty_truncated_and_undecodable_files(tmp_path, coco_sample,
                                                                   mpii_sample,
                                                                   truncated_coco_image):
    """OpenCV alone decodes a JPEG cut in half to a full-size image, its lower half grey;
    LoadImage refuses it by name, like an empty file, a truncated PNG and a text file."""
    cut = truncated_coco_image['path']
    with pytest.raises(ImageFileError, match=f'image file {cut} is truncated '
                                             fr'\({cut.stat().st_size} bytes\)'):
        LoadImage()(dict(img_path=str(cut)))
    full = cv2.imread(str(coco_sample['img_dir'] / cut.name))
    grey = cv2.imread(str(cut))  # what reading it without the check gives
    assert grey.shape == full.shape and (grey[-50:] == 128).all()
    ok, png = cv2.imencode('.png', full)
    cases = {'empty.jpg': (b'', 'image file {} is empty (0 bytes); expected an image'),
             'text.jpg': (b'not an image\n' * 10, 'could not decode the image file {} (130 '
                                                  'bytes); expected an image (JPEG, PNG, ...)'),
             'cut.png': (png.tobytes()[:png.size // 2], 'could not decode the image file {} (')}
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ImageFileError) as info:
            LoadImage()(dict(img_path=str(tmp_path / name)))
        assert message.format(tmp_path / name) in str(info.value)
    # complete files pass: every real sample image, bytes after the end-of-image marker (ignored
    # by libjpeg), progressive and restart-interval encodings; any cut of those is refused
    images = sorted(coco_sample['img_dir'].iterdir()) + sorted(mpii_sample['img_dir'].iterdir())
    encoded = [cv2.imencode('.jpg', full, flags)[1].tobytes() for flags in
               ([cv2.IMWRITE_JPEG_PROGRESSIVE, 1], [cv2.IMWRITE_JPEG_RST_INTERVAL, 4])]
    for data in [image.read_bytes() for image in images] + encoded:
        assert jpeg_is_complete(data) and jpeg_is_complete(data + b'\0\0padding\xff\xda')
        for size in [2, 3, 100, len(data) - 2, len(data) - 1] + list(range(500, len(data), 4999)):
            assert not jpeg_is_complete(data[:size]), size
    padded = tmp_path / 'padded.jpg'
    padded.write_bytes((coco_sample['img_dir'] / cut.name).read_bytes() + b'\0' * 64)
    np.testing.assert_array_equal(LoadImage()(dict(img_path=str(padded)))['img'], full)


def test_random_flip_always_and_never(coco_sample):
    sample = LoadImage()(coco_samples(coco_sample)[0])
    res = GetBBoxCenterScale()(dict(sample))
    width = res['img'].shape[1]
    flipped = RandomFlip(prob=1.0)(dict(res, rng=np.random.default_rng(0)))
    np.testing.assert_array_equal(flipped['img'], res['img'][:, ::-1])
    assert flipped['bbox_center'][0, 0] == width - 1 - res['bbox_center'][0, 0]
    np.testing.assert_allclose(flipped['keypoints'][0, 1, 0], width - 1 - res['keypoints'][0, 2, 0])
    np.testing.assert_array_equal(flipped['gt_keypoints'], res['gt_keypoints'])
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert not RandomFlip(prob=0.0)(dict(res, rng=rng))['flip']
    assert rng.bit_generator.state == state  # prob 0 draws nothing


def test_random_bbox_transform_official_distribution_and_order():
    res = dict(bbox_center=np.array([[100., 100.]], np.float32),
               bbox_scale=np.array([[1.0, 4 / 3]], np.float32))
    t = RandomBBoxTransform()
    scales, rots = [], []
    for seed in range(2000):
        out = t(dict(res, rng=np.random.default_rng(seed)))
        ref = np.random.default_rng(seed)
        f = np.clip(ref.standard_normal() * 0.3 + 1, 0.7, 1.3)
        r = np.clip(ref.standard_normal() * 40, -80, 80) if ref.random() <= 0.6 else 0
        if seed < 50:  # the exact official draw order
            assert out['bbox_scale'][0, 0] == pytest.approx(f, rel=1e-6)
            assert out['bbox_rotation'][0] == pytest.approx(r, abs=1e-4)
        scales.append(out['bbox_scale'][0, 0])
        rots.append(out['bbox_rotation'][0])
    scales, rots = np.array(scales), np.array(rots)
    assert scales.min() >= 0.7 - 1e-6 and scales.max() <= 1.3 + 1e-6
    assert np.abs(rots).max() <= 80 and 0.55 < np.mean(rots != 0) < 0.65
    assert np.all(out['bbox_center'] == res['bbox_center'])  # no shift by default
    shifted = RandomBBoxTransform(shift_factor=0.16, shift_prob=1.0)(
        dict(res, rng=np.random.default_rng(1)))
    assert np.any(shifted['bbox_center'] != res['bbox_center'])
    assert np.all(np.abs(shifted['bbox_center'] - 100) <= 0.16 * 1.3 * 200 * 4 / 3 + 1e-3)


def test_random_half_body_selects_a_half():
    kp = np.stack([np.arange(17) * 10.0, np.arange(17) * 20.0], -1)[None].astype(np.float32)
    res = dict(keypoints=kp, keypoints_visible=np.ones((1, 17), np.float32),
               bbox_center=np.array([[80., 160.]], np.float32),
               bbox_scale=np.array([[1.5, 2.0]], np.float32), upper_body_ids=list(range(11)))
    seen = set()
    for seed in range(40):
        out = RandomHalfBody(prob=1.0)(dict(res, rng=np.random.default_rng(seed)))
        ids = list(range(11)) if out['bbox_center'][0, 0] < 80 else list(range(11, 17))
        np.testing.assert_allclose(out['bbox_center'][0], kp[0, ids].mean(0), rtol=1e-6)
        h = (kp[0, ids, 1].max() - kp[0, ids, 1].min()) / 200 * 1.5
        np.testing.assert_allclose(out['bbox_scale'][0], [h * 0.75, h], rtol=1e-5)
        seen.add(len(ids))
    assert seen == {11, 6}
    few = dict(res, keypoints_visible=(np.arange(17) < 8).astype(np.float32)[None])
    out = RandomHalfBody(prob=1.0)(dict(few, rng=np.random.default_rng(0)))
    np.testing.assert_array_equal(out['bbox_center'], res['bbox_center'])  # < 9 visible
    with pytest.raises(KeyError, match='upper_body_ids'):
        RandomHalfBody()({k: v for k, v in res.items() if k != 'upper_body_ids'})


def test_generate_target_dataset_weights():
    res = dict(keypoints=np.full((1, 17, 2), 50., np.float32),
               keypoints_visible=np.ones((1, 17), np.float32),
               dataset_keypoint_weights=np.linspace(1, 2, 17))
    out = GenerateTarget(CODEC_CFG, use_dataset_keypoint_weights=True)(dict(res))
    np.testing.assert_allclose(out['keypoint_weights'][0], np.linspace(1, 2, 17), rtol=1e-6)
    assert out['heatmaps'].shape == (17, 64, 48)
    with pytest.raises(KeyError, match='dataset_keypoint_weights'):
        GenerateTarget(CODEC_CFG, use_dataset_keypoint_weights=True)(
            {k: v for k, v in res.items() if k != 'dataset_keypoint_weights'})


def test_get_bbox_center_scale_keeps_given_center_scale_and_stores_gt():
    """MPII-style samples come with an annotated center/scale: kept bit-exact, GT still stored
    (PackPoseInputs packs it as image-space ``keypoints`` for PCKh)."""
    kp = np.random.default_rng(0).uniform(0, 300, (1, 16, 2)).astype(np.float32)
    res = dict(bbox=np.array([[0., 0., 10., 10.]], np.float32), keypoints=kp,
               keypoints_visible=np.ones((1, 16), np.float32),
               bbox_center=np.array([[120.5, 99.25]], np.float32),
               bbox_scale=np.array([[1.7, 1.7]], np.float32))
    out = GetBBoxCenterScale()(dict(res))
    np.testing.assert_array_equal(out['bbox_center'], res['bbox_center'])
    np.testing.assert_array_equal(out['bbox_scale'], res['bbox_scale'])
    np.testing.assert_array_equal(out['gt_keypoints'], kp)
    assert out['gt_keypoints'] is not kp and out['bbox_rotation'].shape == (1,)
