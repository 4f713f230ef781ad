"""The backend contract and its builder."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from sbcore.env import cpu_threads
from sbcore.errors import ConfigError, MissingFileError


class InferenceBackend:
    """``backend(inputs) -> heatmaps``: (N, 3, H, W) float32 normalised crops -> (N, K, h, w).

    Subclasses set ``name``, ``suffixes`` (model files they read) and ``precisions`` (the first
    is the default), and implement ``__call__``. ``num_threads`` None uses every CPU of the
    process.
    """

    name = ''
    suffixes: tuple = ()
    precisions: tuple = ('fp32',)

    def __init__(self, model_file: str, precision: Optional[str] = None,
                 num_threads: Optional[int] = None):
        path = Path(model_file)
        if self.suffixes and path.suffix.lower() not in self.suffixes:
            hint = (' (export one with: python tools/export.py --config CFG --ckpt CKPT '
                    '--format onnx --out model.onnx)' if '.onnx' in self.suffixes else '')
            raise ConfigError(f'backend {self.name!r}: model file {model_file} must end with '
                              f'{" or ".join(self.suffixes)}{hint}')
        if not path.is_file():
            raise MissingFileError(f'backend {self.name!r}: model file {model_file} not found')
        precision = self.default_precision() if precision is None else precision
        if precision not in self.precisions:
            raise ConfigError(f'backend {self.name!r}: precision {precision!r} is not one of '
                              f'{self.precisions}')
        self.model_file = str(path)
        self.precision = precision
        self.num_threads = int(num_threads) if num_threads else cpu_threads()

    def default_precision(self) -> str:
        return self.precisions[0]

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def describe(self) -> str:
        """One line for logs: backend, precision, threads, file."""
        return (f'backend={self.name} precision={self.precision} threads={self.num_threads} '
                f'model={self.model_file}')


def build_backend(name: str, model_file: str, precision: Optional[str] = None,
                  num_threads: Optional[int] = None, **kwargs) -> InferenceBackend:
    """The registered backend ``name`` (an unknown name is an error listing the known ones);
    ``kwargs`` go to its constructor (``estimator=`` for 'mindspore')."""
    from sbplugins.registries import INFERENCE_BACKENDS
    backend_cls = INFERENCE_BACKENDS.get(name)
    return backend_cls(model_file, precision=precision, num_threads=num_threads, **kwargs)
