"""Image loading: the first step of every pipeline."""
from __future__ import annotations

import os
from typing import Any, Dict

import cv2
import numpy as np
from sbcore.errors import DataError, MissingFileError

# The official code reads with IMREAD_IGNORE_ORIENTATION: EXIF rotation is NOT applied, so the
# pixels match the annotations (which were made on the stored pixel grid).
_READ_FLAGS = {
    'color': cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION,
    'grayscale': cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION,
    'unchanged': cv2.IMREAD_UNCHANGED | cv2.IMREAD_IGNORE_ORIENTATION,
}


class ImageFileError(DataError, OSError):
    """An image file that exists but is no usable image (empty, truncated, undecodable): a user's
    data, so one line from a tool; an ``OSError`` too, as LoadImage raised before."""


def read_image(path: str, flags: int) -> np.ndarray:
    """The image file ``path`` decoded by OpenCV with ``flags``; an :class:`ImageFileError` naming
    the file when it is unreadable, empty, a truncated JPEG, or not decodable.

    A JPEG cut short is not refused by OpenCV: libjpeg prints "Premature end of JPEG file" and
    returns the full-size image with the missing rows grey (128) (a COCO image cut in half decodes
    as 640 x 425 with its lower half grey), which would train on silently. So the bytes are read
    once, checked for their end-of-image marker, then decoded from memory (``cv2.imdecode`` gives
    the same pixels and EXIF handling as ``cv2.imread``).
    """
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as err:  # e.g. no read permission
        raise ImageFileError(f'LoadImage: could not read the image file {path}: {err}') from err
    if data.size == 0:
        raise ImageFileError(f'LoadImage: image file {path} is empty (0 bytes); expected an '
                             f'image (JPEG, PNG, ...)')
    if data[:2].tobytes() == b'\xff\xd8' and not jpeg_is_complete(data.tobytes()):
        raise ImageFileError(f'LoadImage: image file {path} is truncated ({data.size} bytes): its '
                             f'JPEG data ends before the end-of-image marker; expected a complete '
                             f'JPEG (copy or download it again)')
    img = cv2.imdecode(data, flags)
    if img is None:  # a PNG cut short is refused here too (libpng: "Read Error")
        raise ImageFileError(f'LoadImage: OpenCV could not decode the image file {path} '
                             f'({data.size} bytes); expected an image (JPEG, PNG, ...)')
    return img


def jpeg_is_complete(data: bytes) -> bool:
    """Whether the JPEG bytes ``data`` (starting with the SOI marker FF D8) reach their EOI marker
    FF D9, read the way libjpeg reads them: marker segments are skipped by their length (an EXIF
    thumbnail's own EOI is inside one), entropy-coded data after each SOS runs to the next marker
    (FF 00 is a stuffed byte, FF D0-D7 a restart, FF FF fill). Bytes after the EOI are ignored, as
    libjpeg ignores them.
    """
    pos, end = 2, len(data)
    while True:
        pos = data.find(b'\xff', pos)  # libjpeg skips stray bytes before a marker, so do we
        while 0 <= pos < end - 1 and data[pos + 1] == 0xFF:
            pos += 1
        if pos < 0 or pos >= end - 1:
            return False
        marker = data[pos + 1]
        if marker == 0xD9:
            return True
        if marker == 0x01 or 0xD0 <= marker <= 0xD7 or marker == 0x00:  # no length field
            pos += 2
            continue
        if pos + 4 > end:
            return False
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], 'big')
        if marker == 0xDA:  # SOS: skip the entropy-coded data up to the next real marker
            while True:
                pos = data.find(b'\xff', pos)
                if pos < 0 or pos >= end - 1:
                    return False
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                elif following == 0xFF:
                    pos += 1
                else:
                    break


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
            img = read_image(path, _READ_FLAGS[self.color_type])
            if self.to_rgb and img.ndim == 3 and img.shape[2] == 3:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            results['img'] = img
        results['img_shape'] = np.asarray(img).shape[:2]
        return results

    def __repr__(self) -> str:
        return f'LoadImage(color_type={self.color_type!r}, to_rgb={self.to_rgb})'
