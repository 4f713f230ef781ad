"""The official SimpleBaseline training sample (``JointsDataset.__getitem__``), restated.

The one restatement of the official code's formulas in the project: the parity tests compare
``sbplugins`` against it (``tests/test_geometry.py``, ``test_codec.py``, ``test_transforms.py``)
and ``tools/benchmark.py --mode data`` times our pipeline beside ``official_train_sample`` on the
same records and the same machine load. It follows the official code step by step:
``cv2.imread``, random scale / rotation / flip with the official draws (``np.random.randn``,
``random.random``), ``get_affine_transform`` through ``cv2.getAffineTransform``, ``warpAffine``,
``ToTensor`` + ``Normalize`` (in numpy: torchvision is not a dependency), the per-joint
``affine_transform`` loop and the per-joint ``generate_target`` loop (reference doc, "Target
generation"); and the official decoding, ``get_max_preds`` and ``get_final_preds`` (``test_codec.py``,
``test_weight_conversion.py``). Nothing in ``sbplugins``
imports it.
"""
from __future__ import annotations

import math
import random
from typing import Dict, Sequence, Tuple

import cv2
import numpy as np

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def box_to_center_scale(box: Sequence[float], aspect_ratio: float) -> Tuple[np.ndarray, np.ndarray]:
    """Official ``_box2cs`` (done once per record when the database is built, not per sample)."""
    x, y, w, h = box
    center = np.array([x + w * 0.5, y + h * 0.5], np.float32)
    if w > aspect_ratio * h:
        h = w * 1.0 / aspect_ratio
    elif w < aspect_ratio * h:
        w = h * aspect_ratio
    scale = np.array([w * 1.0 / 200, h * 1.0 / 200], np.float32)
    if center[0] != -1:
        scale = scale * 1.25
    return center, scale


def _rotate_point(point, angle_rad):
    sn, cs = np.sin(angle_rad), np.cos(angle_rad)
    return [point[0] * cs - point[1] * sn, point[0] * sn + point[1] * cs]


def _third_point(a, b):
    direct = a - b
    return b + np.array([-direct[1], direct[0]], dtype=np.float32)


def get_affine_transform(center, scale, rot, output_size, inv: bool = False):
    """Official ``get_affine_transform`` (shift 0): the (2, 3) matrix box -> crop, or back."""
    scale_tmp = np.asarray(scale, np.float32) * 200.0  # the official scale is a float32 array
    src_w = scale_tmp[0]
    dst_w, dst_h = output_size
    rot_rad = np.pi * rot / 180
    src_dir = _rotate_point([0, src_w * -0.5], rot_rad)
    dst_dir = np.array([0, dst_w * -0.5], np.float32)
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0, :] = center
    src[1, :] = center + src_dir
    dst[0, :] = [dst_w * 0.5, dst_h * 0.5]
    dst[1, :] = np.array([dst_w * 0.5, dst_h * 0.5]) + dst_dir
    src[2:, :] = _third_point(src[0, :], src[1, :])
    dst[2:, :] = _third_point(dst[0, :], dst[1, :])
    if inv:
        return cv2.getAffineTransform(np.float32(dst), np.float32(src))
    return cv2.getAffineTransform(np.float32(src), np.float32(dst))


def affine_transform(pt, t):
    new_pt = np.array([pt[0], pt[1], 1.]).T
    new_pt = np.dot(t, new_pt)
    return new_pt[:2]


def fliplr_joints(joints, joints_vis, width, matched_parts):
    joints[:, 0] = width - joints[:, 0] - 1
    for pair in matched_parts:
        joints[pair[0], :], joints[pair[1], :] = joints[pair[1], :], joints[pair[0], :].copy()
        joints_vis[pair[0], :], joints_vis[pair[1], :] = \
            joints_vis[pair[1], :], joints_vis[pair[0], :].copy()
    return joints * joints_vis, joints_vis


def generate_target(joints, joints_vis, image_size, heatmap_size, sigma):
    """Official per-joint loop: joints (K, >=2), joints_vis (K, >=1) -> target (K, h, w) float32,
    target_weight (K, 1) float32; sizes are (w, h) arrays."""
    num_joints = joints.shape[0]
    target_weight = np.ones((num_joints, 1), dtype=np.float32)
    target_weight[:, 0] = joints_vis[:, 0]
    target = np.zeros((num_joints, heatmap_size[1], heatmap_size[0]), dtype=np.float32)
    tmp_size = sigma * 3
    for joint_id in range(num_joints):
        feat_stride = image_size / heatmap_size
        mu_x = int(joints[joint_id][0] / feat_stride[0] + 0.5)
        mu_y = int(joints[joint_id][1] / feat_stride[1] + 0.5)
        ul = [int(mu_x - tmp_size), int(mu_y - tmp_size)]
        br = [int(mu_x + tmp_size + 1), int(mu_y + tmp_size + 1)]
        if ul[0] >= heatmap_size[0] or ul[1] >= heatmap_size[1] or br[0] < 0 or br[1] < 0:
            target_weight[joint_id] = 0
            continue
        size = 2 * tmp_size + 1
        x = np.arange(0, size, 1, np.float32)
        y = x[:, np.newaxis]
        x0 = y0 = size // 2
        g = np.exp(- ((x - x0) ** 2 + (y - y0) ** 2) / (2 * sigma ** 2))
        g_x = max(0, -ul[0]), min(br[0], heatmap_size[0]) - ul[0]
        g_y = max(0, -ul[1]), min(br[1], heatmap_size[1]) - ul[1]
        img_x = max(0, ul[0]), min(br[0], heatmap_size[0])
        img_y = max(0, ul[1]), min(br[1], heatmap_size[1])
        if target_weight[joint_id] > 0.5:
            target[joint_id][img_y[0]:img_y[1], img_x[0]:img_x[1]] = \
                g[g_y[0]:g_y[1], g_x[0]:g_x[1]]
    return target, target_weight


