"""The model's own MindSpore cell, as a backend (what ``init_model`` runs by default)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .base import InferenceBackend


class MindSporeBackend(InferenceBackend):
    """Runs ``estimator`` (a ``TopdownPoseEstimator`` with its weights loaded) on the crops.

    ``model_file`` is the ``.ckpt`` the estimator was loaded from (recorded for the log line).
    """

    name = 'mindspore'
    suffixes = ('.ckpt',)
    precisions = ('fp32',)

    def __init__(self, model_file: str, precision: Optional[str] = None,
                 num_threads: Optional[int] = None, estimator=None):
        super().__init__(model_file, precision, num_threads)
        if estimator is None:
            raise ValueError("backend 'mindspore' needs the estimator (init_model builds it)")
        self.estimator = estimator

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        import mindspore
        return self.estimator(mindspore.Tensor(np.ascontiguousarray(inputs))).asnumpy()
