"""Geometry against scalar re-statements of the official SimpleBaseline formulas
(docs/simplebaseline-reference.md "Boxes, affine transform" and "Decoding")."""
import math

import cv2
import numpy as np
import pytest

from benchmarks import official_pipeline as official
from sbplugins.utils.geometry.affine import affine_points, crop_to_image, get_affine_transform
from sbplugins.utils.geometry.boxes import (bbox_xywh_to_center_scale, clip_bbox_xywh,
                                            fix_aspect_ratio)
from sbplugins.utils.geometry.flip import flip_heatmaps, flip_indices_from_pairs, flip_keypoints

COCO_FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]


# --- independent scalar re-statements -----------------------------------------------------------
def ref_box2cs(x, y, w, h, aspect_ratio):
    """Official ``_box2cs`` (benchmarks/official_pipeline.py): center, scale (x1.25) in 200 px."""
    return official.box_to_center_scale((x, y, w, h), aspect_ratio)


ref_affine = official.get_affine_transform  # (center, scale, rot, (w, h), inv=False) -> (2, 3)


# --- tests ----------------------------------------------------------------------------------------
@pytest.mark.parametrize('box', [(280.79, 44.73, 218.7, 346.68), (10., 20., 300., 50.),
                                 (0., 0., 75., 100.), (5.5, 7.25, 1., 1.)])
def test_center_scale_matches_official_bit_exact(box):
    center, scale = bbox_xywh_to_center_scale(np.array([box]), 192 / 256)
    ref_c, ref_s = ref_box2cs(*box, 192 / 256)
    assert center.dtype == np.float32 and scale.dtype == np.float32
    np.testing.assert_array_equal(center[0], ref_c)
    np.testing.assert_array_equal(scale[0], ref_s)
    assert scale[0, 0] / scale[0, 1] == pytest.approx(0.75, rel=1e-6)


def test_center_scale_without_aspect_keeps_box_shape():
    center, scale = bbox_xywh_to_center_scale(np.array([10., 20., 100., 50.]), None, padding=1.0)
    np.testing.assert_allclose(center, [60., 45.])
    np.testing.assert_allclose(scale, [0.5, 0.25])


def test_fix_aspect_ratio_grows_and_is_idempotent():
    fixed = fix_aspect_ratio(np.array([[1.0, 1.0], [0.3, 1.0]]), 0.75)
    np.testing.assert_allclose(fixed, [[1.0, 1.0 / 0.75], [0.75, 1.0]], rtol=1e-6)
    _, official = bbox_xywh_to_center_scale(np.array([[3., 4., 123.4, 321.7]]), 0.75)
    np.testing.assert_array_equal(fix_aspect_ratio(official, 0.75), official)


def test_clip_bbox_official_rule():
    np.testing.assert_allclose(clip_bbox_xywh([-5, -3, 20, 10], 100, 50), [0, 0, 19, 9])
    np.testing.assert_allclose(clip_bbox_xywh([90, 40, 30, 30], 100, 50), [90, 40, 9, 9])
    # a 1-pixel wide box collapses to width 0 but is kept (x2 >= x1)
    np.testing.assert_allclose(clip_bbox_xywh([3, 4, 1, 1], 100, 50), [3, 4, 0, 0])
    assert clip_bbox_xywh([120, 10, 10, 10], 100, 50) is None  # fully right of the image
    assert clip_bbox_xywh([3, 4, 10, 10], 100, 50, area=0) is None  # the annotation area rule
    assert clip_bbox_xywh([3, 4, 10, 10], 100, 50, area=12.5) is not None


@pytest.mark.parametrize('rot', [0.0, 30.0, -75.5])
@pytest.mark.parametrize('inv', [False, True])
def test_affine_matches_official_bit_exact(rot, inv):
    center, scale = ref_box2cs(280.79, 44.73, 218.7, 346.68, 0.75)
    mat = get_affine_transform(center, scale, rot, (192, 256), inv=inv)
    np.testing.assert_array_equal(mat, ref_affine(center, scale, rot, (192, 256), inv=inv))


