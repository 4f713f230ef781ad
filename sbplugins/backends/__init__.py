"""Inference backends: run an exported pose network outside MindSpore.

A backend maps normalised crops (N, 3, H, W) float32 to heatmaps (N, K, h, w) float32, exactly
what ``TopdownPoseEstimator`` computes with its own cell; preprocessing, the flip test's
mirror-and-average, decoding and the crop-to-image transform stay in the estimator (numpy), so
every backend shares them. Backends are registered in ``sbplugins.registries.INFERENCE_BACKENDS``
(entry-point group ``sbpose.backends``):

- ``mindspore``: the model's own cell (``init_model``'s default; reads a ``.ckpt``).
- ``onnxruntime``: ONNX Runtime's CPU provider on the file of ``tools/export.py --format onnx``.
- ``openvino``: OpenVINO's CPU plugin on the same file; ``precision='bf16'`` uses AMX-BF16 /
  AVX512-BF16 where the CPU has them (docs/benchmarks.md has its accuracy effect).
"""
from .base import InferenceBackend, build_backend, cpu_threads

__all__ = ['InferenceBackend', 'build_backend', 'cpu_threads']
