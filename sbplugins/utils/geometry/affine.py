"""Affine maps between a box and its crop: the official three-point affine, UDP's unbiased one, and
points carried through them (SimpleBaseline's conventions, reference doc, "Boxes,
affine transform").

The affine maps the box center to the crop center; only the scale's width ``s_w`` sets the zoom
(the height is implied by the fixed aspect ratio).
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from sbplugins.utils.geometry.boxes import PIXEL_STD


def _rotate(vec: np.ndarray, rot_rad: float) -> np.ndarray:
    sn, cs = np.sin(rot_rad), np.cos(rot_rad)
    return np.array([vec[0] * cs - vec[1] * sn, vec[0] * sn + vec[1] * cs])


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The point making a right angle at ``b`` with ``a`` (official ``get_3rd_point``)."""
    direct = a - b
    return b + np.array([-direct[1], direct[0]], dtype=np.float32)


def get_affine_transform(center: Sequence[float], scale: Sequence[float], rot: float,
                         output_size: Sequence[int], shift: Sequence[float] = (0., 0.),
                         inv: bool = False, pixel_std: float = PIXEL_STD) -> np.ndarray:
    """The official three-point affine from a box (center, scale) to a crop of ``output_size``.

    The box center (plus ``shift`` x box size) maps to the crop center; the box width
    ``scale[0] * pixel_std`` maps to the crop width; ``rot`` (degrees) rotates the source
    direction. Built from float32 points with ``cv2.getAffineTransform`` like the official code, so
    the matrix is bit-identical to it.

    Args:
        center: (2,) box center, image pixels.
        scale: (2,) box scale, units of ``pixel_std`` (only ``scale[0]`` is used).
        rot: rotation in degrees.
        output_size: (w, h) of the crop.
        shift: (2,) offset of the center in units of the box size.
        inv: return the crop -> image matrix instead.

    Returns:
        (2, 3) float64 matrix.
    """
    center = np.asarray(center, dtype=np.float32).reshape(2)
    scale_px = np.asarray(scale, dtype=np.float32).reshape(2) * pixel_std
    shift = np.asarray(shift, dtype=np.float32).reshape(2)
    dst_w, dst_h = float(output_size[0]), float(output_size[1])
    rot_rad = np.pi * rot / 180

    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0] = center + scale_px * shift
    src[1] = center + _rotate(np.array([0., scale_px[0] * -0.5]), rot_rad) + scale_px * shift
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = np.array([dst_w * 0.5, dst_h * 0.5]) + np.array([0., dst_w * -0.5], np.float32)
    src[2] = _third_point(src[0], src[1])
    dst[2] = _third_point(dst[0], dst[1])
    if inv:
        return cv2.getAffineTransform(dst, src)
    return cv2.getAffineTransform(src, dst)


def get_udp_affine_transform(center: Sequence[float], scale: Sequence[float], rot: float,
                             output_size: Sequence[int], inv: bool = False,
                             pixel_std: float = PIXEL_STD) -> np.ndarray:
    """UDP's unbiased affine (Huang et al., CVPR 2020, its ``get_warpmatrix``): sizes measured in
    pixel steps, ``size - 1``, so the box edges map exactly onto the first and last crop pixels.

    With s = ``scale * pixel_std`` (both axes), k_x = (W_out - 1) / s_w, k_y = (H_out - 1) / s_h:
    x' = k_x (cos r (x - c_x) - sin r (y - c_y) + s_w / 2),
    y' = k_y (sin r (x - c_x) + cos r (y - c_y) + s_h / 2).
    The box center maps to ((W_out - 1) / 2, (H_out - 1) / 2). The rotation turns the other way
    than the official :func:`get_affine_transform` does for the same ``rot`` (UDP's own sign;
    the augmentation's rotation draw is symmetric, so training is unaffected).

    Args:
        center: (2,) box center, image pixels.
        scale: (2,) box scale, units of ``pixel_std`` (both axes used).
        rot: rotation in degrees.
        output_size: (w, h) of the crop.
        inv: return the crop -> image matrix instead.

    Returns:
        (2, 3) float64 matrix.
    """
    cx, cy = (float(v) for v in np.asarray(center, dtype=np.float64).reshape(2))
    sw, sh = (float(v) * pixel_std for v in np.asarray(scale, dtype=np.float64).reshape(2))
    rad = np.deg2rad(rot)
    cs, sn = np.cos(rad), np.sin(rad)
    kx, ky = (output_size[0] - 1.0) / sw, (output_size[1] - 1.0) / sh
    mat = np.array([[cs * kx, -sn * kx, kx * (-cx * cs + cy * sn + 0.5 * sw)],
                    [sn * ky, cs * ky, ky * (-cx * sn - cy * cs + 0.5 * sh)]], dtype=np.float64)
    if inv:
        return cv2.invertAffineTransform(mat)
    return mat


def affine_points(points: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """Apply a (2, 3) affine to (..., 2) points; computed in float64, returned in the points'
    floating dtype (float32 for integer input)."""
    pts = np.asarray(points)
    out_dtype = pts.dtype if np.issubdtype(pts.dtype, np.floating) else np.float32
    mat = np.asarray(mat, dtype=np.float64)
    out = pts.astype(np.float64) @ mat[:, :2].T + mat[:, 2]
    return out.astype(out_dtype)

def crop_to_image(keypoints: np.ndarray, center: np.ndarray, scale: np.ndarray,
                  input_size: Sequence[int], pixel_std: float = PIXEL_STD) -> np.ndarray:
    """Keypoints in input-crop pixels back to the image (official ``transform_preds`` at rot 0).

    p_img = center + (p_crop - input_size / 2) * (pixel_std * s_w / W_in); ``s_w`` is used for
    both axes, as the official code does (the scale's aspect is fixed to the crop's).

    Args:
        keypoints: (N, K, 2) input-crop pixels.
        center: (N, 2) image pixels.
        scale: (N, 2) units of ``pixel_std``.
        input_size: (w, h) of the crop.

    Returns:
        (N, K, 2) image pixels, float32.
    """
    keypoints = np.asarray(keypoints, dtype=np.float64)
    center = np.asarray(center, dtype=np.float64).reshape(-1, 1, 2)
    scale_w = np.asarray(scale, dtype=np.float64).reshape(-1, 1, 2)[..., :1]
    half = np.array([input_size[0], input_size[1]], dtype=np.float64) / 2
    out = center + (keypoints - half) * (pixel_std * scale_w / float(input_size[0]))
    return out.astype(np.float32)
