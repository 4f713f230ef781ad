"""Person detectors: ``detect(image) -> (boxes (N, 4) xywh float32, scores (N,) float32)``.

Built-ins (entry-point group ``sbpose.detectors``): ``BoxFileDetector`` (a COCO detection JSON),
``OpenCVPeopleDetector`` (OpenCV's HOG people detector) and ``OnnxDetector`` (a detector exported
to ONNX, run by ONNX Runtime). ``build_detector(cfg)`` builds one from a config dict.
"""
from .base import BaseDetector, build_detector, empty_detections

__all__ = ['BaseDetector', 'build_detector', 'empty_detections']
