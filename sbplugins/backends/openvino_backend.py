"""OpenVINO (CPU plugin) on an exported pose network, fp32 or bf16 (AMX-BF16 / AVX512-BF16)."""
from __future__ import annotations

import contextlib
import os
from typing import Dict, Iterator, Optional

import numpy as np

from .base import InferenceBackend

# OpenVINO's names for the precisions (its INFERENCE_PRECISION_HINT)
_HINTS = {'fp32': 'f32', 'bf16': 'bf16'}


@contextlib.contextmanager
def without_mindspore_isa_cap() -> Iterator[None]:
    """Hide ``ONEDNN_MAX_CPU_ISA`` while OpenVINO's own oneDNN reads it, then restore it.

    ``sbcore`` caps MindSpore's oneDNN at AVX2 (its AVX-512 path falls to a reference kernel).
    OpenVINO bundles another oneDNN that reads the same variable once, at its first compile:
    capped, its bf16 deconvolution cannot be created at all and fp32 ran 1.3x slower (Intel
    Xeon, ResNet-50 256x192 batch 8: 1.39 s vs 1.04 s). Each library caches the value it read,
    so MindSpore still sees the cap afterwards.
    """
    saved = os.environ.pop('ONEDNN_MAX_CPU_ISA', None)
    user_set = os.environ.get('SBPOSE_OPENVINO_ISA')
    if user_set:  # the user's choice for OpenVINO wins
        os.environ['ONEDNN_MAX_CPU_ISA'] = user_set
    try:
        yield
    finally:
        os.environ.pop('ONEDNN_MAX_CPU_ISA', None)
        if saved is not None:
            os.environ['ONEDNN_MAX_CPU_ISA'] = saved


class OpenVinoBackend(InferenceBackend):
    """``.onnx`` (or OpenVINO IR ``.xml``) -> heatmaps, through ``openvino``.

    One compiled model per batch size (static shapes let OpenVINO plan every layer for its
    shape); ``inference_topdown`` pads to a few batch sizes only (powers of two).

    Precision: ``fp32``, or ``bf16`` (convolutions in bf16 with fp32 accumulation; OpenVINO keeps
    the output in f32). Default: bf16 where the CPU has it, else fp32. Measured on the Intel Xeon
    (AMX-BF16), main-job model, synthetic val split with detection boxes and flip test: AP 0.6336
    in bf16 vs 0.6324 in fp32 (MindSpore and ONNX Runtime: 0.6324), so within the project's
    0.005 AP budget for a default; decoded keypoints moved 0.14 px on average (median 0, 99th
    percentile 3.5 px, a few joints with flat heatmaps jumped to another maximum).
    """

    name = 'openvino'
    suffixes = ('.onnx', '.xml')
    precisions = ('fp32', 'bf16')

    def __init__(self, model_file: str, precision: Optional[str] = None,
                 num_threads: Optional[int] = None):
        import openvino as ov
        with without_mindspore_isa_cap():
            self.core = ov.Core()
            self.has_bf16 = 'BF16' in self.core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES')
        super().__init__(model_file, precision, num_threads)
        with without_mindspore_isa_cap():
            self.model = self.core.read_model(self.model_file)
        if self.precision == 'bf16' and not self.has_bf16:
            from sbcore.errors import ConfigError
            raise ConfigError("backend 'openvino': precision 'bf16' needs a CPU with AMX-BF16 or "
                              "AVX512-BF16 (OpenVINO reports no BF16 capability here); use 'fp32'")
        self.config = {'INFERENCE_PRECISION_HINT': _HINTS[self.precision],
                       'INFERENCE_NUM_THREADS': self.num_threads,
                       'PERFORMANCE_HINT': 'LATENCY', 'NUM_STREAMS': 1}
        self._compiled: Dict[int, object] = {}

    def default_precision(self) -> str:
        return 'bf16' if self.has_bf16 else 'fp32'

    def _compiled_for(self, batch: int):
        if batch not in self._compiled:
            model = self.model.clone()
            shape = list(model.input(0).get_partial_shape())
            shape[0] = batch
            model.reshape({model.input(0).get_any_name(): shape})
            with without_mindspore_isa_cap():
                self._compiled[batch] = self.core.compile_model(model, 'CPU', self.config)
        return self._compiled[batch]

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(inputs, dtype=np.float32)
        compiled = self._compiled_for(x.shape[0])
        return np.asarray(compiled(x)[0], dtype=np.float32)
