"""Image loading: the first step of every pipeline."""
from __future__ import annotations

import os
from typing import Any, Dict

import cv2
import numpy as np
from sbcore.errors import MissingFileError

# The official code reads with IMREAD_IGNORE_ORIENTATION: EXIF rotation is NOT applied, so the
# pixels match the annotations (which were made on the stored pixel grid).
_READ_FLAGS = {
    'color': cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION,
    'grayscale': cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION,
    'unchanged': cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION,
}


class LoadImage:
    """Read ``results['img_path']`` with OpenCV into ``results['img']`` (H, W, 3) uint8 BGR.

    Skips reading when ``results['img']`` is already present (e.g. images given in memory).
    Sets ``img_shape`` = (h, w) either way.

    Args:
        color_type: ``'color'`` (3 channels), ``'grayscale'`` or ``'unchanged'``.
        to_rgb: convert BGR to RGB (the official code and converted weights expect BGR: reference
            doc "Colour trap").
    """

    def __init__(self, color_type: str = 'color', to_rgb: bool = False):
        if color_type not in _READ_FLAGS:
            raise ValueError(f'LoadImage: color_type must be one of {sorted(_READ_FLAGS)}, '
                             f'got {color_type!r}')
        self.color_type = color_type
        self.to_rgb = to_rgb

    def __call__(self, results: Dict[str, Any]) -> Dict[str, Any]:
        img = results.get('img')
        if img is None:
            path = results.get('img_path')
            if path is None:
                raise KeyError('LoadImage: results has neither "img" nor "img_path" '
                               f'(keys: {sorted(results)})')
            path = os.fspath(path)
            if not os.path.isfile(path):
                raise MissingFileError(f'LoadImage: image file not found: {path}')
            img = cv2.imread(path, _READ_FLAGS[self.color_type])
            if img is None:
                raise OSError(f'LoadImage: OpenCV could not decode the image file {path} '
                              f'({os.path.getsize(path)} bytes); is it a valid image?')
            if self.to_rgb and img.ndim == 3 and img.shape[2] == 3:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            results['img'] = img
        results['img_shape'] = np.asarray(img).shape[:2]
        return results

    def __repr__(self) -> str:
        return f'LoadImage(color_type={self.color_type!r}, to_rgb={self.to_rgb})'
