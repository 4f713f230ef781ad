"""ONNX Runtime (CPU execution provider) on an exported pose network."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import InferenceBackend


class OnnxRuntimeBackend(InferenceBackend):
    """``tools/export.py --format onnx`` file -> heatmaps, through ``onnxruntime``.

    fp32 only: ONNX Runtime's CPU provider has no bf16 convolution (fp16 runs through casts).
    All graph optimisations on (it folds BatchNorm into the convolutions); ``num_threads`` intra-op
    threads, one inter-op thread (the network is a chain).
    """

    name = 'onnxruntime'
    suffixes = ('.onnx',)
    precisions = ('fp32',)

    def __init__(self, model_file: str, precision: Optional[str] = None,
                 num_threads: Optional[int] = None):
        super().__init__(model_file, precision, num_threads)
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = self.num_threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(self.model_file, options,
                                            providers=['CPUExecutionProvider'])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        return self.session.run(None, {self.input_name: x})[0]