def test_affine_maps_center_to_crop_center_and_width_to_width():
    center, scale = np.array([300., 200.]), np.array([1.5, 2.0])
    mat = get_affine_transform(center, scale, 0.0, (192, 256))
    np.testing.assert_allclose(affine_points(center, mat), [96, 128], atol=1e-4)
    # the box width (1.5 * 200 px) spans the crop width (192 px)
    edges = affine_points(np.array([[150., 200.], [450., 200.]]), mat)
    np.testing.assert_allclose(edges[:, 0], [0, 192], atol=1e-4)
    inv = get_affine_transform(center, scale, 0.0, (192, 256), inv=True)
    pts = np.random.default_rng(0).uniform(0, 600, (5, 2))
    np.testing.assert_allclose(affine_points(affine_points(pts, mat), inv), pts, atol=1e-3)


def test_affine_points_shapes_and_dtype():
    mat = np.array([[2., 0., 1.], [0., 3., -1.]])
    out = affine_points(np.ones((2, 3, 2), np.float32), mat)
    assert out.shape == (2, 3, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], [3., 2.])


def test_crop_to_image_equals_official_inverse_affine():
    """Reference: transform_preds = inverse affine at rotation 0 (formula from the doc)."""
    rng = np.random.default_rng(1)
    center = rng.uniform(50, 500, (3, 2)).astype(np.float32)
    scale = rng.uniform(0.3, 3, (3, 2)).astype(np.float32)
    pts = rng.uniform(0, 192, (3, 17, 2)).astype(np.float32)
    out = crop_to_image(pts, center, scale, (192, 256))
    for n in range(3):
        inv = ref_affine(center[n], scale[n], 0, (192, 256), inv=True)
        ref = pts[n].astype(np.float64) @ inv[:, :2].T + inv[:, 2]
        np.testing.assert_allclose(out[n], ref, rtol=1e-5, atol=1e-3)


def test_flip_indices_and_keypoints():
    idx = flip_indices_from_pairs(17, COCO_FLIP_PAIRS)
    assert idx[:5] == [0, 2, 1, 4, 3] and idx[16] == 15
    with pytest.raises(ValueError, match='out of range'):
        flip_indices_from_pairs(5, [(1, 7)])
    kp = np.arange(17 * 2, dtype=np.float32).reshape(1, 17, 2)
    vis = (np.arange(17) % 2).astype(np.float32)[None]
    fkp, fvis = flip_keypoints(kp, vis, 100, idx)
    assert fkp[0, 1, 0] == 100 - 1 - kp[0, 2, 0] and fkp[0, 1, 1] == kp[0, 2, 1]
    assert fvis[0, 1] == vis[0, 2] and fvis[0, 0] == vis[0, 0]
    with pytest.raises(ValueError, match='permutation'):
        flip_keypoints(kp, vis, 100, [0] * 17)


def test_flip_heatmaps_matches_official_flip_back_and_shift():
    rng = np.random.default_rng(2)
    hm = rng.random((2, 17, 8, 6)).astype(np.float32)
    ref = hm[:, :, :, ::-1].copy()
    for a, b in COCO_FLIP_PAIRS:
        ref[:, [a, b]] = ref[:, [b, a]]
    shifted = ref.copy()
    shifted[:, :, :, 1:] = ref[:, :, :, 0:-1]
    idx = flip_indices_from_pairs(17, COCO_FLIP_PAIRS)
    np.testing.assert_array_equal(flip_heatmaps(hm, idx), shifted)
    np.testing.assert_array_equal(flip_heatmaps(hm, idx, shift=False), ref)
    assert math.isclose(flip_heatmaps(hm, idx)[0, 0, 0, 0], ref[0, 0, 0, 0])  # column 0 kept
