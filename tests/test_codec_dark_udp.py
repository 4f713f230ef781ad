"""DARK and UDP against loop restatements of the published formulas (DARK's ``gaussian_blur`` +
``taylor``, its unbiased target; UDP's ``generate_target``, ``get_warpmatrix`` and
``post_dark_udp``), on random and border cases.

Tolerances: targets agree to 1e-6 (float32 rounding of exp: ours is a separable product, the
restatements exp the 2-D sum); the blur to 1e-6 relative (cv2's float32 filter vs our float32
shifted sums); refined coordinates to 1e-3 heatmap px (the restatements invert float32 Hessians
with np.linalg.inv, ours solves in float64 in closed form).
"""
import itertools

import cv2
import numpy as np
import pytest

from benchmarks import official_pipeline as official
from sbplugins.codecs.msra_heatmap import MSRAHeatmap
from sbplugins.codecs.refinement import (gaussian_blur, get_heatmap_maximum, refine_dark,
                                         refine_dark_udp)
from sbplugins.codecs.udp_heatmap import UDPHeatmap
from sbplugins.registries import CODECS
from sbplugins.utils.geometry.affine import affine_points, crop_to_image, get_udp_affine_transform

COORD_ATOL = 1e-3  # heatmap px
TARGET_ATOL = 1e-6


# --- restatements -------------------------------------------------------------------------------
def ref_gaussian_blur(hm, kernel):
    """DARK's gaussian_blur: zero-pad by the radius, cv2.GaussianBlur, crop, rescale to the max."""
    border = (kernel - 1) // 2
    out = hm.copy()
    n, k, h, w = hm.shape
    for i, j in itertools.product(range(n), range(k)):
        origin_max = np.max(hm[i, j])
        dr = np.zeros((h + 2 * border, w + 2 * border), dtype=np.float32)
        dr[border:-border, border:-border] = hm[i, j].copy()
        dr = cv2.GaussianBlur(dr, (kernel, kernel), 0)
        out[i, j] = dr[border:-border, border:-border].copy()
        with np.errstate(invalid='ignore', divide='ignore'):  # 0/0 on an empty map, as DARK
            out[i, j] *= origin_max / np.max(out[i, j])
    return out


def ref_dark_decode(hm, kernel=11):
    """DARK's get_final_preds in heatmap px: argmax, blur, max(., 1e-10), log, taylor."""
    coords, maxvals = official.get_max_preds(hm)
    coords = coords.astype(np.float64)
    logs = np.log(np.maximum(ref_gaussian_blur(hm, kernel), 1e-10))
    n, k, h, w = hm.shape
    for i, j in itertools.product(range(n), range(k)):
        if maxvals[i, j] <= 0:
            continue
        px, py = int(coords[i, j, 0]), int(coords[i, j, 1])
        m = logs[i, j]
        if 1 < px < w - 2 and 1 < py < h - 2:
            dx = 0.5 * (m[py][px + 1] - m[py][px - 1])
            dy = 0.5 * (m[py + 1][px] - m[py - 1][px])
            dxx = 0.25 * (m[py][px + 2] - 2 * m[py][px] + m[py][px - 2])
            dxy = 0.25 * (m[py + 1][px + 1] - m[py - 1][px + 1] - m[py + 1][px - 1] +
                          m[py - 1][px - 1])
            dyy = 0.25 * (m[py + 2 * 1][px] - 2 * m[py][px] + m[py - 2 * 1][px])
            if dxx * dyy - dxy ** 2 != 0:
                hessian = np.array([[dxx, dxy], [dxy, dyy]])
                offset = -np.linalg.inv(hessian) @ np.array([[dx], [dy]])
                coords[i, j] += offset[:, 0]
    return coords, maxvals


