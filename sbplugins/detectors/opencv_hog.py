"""``OpenCVPeopleDetector``: OpenCV's built-in HOG + linear SVM people detector (no download)."""
from __future__ import annotations

from typing import Sequence, Tuple

import cv2
import numpy as np

from sbplugins.utils.geometry.boxes import nms_boxes

from .base import BaseDetector


class OpenCVPeopleDetector(BaseDetector):
    """Dalal-Triggs HOG people detector (``cv2.HOGDescriptor_getDefaultPeopleDetector``, a 64x128
    window) over an image pyramid, with box NMS.

    The SVM margin is mapped to a score in (0, 1) by ``sigmoid(margin_scale * margin)`` so that
    the score thresholds of the tracker (0.5 in the paper) mean the same for every detector:
    margin 0, the SVM's own decision boundary, is score 0.5.

    Args:
        win_stride: (x, y) step of the detection window in pixels.
        padding: (x, y) padding added around the image.
        scale: pyramid step (> 1; smaller finds more sizes, slower).
        hit_threshold: SVM margin below which windows are not reported.
        min_size: (w, h) upscales images smaller than this before detection (the window is 64x128).
        margin_scale: slope of the margin-to-score sigmoid.
        nms_thr: IoU above which a lower-scoring box is suppressed.
        score_thr: boxes scoring below this are dropped.
    """

    def __init__(self, win_stride: Sequence[int] = (8, 8), padding: Sequence[int] = (8, 8),
                 scale: float = 1.05, hit_threshold: float = 0.0,
                 min_size: Sequence[int] = (0, 0), margin_scale: float = 2.0,
                 nms_thr: float = 0.45, score_thr: float = 0.0):
        super().__init__(score_thr)
        self.win_stride = tuple(int(v) for v in win_stride)
        self.padding = tuple(int(v) for v in padding)
        self.scale = float(scale)
        self.hit_threshold = float(hit_threshold)
        self.min_size = tuple(int(v) for v in min_size)
        self.margin_scale = float(margin_scale)
        self.nms_thr = float(nms_thr)
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def _detect(self, image: np.ndarray, frame_info: dict) -> Tuple[np.ndarray, np.ndarray]:
        h, w = image.shape[:2]
        zoom = max(1.0, self.min_size[0] / max(w, 1), self.min_size[1] / max(h, 1))
        if zoom > 1.0:
            image = cv2.resize(image, (int(round(w * zoom)), int(round(h * zoom))),
                               interpolation=cv2.INTER_LINEAR)
        if image.shape[0] < 128 or image.shape[1] < 64:  # smaller than the HOG window
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        rects, margins = self.hog.detectMultiScale(
            image, hitThreshold=self.hit_threshold, winStride=self.win_stride,
            padding=self.padding, scale=self.scale)
        if len(rects) == 0:
            return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
        boxes = np.asarray(rects, np.float32).reshape(-1, 4) / zoom
        scores = 1.0 / (1.0 + np.exp(-self.margin_scale * np.asarray(margins, np.float64).reshape(-1)))
        keep = nms_boxes(boxes, scores, self.nms_thr)
        return boxes[keep], scores[keep].astype(np.float32)
