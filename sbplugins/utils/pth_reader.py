"""Read PyTorch ``.pth``/``.pt`` files into numpy arrays without importing torch.

A ``.pth`` file is a pickle, and unpickling runs whatever callables the file names. This reader
unpickles with an allowlist: the only globals a file may name are the few that plain tensors and
containers need, and each is replaced by a local, numpy-only re-implementation (nothing from torch
or the file is ever called). Anything else raises :class:`UnsafePickleError` naming the file and the
global, before any of the file's code could run. The allowlist and its stand-ins are
``pth_unpickler.py``.

Both serialisation formats are read (their layouts: ``pth_formats.py``): zip (``torch.save`` since
1.6) and legacy (``_use_new_zipfile_serialization=False``, and every file saved by torch < 1.6
such as the released SimpleBaseline weights).

Tensors come back as C-contiguous ``np.ndarray`` copies (strides and storage offsets applied);
bfloat16, which numpy lacks, is widened exactly to float32.
"""
from __future__ import annotations

import os
import zipfile
from typing import Any, Dict

import numpy as np

from sbplugins.utils.pth_formats import read_legacy, read_zip
from sbplugins.utils.pth_unpickler import PthFormatError, UnsafePickleError

__all__ = ['UnsafePickleError', 'PthFormatError', 'read_pth', 'load_state_dict']


def read_pth(path: os.PathLike) -> Any:
    """Load a ``.pth``/``.pt`` file with tensors as numpy arrays; only allowlisted globals.

    Returns:
        The saved object (dicts, lists, tuples, numbers, strings, ``np.ndarray`` for tensors).

    Raises:
        UnsafePickleError: the file names a global outside the allowlist
            (``pth_unpickler.ALLOWED_GLOBALS``).
        PthFormatError: the file is not a PyTorch checkpoint, or is truncated/inconsistent.
    """
    path = os.fspath(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return read_zip(path, archive)
    with open(path, 'rb') as stream:
        return read_legacy(path, stream)


def load_state_dict(path: os.PathLike) -> Dict[str, np.ndarray]:
    """The state dict in a checkpoint, as ``{name: array}`` with any ``module.`` prefix stripped.

    Accepts a plain state dict, one saved from ``DataParallel`` (``module.`` names), or a training
    checkpoint dict holding it under ``state_dict`` or ``model``.
    """
    obj = read_pth(path)
    if isinstance(obj, dict):
        for wrapper_key in ('state_dict', 'model'):
            if isinstance(obj.get(wrapper_key), dict):
                obj = obj[wrapper_key]
                break
    if not isinstance(obj, dict) or not obj:
        raise PthFormatError(f'{path}: expected a state dict (name -> tensor), '
                             f'got {type(obj).__name__}')
    state = {}
    for name, value in obj.items():
        if not isinstance(name, str) or not isinstance(value, np.ndarray) \
                or value.dtype.kind not in 'biufc':
            raise PthFormatError(f'{path}: state dict entry {name!r} is {type(value).__name__} '
                                 f'{getattr(value, "dtype", "")}, expected a numeric tensor')
        state[name[len('module.'):] if name.startswith('module.') else name] = value
    return state
