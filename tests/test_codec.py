"""MSRAHeatmap against loop re-statements of the official generate_target / get_final_preds
(docs/simplebaseline-reference.md "Heatmap target" and "Decoding")."""
import math

import numpy as np
import pytest

from benchmarks import official_pipeline as official
from sbplugins.registries import CODECS
from sbplugins.codecs.msra_heatmap import MSRAHeatmap

# The codec's Gaussian is an outer product of two float32 1-D profiles; the official window is
# exp of the float32 2-D sum: they differ by float32 rounding only.
HEATMAP_ATOL = 1e-6


def ref_generate_target(joints, joints_vis, sigma, image_size=(192, 256), heatmap_size=(48, 64)):
    """The official per-joint loop (benchmarks/official_pipeline.py). joints (K, 2), joints_vis
    (K,) -> target (K, h, w), weight (K,)."""
    vis = np.asarray(joints_vis, np.float32).reshape(-1, 1)
    target, weight = official.generate_target(np.asarray(joints), vis, np.array(image_size),
                                              np.array(heatmap_size), sigma)
    return target, weight[:, 0]


def ref_final_preds(heatmaps, mode='official'):
    """The official decoding (benchmarks/official_pipeline.py), or its argmax followed by MMPose's
    refine_keypoints (each axis on its own bounds), in heatmap pixels. heatmaps (N, K, H, W)."""
    if mode == 'official':
        return official.get_final_preds(heatmaps)
    coords, maxvals = official.get_max_preds(heatmaps)
    n, k, h, w = heatmaps.shape
    for i in range(n):
        for j in range(k):
            hm = heatmaps[i, j]
            px, py = int(math.floor(coords[i, j, 0] + 0.5)), int(math.floor(coords[i, j, 1] + 0.5))
            dx = dy = 0.0
            if 1 < px < w - 1 and 0 < py < h:
                dx = hm[py][px + 1] - hm[py][px - 1]
            if 1 < py < h - 1 and 0 < px < w:
                dy = hm[py + 1][px] - hm[py - 1][px]
            coords[i, j] += np.sign([dx, dy]).astype(np.float32) * 0.25
    return coords, maxvals


def _edge_keypoints():
    """Joints around every window/edge case, in input pixels of a 192x256 crop (stride 4)."""
    return np.array([
        [96.0, 128.0], [1.9, 2.1], [-2.1, 5.0],  # int() truncates toward zero for negatives
        [-25.9, 30.0],  # mu_x = -5: br = 2, partially inside
        [-26.1, 30.0], [-28.0, 30.0],  # int(-6.03), int(-6.5): mu_x = -6, br == 1
        [-30.0, 30.0],  # mu_x = int(-7.0) = -7: br == 0, the quirk (weight 1, nothing drawn)
        [-34.1, 30.0],  # mu_x = -8: br = -1 < 0, weight 0
        [191.0, 255.0], [210.0, 100.0], [214.0, 100.0],  # mu_x 53 (ul 47 inside), 54 (ul 48)
        [100.0, 281.9], [100.0, 282.1], [50.0, -50.0], [5.0, 7.0], [6.0, 6.0], [13.9, 250.5],
    ])


@pytest.mark.parametrize('sigma', [2.0, 3.0, 2.5, 1.0])
def test_encode_matches_official_loop(sigma):
    codec = MSRAHeatmap(sigma=sigma)
    kp = _edge_keypoints()
    vis = np.ones(len(kp), np.float32)
    vis[5] = 0  # an invisible joint: weight 0, nothing drawn
    out = codec.encode(kp[None], vis[None])
    ref_hm, ref_w = ref_generate_target(kp, vis, sigma)
    assert out['heatmaps'].shape == (len(kp), 64, 48) and out['heatmaps'].dtype == np.float32
    assert out['keypoint_weights'].shape == (1, len(kp))
    np.testing.assert_array_equal(out['keypoint_weights'][0], ref_w)
    np.testing.assert_allclose(out['heatmaps'], ref_hm, rtol=0, atol=HEATMAP_ATOL)