def ref_post_dark_udp(hm, kernel=11):
    """UDP's post_dark_udp, flat-index form, per instance (valid maxima only)."""
    coords, maxvals = official.get_max_preds(hm)
    coords = coords.astype(np.float64)
    n, k, h, w = hm.shape
    blurred = np.clip(ref_gaussian_blur(hm, kernel), 0.001, 50)
    blurred = np.log(blurred)
    for i in range(n):
        pad = np.pad(blurred[i], ((0, 0), (1, 1), (1, 1)), mode='edge').flatten()
        for j in range(k):
            if maxvals[i, j] <= 0:
                continue
            index = int(coords[i, j, 0] + 1 + (coords[i, j, 1] + 1) * (w + 2) + (w + 2) * (h + 2) * j)
            i_, ix1, iy1 = pad[index], pad[index + 1], pad[index + w + 2]
            ix1y1, ix1_y1_ = pad[index + w + 3], pad[index - w - 3]
            ix1_, iy1_ = pad[index - 1], pad[index - 2 - w]
            derivative = np.array([[0.5 * (ix1 - ix1_)], [0.5 * (iy1 - iy1_)]])
            dxx = ix1 - 2 * i_ + ix1_
            dyy = iy1 - 2 * i_ + iy1_
            dxy = 0.5 * (ix1y1 - ix1 - iy1 + i_ + i_ - ix1_ - iy1_ + ix1_y1_)
            hessian = np.array([[dxx, dxy], [dxy, dyy]]) + np.finfo(np.float32).eps * np.eye(2)
            coords[i, j] -= (np.linalg.inv(hessian) @ derivative)[:, 0]
    return coords, maxvals


def ref_unbiased_target(joints, vis, sigma, image_size, heatmap_size):
    """DARK's unbiased target (MMPose generate_unbiased_gaussian_heatmaps), one instance."""
    w, h = heatmap_size
    stride = np.array(image_size) / np.array(heatmap_size)
    target = np.zeros((len(joints), h, w), np.float32)
    weight = np.array(vis, np.float32).copy()
    x = np.arange(0, w, 1, np.float32)
    y = np.arange(0, h, 1, np.float32)[:, None]
    radius = 3 * sigma
    for j, (joint, v) in enumerate(zip(joints, vis)):
        if v < 0.5:
            continue
        mu = joint / stride
        if mu[0] - radius >= w or mu[1] - radius >= h or mu[0] + radius + 1 < 0 or \
                mu[1] + radius + 1 < 0:
            weight[j] = 0
            continue
        target[j] = np.exp(-((x - mu[0]) ** 2 + (y - mu[1]) ** 2) / (2 * sigma ** 2))
    return target, weight


def ref_udp_target(joints, vis, sigma, image_size, heatmap_size):
    """UDP's generate_target (target_type 'gaussian'), one instance."""
    image_size, heatmap_size = np.array(image_size), np.array(heatmap_size)
    target = np.zeros((len(joints), heatmap_size[1], heatmap_size[0]), np.float32)
    weight = np.array(vis, np.float32).copy()
    tmp_size = sigma * 3
    feat_stride = (image_size - 1.0) / (heatmap_size - 1.0)
    for j in range(len(joints)):
        mu_x = int(joints[j][0] / feat_stride[0] + 0.5)
        mu_y = int(joints[j][1] / feat_stride[1] + 0.5)
        ul = [int(mu_x - tmp_size), int(mu_y - tmp_size)]
        br = [int(mu_x + tmp_size + 1), int(mu_y + tmp_size + 1)]
        if ul[0] >= heatmap_size[0] or ul[1] >= heatmap_size[1] or br[0] < 0 or br[1] < 0:
            weight[j] = 0
            continue
        size = 2 * tmp_size + 1
        x = np.arange(0, size, 1, np.float32)
        y = x[:, np.newaxis]
        x0 = y0 = size // 2
        x0 += joints[j][0] / feat_stride[0] - mu_x
        y0 += joints[j][1] / feat_stride[1] - mu_y
        g = np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma ** 2))
        g_x = max(0, -ul[0]), min(br[0], heatmap_size[0]) - ul[0]
        g_y = max(0, -ul[1]), min(br[1], heatmap_size[1]) - ul[1]
        img_x = max(0, ul[0]), min(br[0], heatmap_size[0])
        img_y = max(0, ul[1]), min(br[1], heatmap_size[1])
        if weight[j] > 0.5:
            target[j][img_y[0]:img_y[1], img_x[0]:img_x[1]] = g[g_y[0]:g_y[1], g_x[0]:g_x[1]]
    return target, weight


