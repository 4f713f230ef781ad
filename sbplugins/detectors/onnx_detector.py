"""``OnnxDetector``: a person detector exported to ONNX (YOLOX, YOLOv8, RTMDet), run by ONNX Runtime.

Pre-processing: the image is letterboxed into ``input_size`` (aspect kept, padded with
``pad_value``, top-left or centred), optionally turned to RGB, then ``(pixel - mean) / std``, as
an (1, 3, H, W) float32 tensor. Output decodings (``output_format``), all in input pixels:

- ``'yolov8'`` (Ultralytics export): one output (1, 4 + C, N): cx, cy, w, h, then C class scores;
  score = the person class's score.
- ``'yolox'`` (YOLOX export with ``decode_in_inference``): one output (1, N, 5 + C): cx, cy, w, h,
  objectness, C class scores; score = objectness * class score.
- ``'xyxy_score_label'`` (MMDeploy export of RTMDet and other MMDetection models): outputs
  ``dets`` (1, N, 5) x1, y1, x2, y2, score and ``labels`` (1, N) class ids.

Boxes are mapped back to the image (letterbox undone), clipped to it, kept if their score is at
least ``score_thr``, then merged by box NMS (``nms_thr``).
"""
from __future__ import annotations

from typing import Sequence, Tuple

import cv2
import numpy as np

from sbcore.errors import ConfigError, MissingFileError
from sbplugins.utils.geometry.boxes import nms_boxes

from .base import BaseDetector

OUTPUT_FORMATS = ('yolov8', 'yolox', 'xyxy_score_label')


class OnnxDetector(BaseDetector):
    """Person detection with an ONNX model in an ONNX Runtime session.

    Args:
        model_file: the ``.onnx`` file.
        output_format: one of ``OUTPUT_FORMATS`` (see the module docstring).
        input_size: (w, h) of the network input.
        person_class: the person's class index among the model's classes (0 in COCO-80 models).
        mean, std: per-channel normalisation in the channel order fed to the network.
        bgr_to_rgb: feed RGB (the image comes in BGR).
        pad_value: letterbox padding grey.
        pad_center: centre the image in the letterbox (YOLOv8) rather than top-left (YOLOX, RTMDet).
        score_thr: boxes scoring below this are dropped.
        nms_thr: IoU above which a lower-scoring box is suppressed.
        providers: ONNX Runtime execution providers (CPU by default).
    """

    def __init__(self, model_file: str, output_format: str = 'yolox',
                 input_size: Sequence[int] = (640, 640), person_class: int = 0,
                 mean: Sequence[float] = (0.0, 0.0, 0.0), std: Sequence[float] = (1.0, 1.0, 1.0),
                 bgr_to_rgb: bool = False, pad_value: int = 114, pad_center: bool = False,
                 score_thr: float = 0.3, nms_thr: float = 0.45,
                 providers: Sequence[str] = ('CPUExecutionProvider',)):
        super().__init__(score_thr)
        if output_format not in OUTPUT_FORMATS:
            raise ConfigError(f'OnnxDetector: output_format must be one of {OUTPUT_FORMATS}, '
                              f'got {output_format!r}')
        import os
        if not os.path.isfile(model_file):
            raise MissingFileError(f'OnnxDetector: model_file {model_file} not found')
        import onnxruntime
        self.session = onnxruntime.InferenceSession(model_file, providers=list(providers))
        self.input_name = self.session.get_inputs()[0].name
        self.output_format = output_format
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.person_class = int(person_class)
        self.mean = np.asarray(mean, np.float32).reshape(3, 1, 1)
        self.std = np.asarray(std, np.float32).reshape(3, 1, 1)
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.pad_value = int(pad_value)
        self.pad_center = bool(pad_center)
        self.nms_thr = float(nms_thr)

    def preprocess(self, image: np.ndarray) -> Tuple[np.ndarray, float, np.ndarray]:
        """The (1, 3, H, W) float32 network input, the letterbox zoom and its (x, y) offset."""
        h, w = image.shape[:2]
        in_w, in_h = self.input_size
        zoom = min(in_w / w, in_h / h)
        new_w, new_h = max(1, int(round(w * zoom))), max(1, int(round(h * zoom)))
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        offset = np.array([(in_w - new_w) // 2, (in_h - new_h) // 2] if self.pad_center else [0, 0])
        canvas = np.full((in_h, in_w, 3), self.pad_value, np.uint8)
        canvas[offset[1]:offset[1] + new_h, offset[0]:offset[0] + new_w] = resized
        if self.bgr_to_rgb:
            canvas = canvas[..., ::-1]
        tensor = (canvas.transpose(2, 0, 1).astype(np.float32) - self.mean) / self.std
        return tensor[None], zoom, offset.astype(np.float32)

    def decode(self, outputs: Sequence[np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
        """Person boxes (N, 4) xyxy in input pixels and scores (N,) from the raw outputs."""
        if self.output_format == 'yolov8':
            pred = np.asarray(outputs[0], np.float32)[0].T  # (N, 4 + C)
            cxcywh, scores = pred[:, :4], pred[:, 4 + self.person_class]
        elif self.output_format == 'yolox':
            pred = np.asarray(outputs[0], np.float32)[0]  # (N, 5 + C)
            cxcywh, scores = pred[:, :4], pred[:, 4] * pred[:, 5 + self.person_class]
        else:
            dets = np.asarray(outputs[0], np.float32)[0]  # (N, 5)
            labels = np.asarray(outputs[1]).reshape(-1)
            person = labels == self.person_class
            return dets[person, :4], dets[person, 4]
        xyxy = np.concatenate([cxcywh[:, :2] - cxcywh[:, 2:] / 2,
                               cxcywh[:, :2] + cxcywh[:, 2:] / 2], axis=1)
        return xyxy, scores

    def _detect(self, image: np.ndarray, frame_info: dict) -> Tuple[np.ndarray, np.ndarray]:
        tensor, zoom, offset = self.preprocess(image)
        outputs = self.session.run(None, {self.input_name: tensor})
        xyxy, scores = self.decode(outputs)
        h, w = image.shape[:2]
        xyxy = (xyxy - np.tile(offset, 2)) / zoom
        xyxy[:, 0::2] = np.clip(xyxy[:, 0::2], 0, w)
        xyxy[:, 1::2] = np.clip(xyxy[:, 1::2], 0, h)
        boxes = np.concatenate([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], axis=1)
        keep = scores >= self.score_thr
        boxes, scores = boxes[keep], scores[keep]
        keep = nms_boxes(boxes, scores, self.nms_thr)
        return boxes[keep], scores[keep]