def get_max_preds(batch_heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Official ``get_max_preds``: (N, K, H, W) -> argmax coords (N, K, 2) float32 in heatmap
    pixels (first maximum wins; a non-positive maximum gives (0, 0)), maxvals (N, K)."""
    n, k, _, w = batch_heatmaps.shape
    flat = batch_heatmaps.reshape((n, k, -1))
    idx = np.argmax(flat, 2).reshape((n, k, 1))
    maxvals = np.amax(flat, 2).reshape((n, k, 1))
    coords = np.tile(idx, (1, 1, 2)).astype(np.float32)
    coords[:, :, 0] = coords[:, :, 0] % w
    coords[:, :, 1] = np.floor(coords[:, :, 1] / w)
    coords *= np.tile(np.greater(maxvals, 0.0), (1, 1, 2)).astype(np.float32)
    return coords, maxvals[:, :, 0]


def get_final_preds(batch_heatmaps: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Official ``get_final_preds`` in heatmap pixels (reference doc, "Decoding"): ``get_max_preds``,
    then 0.25 * sign of the neighbour difference, only strictly inside (1 < px < W - 1 and
    1 < py < H - 1). (N, K, H, W) -> coords (N, K, 2) float32, maxvals (N, K)."""
    coords, maxvals = get_max_preds(batch_heatmaps)
    _, _, h, w = batch_heatmaps.shape
    for i in range(coords.shape[0]):
        for j in range(coords.shape[1]):
            hm = batch_heatmaps[i][j]
            px = int(math.floor(coords[i][j][0] + 0.5))
            py = int(math.floor(coords[i][j][1] + 0.5))
            if 1 < px < w - 1 and 1 < py < h - 1:
                diff = np.array([hm[py][px + 1] - hm[py][px - 1], hm[py + 1][px] - hm[py - 1][px]])
                coords[i][j] += np.sign(diff) * .25
    return coords, maxvals


def official_train_sample(record: Dict, flip_pairs: Sequence[Tuple[int, int]],
                          image_size=(192, 256), heatmap_size=(48, 64), sigma: float = 2.0,
                          scale_factor: float = 0.3, rotation_factor: float = 40.0):
    """One official training sample from a database record (``image``, ``center``, ``scale``,
    ``joints_3d`` (K, 3), ``joints_3d_vis`` (K, 3)): (input (3, H, W), target, target_weight)."""
    data_numpy = cv2.imread(record['image'], cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    joints = record['joints_3d'].copy()
    joints_vis = record['joints_3d_vis'].copy()
    c = record['center'].copy()
    s = record['scale'].copy()
    sf, rf = scale_factor, rotation_factor
    s = s * np.clip(np.random.randn() * sf + 1, 1 - sf, 1 + sf)
    r = np.clip(np.random.randn() * rf, -rf * 2, rf * 2) if random.random() <= 0.6 else 0
    if random.random() <= 0.5:
        data_numpy = data_numpy[:, ::-1, :]
        joints, joints_vis = fliplr_joints(joints, joints_vis, data_numpy.shape[1], flip_pairs)
        c[0] = data_numpy.shape[1] - c[0] - 1
    trans = get_affine_transform(c, s, r, image_size)
    # OpenCV 4 refuses the negative-stride flipped view the official code passes (OpenCV 3 copied it)
    crop = cv2.warpAffine(np.ascontiguousarray(data_numpy), trans, (int(image_size[0]), int(image_size[1])),
                          flags=cv2.INTER_LINEAR)
    # transforms.ToTensor() + Normalize(mean, std), restated in numpy
    tensor = ((crop[..., ::-1].astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1)
    for i in range(joints.shape[0]):
        if joints_vis[i, 0] > 0.0:
            joints[i, 0:2] = affine_transform(joints[i, 0:2], trans)
    target, target_weight = generate_target(joints, joints_vis, np.array(image_size),
                                            np.array(heatmap_size), sigma)
    return np.ascontiguousarray(tensor), target, target_weight


def records_from_samples(samples: Sequence[Dict], aspect_ratio: float) -> list:
    """Official database records from our dataset's ``get_data_info`` dicts (one person each)."""
    records = []
    for info in samples:
        kpts = np.asarray(info['keypoints'], np.float64)[0]
        vis = np.asarray(info['keypoints_visible'], np.float64)[0]
        center, scale = box_to_center_scale(np.asarray(info['bbox'], np.float64)[0], aspect_ratio)
        joints = np.zeros((len(kpts), 3))
        joints[:, :2] = kpts
        joints_vis = np.zeros((len(kpts), 3))
        joints_vis[:, :2] = (vis > 0)[:, None]
        records.append(dict(image=info['img_path'], center=center, scale=scale,
                            joints_3d=joints, joints_3d_vis=joints_vis))
    return records
