"""Frames in, frames out: a video file, a folder of images, a webcam, or one image.

``open_source(spec)`` understands ``clip.mp4`` (any container OpenCV reads), ``frames/`` (images
in name order), ``webcam:0`` and ``photo.jpg``; iterating it yields ``Frame``s. A frame that
cannot be decoded (a corrupt image file, a broken packet in a video) comes as a ``Frame`` with
``image`` None and ``error`` saying why, so the caller can log and skip it; a video stops at the
first frame it cannot read only after ``max_bad_frames`` failures in a row.
``VideoSink`` writes MP4 (mp4v), or MJPG AVI where this OpenCV build has no MP4 encoder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import cv2
import numpy as np

from sbcore.errors import MissingFileError

from .transforms.loading import ImageFileError, read_image

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg')


@dataclass
class Frame:
    """One input frame: its position, a name (file name, or ``<video>:<index>``), the (H, W, 3)
    uint8 BGR image (None when it could not be decoded) and the reason it could not."""
    index: int
    file_name: str
    image: Optional[np.ndarray]
    error: str = ''


class FrameSource:
    """Frames of a video, an image folder, a webcam or a single image (see the module docstring).

    Attributes:
        kind: ``'video'``, ``'folder'``, ``'webcam'`` or ``'image'``.
        name: a stem for output files (the video's or folder's name, ``webcam0``).
        fps: frames per second (the container's; 25 when it has none; 10 for images).
        total: the number of frames when known, else 0 (webcams, some containers).
    """

    def __init__(self, spec: str, max_bad_frames: int = 25):
        self.spec, self.max_bad_frames = str(spec), int(max_bad_frames)
        self.paths: List[Path] = []
        self.fps, self.total = 10.0, 0
        if self.spec.startswith('webcam:'):
            index = self.spec.split(':', 1)[1]
            if not index.isdigit():
                raise MissingFileError(f'--input {self.spec}: expected webcam:N with N a camera number')
            self.kind, self.name, self.camera = 'webcam', f'webcam{index}', int(index)
            return
        path = Path(self.spec)
        if path.is_dir():
            self.paths = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTS)
            if not self.paths:
                raise MissingFileError(f'--input {path}: no images ({", ".join(IMAGE_EXTS)})')
            self.kind, self.name, self.total = 'folder', path.resolve().name, len(self.paths)
        elif path.is_file() and path.suffix.lower() in VIDEO_EXTS:
            self.kind, self.name = 'video', path.stem
            capture = self._open_capture()
            self.fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
            self.total = max(0, int(capture.get(cv2.CAP_PROP_FRAME_COUNT)))
            capture.release()
        elif path.is_file():
            self.kind, self.name, self.paths, self.total = 'image', path.stem, [path], 1
        else:
            raise MissingFileError(f'--input {path} not found (expected a video, an image, a folder '
                                   f'of images or webcam:N)')

    @property
    def is_sequence(self) -> bool:
        """Frames of one scene in time order (what a tracker needs)."""
        return self.kind in ('video', 'webcam', 'folder')

    def _open_capture(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.camera if self.kind == 'webcam' else self.spec)
        if not capture.isOpened():
            raise MissingFileError(f'--input {self.spec}: OpenCV could not open it as a '
                                   f'{"camera" if self.kind == "webcam" else "video"}')
        return capture

    def __iter__(self) -> Iterator[Frame]:
        if self.kind in ('folder', 'image'):
            for i, path in enumerate(self.paths):
                try:  # read_image also refuses a truncated JPEG, which cv2.imread returns grey
                    image, error = read_image(str(path), cv2.IMREAD_COLOR), ''
                except ImageFileError as err:
                    image, error = None, str(err)
                yield Frame(i, path.name, image, error)
            return
        capture = self._open_capture()
        try:
            index, bad = 0, 0
            while True:
                ok, image = capture.read()
                if ok and image is not None:
                    bad = 0
                    yield Frame(index, f'{self.name}:{index}', image)
                    index += 1
                    continue
                if self.kind == 'webcam' or (self.total and index >= self.total) or not self.total:
                    break  # the end of the stream
                bad += 1
                yield Frame(index, f'{self.name}:{index}', None, f'{self.spec}: frame {index} could '
                            f'not be decoded')
                index += 1
                if bad >= self.max_bad_frames:
                    break
        finally:
            capture.release()


def open_source(spec: str) -> FrameSource:
    """A ``FrameSource`` for ``spec`` (a video, an image folder, ``webcam:N`` or an image)."""
    return FrameSource(spec)


class VideoSink:
    """Writes frames to ``<out_dir>/<stem>.mp4`` (mp4v), or ``.avi`` (MJPG) when this OpenCV build
    has no MP4 encoder; opened at the first frame (its size is the video's)."""

    def __init__(self, out_dir: str, stem: str, fps: float):
        self.out_dir, self.stem, self.fps = Path(out_dir), stem, float(fps) or 25.0
        self.writer: Optional[cv2.VideoWriter] = None
        self.path: Optional[Path] = None
        self.size: Optional[Tuple[int, int]] = None

    def write(self, image: np.ndarray) -> None:
        size = (image.shape[1], image.shape[0])
        if self.writer is None:
            self.writer, self.path = open_video_writer(self.out_dir / self.stem, self.fps, size)
            self.size = size
        if size != self.size:  # a resolution change mid-stream: keep the first size
            image = cv2.resize(image, self.size, interpolation=cv2.INTER_AREA)
        self.writer.write(image)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.release()

    def __enter__(self) -> 'VideoSink':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_video_writer(path_stem: os.PathLike, fps: float, size: Tuple[int, int]):
    """An opened ``cv2.VideoWriter`` for ``<path_stem>.mp4`` (mp4v), else ``<path_stem>.avi``
    (MJPG), and the path it writes."""
    path_stem = Path(path_stem)
    for suffix, fourcc in (('.mp4', 'mp4v'), ('.avi', 'MJPG')):
        path = path_stem.with_name(path_stem.name + suffix)
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if writer.isOpened():
            return writer, path
        writer.release()
    raise OSError(f'OpenCV could not open a video writer (mp4v or MJPG) for {path_stem}')