def ref_udp_warpmatrix(theta, size_input, size_dst, size_target):
    """UDP's get_warpmatrix(theta, c * 2, image_size - 1, s * 200)."""
    theta = theta / 180.0 * np.pi
    matrix = np.zeros((2, 3), dtype=np.float32)
    scale_x = size_dst[0] / size_target[0]
    scale_y = size_dst[1] / size_target[1]
    matrix[0, 0] = np.cos(theta) * scale_x
    matrix[0, 1] = -np.sin(theta) * scale_x
    matrix[0, 2] = scale_x * (-0.5 * size_input[0] * np.cos(theta) +
                              0.5 * size_input[1] * np.sin(theta) + 0.5 * size_target[0])
    matrix[1, 0] = np.sin(theta) * scale_y
    matrix[1, 1] = np.cos(theta) * scale_y
    matrix[1, 2] = scale_y * (-0.5 * size_input[0] * np.sin(theta) -
                              0.5 * size_input[1] * np.cos(theta) + 0.5 * size_target[1])
    return matrix


# --- cases ---------------------------------------------------------------------------------------
def realistic_heatmaps(rng, n=2, k=17, h=64, w=48, sigma=2.0):
    """Gaussian blobs at random sub-pixel centres (some on or beyond the border) plus noise, and
    an all-zero, an all-negative and a two-peak map."""
    x, y = np.arange(w), np.arange(h)[:, None]
    hm = np.zeros((n, k, h, w), np.float32)
    for i, j in itertools.product(range(n), range(k)):
        cx, cy = rng.uniform(-1, w), rng.uniform(-1, h)
        if j < 4:  # hug the borders
            cx, cy = [(0.3, cy), (w - 1.2, cy), (cx, 0.6), (cx, h - 1.6)][j]
        amp = rng.uniform(0.3, 1.0)
        hm[i, j] = amp * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma ** 2))
        hm[i, j] += rng.normal(0, 0.01, (h, w))
    hm[0, 4] = 0.0
    hm[0, 5] = -0.2
    hm[1, 6] = 0.0
    hm[1, 6, h // 4, w // 4] = hm[1, 6, h // 2, w // 2] = 2.0  # first maximum wins
    return hm


def test_gaussian_blur_matches_cv2_loop():
    hm = realistic_heatmaps(np.random.default_rng(0))
    hm[0, 4] = 0.1  # the rescaling needs a positive blurred maximum (a zero map stays zero)
    for kernel in (11, 17, 7):
        ref = ref_gaussian_blur(hm, kernel)
        got = gaussian_blur(hm, kernel)
        scale = np.abs(ref).max(axis=(-1, -2), keepdims=True)
        np.testing.assert_allclose(got / scale, ref / scale, rtol=0, atol=1e-6)
    assert not gaussian_blur(np.zeros((1, 1, 8, 8)), 11).any()  # no 0/0 for an empty map


@pytest.mark.parametrize('seed', [1, 2])
def test_dark_refinement_matches_restatement(seed):
    hm = realistic_heatmaps(np.random.default_rng(seed))
    coords, scores = get_heatmap_maximum(hm)
    got = refine_dark(hm, coords, scores, 11)
    ref, ref_max = ref_dark_decode(hm, 11)
    np.testing.assert_array_equal(scores, ref_max)
    np.testing.assert_allclose(got, ref, rtol=0, atol=COORD_ATOL)
    moved = np.abs(got - coords).max(axis=-1) > 1e-4
    assert moved.sum() >= 10 and (~moved).sum() >= 4  # interior refined; border/empty kept


@pytest.mark.parametrize('seed', [3, 4])
def test_dark_udp_refinement_matches_restatement(seed):
    hm = realistic_heatmaps(np.random.default_rng(seed), h=32, w=24)
    coords, scores = get_heatmap_maximum(hm)
    got = refine_dark_udp(hm, coords, scores, 11)
    ref, _ = ref_post_dark_udp(hm, 11)
    np.testing.assert_allclose(got, ref, rtol=0, atol=COORD_ATOL)
    # the border maps are refined too (edge padding): only the empty and negative maps stay put
    still = np.abs(got - coords).max(axis=-1) < 1e-6
    assert still[0, 4] and still[0, 5] and still.sum() <= 4


def edge_keypoints(input_size):
    """Joints around every window / border case of a crop, in input pixels."""
    w, h = input_size
    return np.array([[w / 2, h / 2], [1.9, 2.1], [-2.1, 5.0], [-25.9, 30.0], [-26.1, 30.0],
                     [-28.0, 30.0], [-30.0, 30.0], [-34.1, 30.0], [w - 1, h - 1], [w + 18, 100.],
                     [w + 22, 100.0], [100.0, h + 26], [100.0, h + 26.2], [50.0, -50.0],
                     [5.0, 7.0], [6.3, 6.7], [13.9, h - 5.5], [0.0, 0.0]])


@pytest.mark.parametrize('sigma', [2.0, 3.0, 2.5])
def test_unbiased_encoding_matches_restatement(sigma):
    codec = MSRAHeatmap(unbiased=True, sigma=sigma)
    kp = edge_keypoints((192, 256))
    vis = np.ones(len(kp), np.float32)
    vis[2] = 0
    out = codec.encode(kp[None], vis[None])
    ref_hm, ref_w = ref_unbiased_target(kp, vis, sigma, (192, 256), (48, 64))
    np.testing.assert_array_equal(out['keypoint_weights'][0], ref_w)
    np.testing.assert_allclose(out['heatmaps'], ref_hm, rtol=0, atol=TARGET_ATOL)
    assert 0 < ref_w.sum() < len(kp)  # the cases exercise both sides of the weight rule


@pytest.mark.parametrize('sigma,sizes', [(2.0, ((192, 256), (48, 64))),
                                         (3.0, ((288, 384), (72, 96))),
                                         (2.5, ((96, 128), (24, 32))),
                                         (2.0, ((96, 128), (24, 32)))])
def test_udp_encoding_matches_restatement(sigma, sizes):
    codec = UDPHeatmap(*sizes, sigma=sigma)
    kp = edge_keypoints(sizes[0])
    vis = np.ones(len(kp), np.float32)
    vis[1] = 0
    out = codec.encode(kp[None], vis[None])
    ref_hm, ref_w = ref_udp_target(kp, vis, sigma, *sizes)
    np.testing.assert_array_equal(out['keypoint_weights'][0], ref_w)
    np.testing.assert_allclose(out['heatmaps'], ref_hm, rtol=0, atol=TARGET_ATOL)
    assert 0 < ref_w.sum() < len(kp)


def test_round_trips():
    """Keypoints 7+ heatmap px from the border (the zero-padded blur biases nearer ones) come back: DARK to 0.02 heatmap px (its quadratic fit of the log of a
    Gaussian is exact up to the blur), UDP to 0.05 px (the window truncation biases the blur),
    in MMPose's UDP output scale p * W_in / (W_in - 1)."""
    rng = np.random.default_rng(5)
    kp = np.stack([rng.uniform(28, 164, 17), rng.uniform(28, 228, 17)], axis=-1)[None]
    dark = MSRAHeatmap(unbiased=True)
    out, scores = dark.decode(dark.encode(kp)['heatmaps'])
    assert np.abs(out - kp).max() / 4.0 < 0.02 and scores.min() > 0.9
    udp = UDPHeatmap()
    out, _ = udp.decode(udp.encode(kp)['heatmaps'])
    expected = kp * np.array([192 / 191, 256 / 255])
    assert np.abs(out - expected).max() / (191 / 47) < 0.05
    baseline, _ = MSRAHeatmap().decode(MSRAHeatmap().encode(kp)['heatmaps'])
    assert np.abs(baseline - kp).mean() > 3 * np.abs(out - expected).mean()


def test_udp_flip_needs_no_shift():
    """UDP: flipping the crop (x -> W_in - 1 - x) flips the target exactly (x -> W_hm - 1 - x)."""
    codec = UDPHeatmap((96, 128), (24, 32))
    kp = np.random.default_rng(6).uniform(5, 90, (1, 17, 2))
    flipped = kp.copy()
    flipped[..., 0] = 95 - flipped[..., 0]
    a = codec.encode(kp)['heatmaps']
    b = codec.encode(flipped)['heatmaps']
    np.testing.assert_allclose(b, a[..., ::-1], rtol=0, atol=TARGET_ATOL)


@pytest.mark.parametrize('rot', [0.0, 30.0, -65.0])
def test_udp_affine_matches_warpmatrix(rot):
    center, scale = np.array([310.4, 190.2]), np.array([1.15, 1.5333])
    ours = get_udp_affine_transform(center, scale, rot, (192, 256))
    ref = ref_udp_warpmatrix(rot, center * 2.0, np.array([191.0, 255.0]), scale * 200.0)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)
    # box edges land on the first and last crop pixels; inv undoes it
    corners = np.array([[center - scale * 100, center + scale * 100]])
    if rot == 0:
        np.testing.assert_allclose(affine_points(corners, ours), [[[0, 0], [191, 255]]],
                                   atol=1e-9)
    inv = get_udp_affine_transform(center, scale, rot, (192, 256), inv=True)
    pts = np.random.default_rng(7).uniform(0, 400, (1, 5, 2))
    np.testing.assert_allclose(affine_points(affine_points(pts, ours), inv), pts, atol=1e-9)