def test_encode_quirks_explicitly():
    codec = MSRAHeatmap()
    out = codec.encode(np.array([[[-30.0, 30.0], [-34.1, 30.0], [96.0, 128.0]]]))
    np.testing.assert_array_equal(out['keypoint_weights'], [[1, 0, 1]])  # br == 0 keeps weight 1
    assert out['heatmaps'][0].max() == 0 and out['heatmaps'][1].max() == 0
    assert out['heatmaps'][2, 32, 24] == 1.0  # unnormalised: peak exactly 1 at mu
    assert (out['heatmaps'][2] > 0).sum() == 13 * 13  # (6 sigma + 1)^2 window


def test_encode_several_instances_takes_the_maximum():
    codec = MSRAHeatmap()
    kp = np.array([[[40.0, 40.0]], [[52.0, 40.0]]])
    out = codec.encode(kp)
    a = codec.encode(kp[:1])['heatmaps']
    b = codec.encode(kp[1:])['heatmaps']
    np.testing.assert_array_equal(out['heatmaps'], np.maximum(a, b))
    assert out['keypoint_weights'].shape == (2, 1)


def test_encode_rejects_bad_shapes_and_options():
    with pytest.raises(ValueError, match=r'\(N, K, 2\)'):
        MSRAHeatmap().encode(np.zeros((17, 2)))
    with pytest.raises(ValueError, match='keypoints_visible'):
        MSRAHeatmap().encode(np.zeros((1, 17, 2)), np.ones(17))
    with pytest.raises(ValueError, match='refine'):
        MSRAHeatmap(refine='subpixel')


@pytest.mark.parametrize('mode', ['official', 'mmpose'])
def test_batch_decode_matches_official_loop(mode):
    rng = np.random.default_rng(0)
    hm = rng.normal(0, 1, (3, 17, 64, 48)).astype(np.float32)
    # argmax on every border row/column, ties, and non-positive maxima
    hm[0, 0] = -1.0
    hm[0, 1, 0, 5] = 50.0
    hm[0, 2, 63, 47] = 50.0
    hm[0, 3, 1, 20] = 50.0
    hm[0, 4, 30, 1] = 50.0
    hm[0, 5, 62, 46] = 50.0
    hm[0, 6, 0, 0] = 50.0
    hm[1, 0] = 0.0
    hm[1, 1, 10, 10] = hm[1, 1, 20, 20] = 50.0  # first maximum wins
    codec = MSRAHeatmap(refine=mode)
    kp, scores = codec.batch_decode(hm)
    ref_coords, ref_max = ref_final_preds(hm, mode)
    assert kp.shape == (3, 17, 2) and scores.shape == (3, 17) and kp.dtype == np.float32
    np.testing.assert_array_equal(scores, ref_max)
    np.testing.assert_allclose(kp, ref_coords * 4.0, rtol=0, atol=1e-5)
    # the first of two equal maxima, (10, 10) not (20, 20): 40 input px +- one refinement step
    assert np.abs(kp[1, 1] - 40.0).max() <= 1.0


def test_decode_single_equals_batch_and_refine_none():
    hm = np.random.default_rng(3).random((17, 64, 48)).astype(np.float32)
    kp, scores = MSRAHeatmap().decode(hm)
    bkp, bscores = MSRAHeatmap().batch_decode(hm[None])
    assert kp.shape == (1, 17, 2) and scores.shape == (1, 17)
    np.testing.assert_array_equal(kp, bkp)
    kp_raw, _ = MSRAHeatmap(refine='none').decode(hm)
    assert np.all(np.mod(kp_raw, 4.0) == 0)


def test_round_trip_within_quantisation():
    """Encode then decode: error <= half a heatmap pixel (rounding) + the 0.25 refinement."""
    codec = MSRAHeatmap()
    kp = np.random.default_rng(4).uniform(8, 184, (1, 17, 2))
    kp[..., 1] *= 256 / 192
    out, _ = codec.decode(codec.encode(kp)['heatmaps'])
    assert np.abs(out - kp).max() <= (0.5 + 0.25) * 4 + 1e-6


def test_built_from_registry():
    codec = CODECS.build(dict(type='MSRAHeatmap', input_size=(288, 384), heatmap_size=(72, 96),
                              sigma=3))
    assert isinstance(codec, MSRAHeatmap) and codec.encode(np.zeros((1, 17, 2)))[
        'heatmaps'].shape == (17, 96, 72)
