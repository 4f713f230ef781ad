"""Property tests: random boxes, rotations, scales and keypoints never crash, and the geometry's
round trips hold within stated tolerances."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sbplugins.codecs.msra_heatmap import MSRAHeatmap
from sbplugins.transforms.common import RandomFlip
from sbplugins.transforms.topdown_affine import TopdownAffine
from sbplugins.utils.geometry.affine import affine_points, crop_to_image, get_affine_transform
from sbplugins.utils.geometry.boxes import bbox_xywh_to_center_scale
from sbplugins.utils.geometry.flip import flip_heatmaps, flip_indices_from_pairs, flip_keypoints

SETTINGS = settings(max_examples=60, deadline=None)
FLIP_INDICES = flip_indices_from_pairs(17, [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12),
                                            (13, 14), (15, 16)])
coords = st.floats(-500, 1500, allow_nan=False, width=32)
keypoint_arrays = arrays(np.float32, (1, 17, 2), elements=coords)
visibility = arrays(np.float32, (1, 17), elements=st.sampled_from([0.0, 1.0]))
boxes = st.tuples(st.floats(-100, 600), st.floats(-100, 600), st.floats(1, 800),
                  st.floats(1, 800))
IMAGE = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)


@SETTINGS
@given(box=boxes, rot=st.floats(-180, 180), factor=st.floats(0.3, 3.0), kp=keypoint_arrays,
       vis=visibility)
def test_crop_never_crashes_and_keypoints_map_back(box, rot, factor, kp, vis):
    center, scale = bbox_xywh_to_center_scale(np.array([box]), 0.75)
    res = TopdownAffine((192, 256))(dict(img=IMAGE, bbox_center=center, bbox_scale=scale * factor,
                                         bbox_rotation=np.array([rot]), keypoints=kp,
                                         keypoints_visible=vis))
    assert res['img'].shape == (256, 192, 3)
    inv = get_affine_transform(center[0], scale[0] * factor, rot, (192, 256), inv=True)
    back = affine_points(res['keypoints'].astype(np.float64), inv)
    # float32 crop coordinates: error ~ 1e-7 x |crop coordinate| x zoom, plus float32 matrices.
    # The affine is built from float32 points like the official code: the centre's rounding
    # (eps32 x |centre|) relative to half the box width scales the whole matrix, so a point
    # |crop - half| / (w / 2) box widths away moves by that much more (a 1-px box at y = 256
    # with joints 23,000 crop pixels out: 0.0035 px, found by this test).
    zoom = 200 * float(scale[0, 0] * factor) / 192
    eps32 = float(np.finfo(np.float32).eps)
    box_widths_away = np.abs(res['keypoints'] - np.array([96.0, 128.0])).max() / 96.0
    tol = (1e-3 + 4e-6 * (np.abs(res['keypoints']).max() * zoom + np.abs(kp).max())
           + 2 * eps32 * np.abs(center).max() * box_widths_away)
    np.testing.assert_allclose(back, kp, atol=tol)
    if rot == 0:
        np.testing.assert_allclose(
            crop_to_image(res['keypoints'], center, scale * factor, (192, 256)), kp, atol=tol)


@SETTINGS
@given(box=st.lists(boxes, min_size=1, max_size=5), aspect=st.floats(0.2, 5.0))
def test_center_scale_fixes_aspect_and_only_grows(box, aspect):
    box = np.array(box)
    center, scale = bbox_xywh_to_center_scale(box, aspect, padding=1.25)
    np.testing.assert_allclose(scale[:, 0] / scale[:, 1], aspect, rtol=1e-5)
    assert np.all(scale * 200 >= box[:, 2:] * 1.25 * (1 - 1e-6))
    np.testing.assert_allclose(center, box[:, :2] + box[:, 2:] / 2, rtol=1e-6, atol=1e-3)


@SETTINGS
@given(kp=keypoint_arrays, vis=visibility, width=st.integers(1, 2000))
def test_flipping_keypoints_twice_is_identity(kp, vis, width):
    once = flip_keypoints(kp, vis, width, FLIP_INDICES)
    twice = flip_keypoints(*once, width, FLIP_INDICES)
    np.testing.assert_allclose(twice[0], kp, atol=1e-3)
    np.testing.assert_array_equal(twice[1], vis)


@SETTINGS
@given(hm=arrays(np.float32, (2, 17, 4, 5), elements=st.floats(-1, 1, width=32)))
def test_flipping_heatmaps_twice_is_identity_without_shift(hm):
    np.testing.assert_array_equal(
        flip_heatmaps(flip_heatmaps(hm, FLIP_INDICES, shift=False), FLIP_INDICES, shift=False), hm)
    # with the shift, the last column is lost once per flip; the rest moves right by one
    shifted = flip_heatmaps(flip_heatmaps(hm, FLIP_INDICES, shift=False), FLIP_INDICES)
    np.testing.assert_array_equal(shifted[..., 1:], hm[..., :-1])


@SETTINGS
@given(kp=keypoint_arrays, vis=visibility)
def test_random_flip_twice_is_identity(kp, vis):
    res = dict(img=IMAGE, bbox_center=np.array([[10., 20.]], np.float32), keypoints=kp,
               keypoints_visible=vis, flip_indices=FLIP_INDICES, rng=np.random.default_rng(0))
    flip = RandomFlip(prob=1.0)
    out = flip(flip(dict(res)))
    np.testing.assert_array_equal(out['img'], IMAGE)
    np.testing.assert_allclose(out['keypoints'], kp, atol=1e-3)
    np.testing.assert_array_equal(out['bbox_center'], res['bbox_center'])


@SETTINGS
@given(kp=arrays(np.float64, (1, 17, 2), elements=st.floats(-1e4, 1e4)), vis=visibility,
       sigma=st.sampled_from([1.0, 2.0, 2.5, 3.0]))
def test_encode_never_crashes_and_weights_are_visibility_or_zero(kp, vis, sigma):
    out = MSRAHeatmap(sigma=sigma).encode(kp, vis)
    assert out['heatmaps'].shape == (17, 64, 48)
    assert np.all((out['heatmaps'] >= 0) & (out['heatmaps'] <= 1))
    assert np.all(out['keypoint_weights'] <= vis)
    assert np.all(out['heatmaps'][out['keypoint_weights'][0] == 0] == 0)


@SETTINGS
@given(x=st.floats(0, 189.9), y=st.floats(0, 253.9), mode=st.sampled_from(['official', 'mmpose']))
def test_encode_decode_round_trip_within_quantisation(x, y, mode):
    """mu = int(x / 4 + 0.5) is within half a heatmap pixel (2 px), the refinement moves at most
    a quarter pixel (1 px): |decoded - x| <= 3 input pixels per axis."""
    codec = MSRAHeatmap(refine=mode)
    kp = np.array([[[x, y]]])
    decoded, score = codec.decode(codec.encode(kp)['heatmaps'])
    assert score[0, 0] == 1.0
    assert np.abs(decoded - kp).max() <= 3.0 + 1e-5
