"""The allowlist of the ``.pth`` reader (``pth_reader.py``): the only globals a weights file may
name, each a local, numpy-only stand-in (nothing from torch or the file is ever called), and the
unpickler that resolves globals through it alone.
"""
from __future__ import annotations

import collections
import pickle
from typing import Any, BinaryIO, Callable, Dict, Optional, Tuple

import numpy as np

from sbcore.errors import CheckpointError, UserError

# Storage class name -> numpy dtype of its elements (little-endian; byte order fixed on read).
# 'BFloat16' is read as its raw uint16 bit pattern and widened to float32 afterwards.
STORAGE_DTYPES: Dict[str, np.dtype] = {
    'FloatStorage': np.dtype('<f4'),
    'DoubleStorage': np.dtype('<f8'),
    'HalfStorage': np.dtype('<f2'),
    'BFloat16Storage': np.dtype('<u2'),
    'LongStorage': np.dtype('<i8'),
    'IntStorage': np.dtype('<i4'),
    'ShortStorage': np.dtype('<i2'),
    'CharStorage': np.dtype('i1'),
    'ByteStorage': np.dtype('u1'),
    'BoolStorage': np.dtype('?'),
    'ComplexFloatStorage': np.dtype('<c8'),
    'ComplexDoubleStorage': np.dtype('<c16'),
}


class UnsafePickleError(UserError, pickle.UnpicklingError):
    """The file names a global outside the allowlist; nothing from it was executed."""


class PthFormatError(CheckpointError):
    """The file is not a readable PyTorch checkpoint (or is inconsistent)."""


class StorageType:
    """Stands in for ``torch.<X>Storage``: a dtype marker only. Not callable on purpose, so a
    pickle that tries to construct a storage through REDUCE fails instead of doing anything."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]

    def __repr__(self) -> str:
        return f'torch.{self.name}'


class Storage:
    """A flat typed buffer: the elements of one storage as a 1-D numpy array (native order)."""

    def __init__(self, data: np.ndarray, bfloat16: bool):
        self.data = data
        self.bfloat16 = bfloat16


def _bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """Widen bfloat16 bit patterns (uint16) to float32: bfloat16 is the top half of a float32."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def rebuild_tensor(storage: Storage, storage_offset: int, size: Tuple[int, ...],
                   stride: Tuple[int, ...], *unused: Any) -> np.ndarray:
    """``torch._utils._rebuild_tensor(_v2)`` for numpy: a bounds-checked strided copy.

    The extra arguments of v2 (requires_grad, backward_hooks, metadata) carry no data.
    """
    if not isinstance(storage, Storage):
        raise PthFormatError(f'tensor rebuilt from {type(storage).__name__}, expected a storage')
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    offset = int(storage_offset)
    flat = storage.data
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride):
        raise PthFormatError(f'tensor with size {size} and stride {stride} is malformed')
    if 0 in size:
        out = np.empty(size, dtype=flat.dtype)
    else:
        # as_strided does no bounds checking: check that the last element lies in the storage.
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if offset < 0 or last >= flat.size:
            raise PthFormatError(f'tensor (size {size}, stride {stride}, offset {offset}) reaches '
                                 f'element {last} of a storage of {flat.size} elements')
        view = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=tuple(s * flat.itemsize for s in stride),
            writeable=False)
        out = np.array(view, order='C', copy=True)
    return _bfloat16_to_float32(out) if storage.bfloat16 else out


def rebuild_parameter(data: np.ndarray, requires_grad: bool, backward_hooks: Any) -> np.ndarray:
    """``torch._utils._rebuild_parameter``: a parameter is its data here."""
    if not isinstance(data, np.ndarray):
        raise PthFormatError(f'parameter rebuilt from {type(data).__name__}, expected a tensor')
    return data


def _numpy_dtype(spec: Any, align: bool = False, copy: bool = True) -> np.dtype:
    """``numpy.dtype`` limited to plain numeric dtypes (the pickle of a numpy scalar's dtype).

    Always a copy: the pickle's BUILD step calls ``__setstate__`` on the result, which must not
    touch numpy's shared built-in dtype objects.
    """
    if not isinstance(spec, str):
        raise PthFormatError(f'numpy dtype spec {spec!r} is not a string')
    dtype = np.dtype(spec, align=bool(align), copy=True)
    if dtype.kind not in 'biufc':
        raise PthFormatError(f'numpy dtype {dtype} is not numeric')
    return dtype


def _numpy_scalar(dtype: np.dtype, raw: bytes = b'') -> np.generic:
    """``numpy.core.multiarray.scalar`` for numeric dtypes: e.g. a metric saved beside weights."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in 'biufc':
        raise PthFormatError(f'numpy scalar of dtype {dtype!r} is not numeric')
    if not isinstance(raw, (bytes, bytearray)) or len(raw) != dtype.itemsize:
        raise PthFormatError(f'numpy scalar of {dtype} needs {dtype.itemsize} bytes')
    return np.frombuffer(bytes(raw), dtype=dtype)[0]


def _codecs_encode(text: str, encoding: str = 'utf-8') -> bytes:
    """``_codecs.encode``: how protocol-2 pickles written by Python 3 spell a ``bytes`` object."""
    if not isinstance(text, str) or encoding not in ('latin1', 'latin-1', 'utf-8', 'utf8'):
        raise PthFormatError(f'_codecs.encode({type(text).__name__}, {encoding!r}) not allowed')
    return text.encode(encoding)


# The whole allowlist: (module, name) -> the local stand-in returned to the unpickler.
_NUMPY_SCALAR = ('numpy.core.multiarray', 'numpy._core.multiarray')
ALLOWED_GLOBALS: Dict[Tuple[str, str], Any] = {
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('torch._utils', '_rebuild_tensor_v2'): rebuild_tensor,
    ('torch._utils', '_rebuild_tensor'): rebuild_tensor,
    ('torch._utils', '_rebuild_parameter'): rebuild_parameter,
    ('numpy', 'dtype'): _numpy_dtype,
    ('_codecs', 'encode'): _codecs_encode,
    **{(module, 'scalar'): _numpy_scalar for module in _NUMPY_SCALAR},
    **{('torch', name): StorageType(name) for name in STORAGE_DTYPES},
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves globals only through :data:`ALLOWED_GLOBALS`; storages via ``load_storage``."""

    def __init__(self, stream: BinaryIO, path: str,
                 load_storage: Optional[Callable[[tuple], Storage]]):
        super().__init__(stream)
        self._path = path
        self._load_storage = load_storage

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f'{self._path}: refusing to unpickle global {module}.{name}; a weights file may '
                f'only name tensors, storages and plain containers') from None

    def persistent_load(self, pid: Any) -> Storage:
        if self._load_storage is None:
            raise PthFormatError(f'{self._path}: unexpected persistent id {pid!r}')
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == 'storage'
                and isinstance(pid[1], StorageType) and isinstance(pid[4], int) and pid[4] >= 0):
            raise PthFormatError(f'{self._path}: persistent id {pid!r} is not a storage reference')
        return self._load_storage(pid)