def test_udp_pipeline_back_to_image():
    """UDP affine -> UDPHeatmap -> crop_to_image (the estimator's standard inverse) recovers
    image points: the codec's output scale makes the standard inverse exact for UDP crops."""
    center, scale = np.array([300.0, 200.0]), np.array([1.2, 1.6])
    mat = get_udp_affine_transform(center, scale, 0.0, (96, 128))
    rng = np.random.default_rng(8)
    pts = np.stack([rng.uniform(200, 400, 17), rng.uniform(60, 340, 17)], -1)[None]
    codec = UDPHeatmap((96, 128), (24, 32))
    dec, _ = codec.decode(codec.encode(affine_points(pts, mat))['heatmaps'])
    back = crop_to_image(dec, center[None], scale[None], (96, 128))
    assert np.abs(back - pts).mean() < 0.05 * 240 / 23  # image px per heatmap px


def test_registry_and_bad_options():
    assert isinstance(CODECS.build(dict(type='UDPHeatmap', input_size=(96, 128),
                                        heatmap_size=(24, 32))), UDPHeatmap)
    codec = CODECS.build(dict(type='MSRAHeatmap', unbiased=True, blur_kernel_size=11))
    assert codec.refine == 'dark' and codec.unbiased
    with pytest.raises(ValueError, match='blur_kernel_size'):
        MSRAHeatmap(blur_kernel_size=10)
    with pytest.raises(ValueError, match='refine'):
        UDPHeatmap(refine='official')
    with pytest.raises(ValueError, match=r'\(N, K, H, W\)'):
        UDPHeatmap().batch_decode(np.zeros((17, 64, 48)))


def test_topdown_affine_udp_moves_image_and_keypoints_together():
    """TopdownAffine(use_udp=True): a bright pixel at a keypoint lands where the keypoint goes
    (within the bilinear warp's half pixel), and the box corners land on the crop's corners."""
    from sbplugins.transforms.topdown_affine import TopdownAffine
    img = np.zeros((300, 400, 3), np.uint8)
    img[120, 250] = 255
    results = dict(img=img, bbox_center=np.array([[200.0, 150.0]]),
                   bbox_scale=np.array([[1.2, 1.6]]), bbox_rotation=np.array([20.0]),
                   keypoints=np.array([[[250.0, 120.0]]]))
    out = TopdownAffine((96, 128), use_udp=True)(results)
    assert out['img'].shape == (128, 96, 3) and 'use_udp=True' in repr(TopdownAffine(use_udp=True))
    y, x = np.unravel_index(out['img'][..., 0].argmax(), out['img'].shape[:2])
    assert np.abs(np.array([x, y]) - out['keypoints'][0, 0]).max() <= 1.0
    np.testing.assert_allclose(out['affine_matrix'], get_udp_affine_transform(
        [200, 150], [1.2, 1.6], 20.0, (96, 128)), atol=1e-5)  # scale passes through float32
