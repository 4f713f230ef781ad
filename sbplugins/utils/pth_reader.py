"""Read PyTorch ``.pth``/``.pt`` files into numpy arrays without importing torch.

A ``.pth`` file is a pickle, and unpickling runs whatever callables the file names. This reader
unpickles with an allowlist: the only globals a file may name are the few that plain tensors and
containers need, and each is replaced by a local, numpy-only re-implementation (nothing from torch
or the file is ever called). Anything else raises :class:`UnsafePickleError` naming the file and the
global, before any of the file's code could run.

Both serialisation formats are read:

- zip (``torch.save`` since 1.6): ``<root>/data.pkl`` + one raw storage per ``<root>/data/<key>``,
  ``<root>/byteorder`` ('little' or 'big'; absent means little);
- legacy (``_use_new_zipfile_serialization=False``, and every file saved by torch < 1.6 such as
  the released SimpleBaseline weights): a chain of pickles (magic number, protocol version, system
  info, the object, the storage keys) followed by each storage as an int64 element count and its
  raw bytes.

Tensors come back as C-contiguous ``np.ndarray`` copies (strides and storage offsets applied);
bfloat16, which numpy lacks, is widened exactly to float32.
"""
from __future__ import annotations

import collections
import io
import os
import pickle
import zipfile
from typing import Any, BinaryIO, Callable, Dict, Optional, Tuple

import numpy as np

from sbcore.errors import CheckpointError, UserError

__all__ = ['UnsafePickleError', 'PthFormatError', 'read_pth', 'load_state_dict']

# torch's legacy format opens with this pickled int (torch/serialization.py MAGIC_NUMBER).
LEGACY_MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL_VERSION = 1001

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


class _StorageType:
    """Stands in for ``torch.<X>Storage``: a dtype marker only. Not callable on purpose, so a
    pickle that tries to construct a storage through REDUCE fails instead of doing anything."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = STORAGE_DTYPES[name]

    def __repr__(self) -> str:
        return f'torch.{self.name}'


class _Storage:
    """A flat typed buffer: the elements of one storage as a 1-D numpy array (native order)."""

    def __init__(self, data: np.ndarray, bfloat16: bool):
        self.data = data
        self.bfloat16 = bfloat16


def _bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """Widen bfloat16 bit patterns (uint16) to float32: bfloat16 is the top half of a float32."""
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _rebuild_tensor(storage: _Storage, storage_offset: int, size: Tuple[int, ...],
                    stride: Tuple[int, ...], *unused: Any) -> np.ndarray:
    """``torch._utils._rebuild_tensor(_v2)`` for numpy: a bounds-checked strided copy.

    The extra arguments of v2 (requires_grad, backward_hooks, metadata) carry no data.
    """
    if not isinstance(storage, _Storage):
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


def _rebuild_parameter(data: np.ndarray, requires_grad: bool, backward_hooks: Any) -> np.ndarray:
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
    ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
    ('torch._utils', '_rebuild_tensor'): _rebuild_tensor,
    ('torch._utils', '_rebuild_parameter'): _rebuild_parameter,
    ('numpy', 'dtype'): _numpy_dtype,
    ('_codecs', 'encode'): _codecs_encode,
    **{(module, 'scalar'): _numpy_scalar for module in _NUMPY_SCALAR},
    **{('torch', name): _StorageType(name) for name in STORAGE_DTYPES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves globals only through :data:`ALLOWED_GLOBALS`; storages via ``load_storage``."""

    def __init__(self, stream: BinaryIO, path: str,
                 load_storage: Optional[Callable[[tuple], _Storage]]):
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

    def persistent_load(self, pid: Any) -> _Storage:
        if self._load_storage is None:
            raise PthFormatError(f'{self._path}: unexpected persistent id {pid!r}')
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == 'storage'
                and isinstance(pid[1], _StorageType) and isinstance(pid[4], int) and pid[4] >= 0):
            raise PthFormatError(f'{self._path}: persistent id {pid!r} is not a storage reference')
        return self._load_storage(pid)


def _to_native(raw: bytes, dtype: np.dtype, big_endian: bool) -> np.ndarray:
    data = np.frombuffer(raw, dtype=dtype.newbyteorder('>') if big_endian else dtype)
    return data.astype(dtype.newbyteorder('='), copy=False) if big_endian else data


def _read_zip(path: str, archive: zipfile.ZipFile) -> Any:
    pkl_names = [n for n in archive.namelist() if n.endswith('data.pkl') and n.count('/') == 1]
    if len(pkl_names) != 1:
        raise PthFormatError(f'{path}: zip checkpoint needs one <root>/data.pkl, found {pkl_names}')
    root = pkl_names[0][:-len('data.pkl')]
    names = set(archive.namelist())
    byteorder = 'little'
    if root + 'byteorder' in names:
        byteorder = archive.read(root + 'byteorder').decode('ascii').strip()
        if byteorder not in ('little', 'big'):
            raise PthFormatError(f'{path}: byteorder {byteorder!r}, expected little or big')
    cache: Dict[str, _Storage] = {}

    def load_storage(pid: tuple) -> _Storage:
        storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
        if key not in cache:
            member = f'{root}data/{key}'
            if member not in names:
                raise PthFormatError(f'{path}: storage {member} is missing')
            raw = archive.read(member)
            if len(raw) < numel * storage_type.dtype.itemsize:
                raise PthFormatError(f'{path}: storage {member} holds {len(raw)} bytes, '
                                     f'expected {numel} x {storage_type.dtype.itemsize}')
            raw = raw[:numel * storage_type.dtype.itemsize]
            cache[key] = _Storage(_to_native(raw, storage_type.dtype, byteorder == 'big'),
                                  storage_type.name == 'BFloat16Storage')
        return cache[key]

    stream = io.BytesIO(archive.read(pkl_names[0]))
    return _RestrictedUnpickler(stream, path, load_storage).load()


def _read_legacy(path: str, stream: BinaryIO) -> Any:
    def plain_load() -> Any:  # the header pickles hold no globals and no storages
        return _RestrictedUnpickler(stream, path, None).load()

    try:
        magic = plain_load()
    except UnsafePickleError:
        raise
    except Exception as exc:
        raise PthFormatError(f'{path}: neither a zip nor a legacy PyTorch checkpoint '
                             f'({exc})') from exc
    if magic != LEGACY_MAGIC_NUMBER:
        raise PthFormatError(f'{path}: not a PyTorch checkpoint (first pickle is {magic!r:.60}, '
                             f'expected the legacy magic number)')
    version = plain_load()
    if version != LEGACY_PROTOCOL_VERSION:
        raise PthFormatError(f'{path}: legacy protocol {version!r}, '
                             f'expected {LEGACY_PROTOCOL_VERSION}')
    sys_info = plain_load()
    big_endian = isinstance(sys_info, dict) and sys_info.get('little_endian') is False

    storages: Dict[str, Tuple[_StorageType, int]] = {}
    pending: Dict[str, _Storage] = {}

    def load_storage(pid: tuple) -> _Storage:
        storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
        if len(pid) > 5 and pid[5] is not None:
            raise PthFormatError(f'{path}: storage views (torch < 0.4 files) are not supported')
        if key not in pending:  # filled in once the bytes that follow the pickle are read
            pending[key] = _Storage(np.empty(0, storage_type.dtype),
                                    storage_type.name == 'BFloat16Storage')
            storages[key] = (storage_type, numel)
        return pending[key]

    # Tensors need their storage bytes, which follow the object pickle: unpickle with storage
    # placeholders first, then fill them and rebuild. Rebuilding is deferred by recording calls.
    deferred = _DeferredTensors()
    obj = _DeferredUnpickler(stream, path, load_storage, deferred).load()
    keys = plain_load()
    if not isinstance(keys, list) or set(map(str, keys)) != set(storages):
        raise PthFormatError(f'{path}: storage key list does not match the tensors in the pickle')
    for key in map(str, keys):
        storage_type, numel = storages[key]
        count = int(np.frombuffer(_read_exact(stream, 8, path), '>i8' if big_endian else '<i8')[0])
        if count != numel:
            raise PthFormatError(f'{path}: storage {key} has {count} elements, expected {numel}')
        raw = _read_exact(stream, numel * storage_type.dtype.itemsize, path)
        pending[key].data = _to_native(raw, storage_type.dtype, big_endian)
    return deferred.resolve(obj)


def _read_exact(stream: BinaryIO, n: int, path: str) -> bytes:
    raw = stream.read(n)
    if len(raw) != n:
        raise PthFormatError(f'{path}: truncated (wanted {n} bytes, got {len(raw)})')
    return raw


class _PendingTensor:
    """A tensor whose storage bytes have not been read yet (legacy format)."""

    def __init__(self, rebuild: Callable, args: tuple):
        self.rebuild, self.args = rebuild, args


class _DeferredTensors:
    """Replaces pending tensors in the unpickled object once all storages are filled."""

    def resolve(self, obj: Any) -> Any:
        if isinstance(obj, _PendingTensor):
            args = tuple(self.resolve(a) if isinstance(a, _PendingTensor) else a for a in obj.args)
            return obj.rebuild(*args)
        if isinstance(obj, dict):  # in place: an OrderedDict keeps its _metadata attribute
            for key in list(obj):
                obj[key] = self.resolve(obj[key])
            return obj
        if isinstance(obj, list):
            return [self.resolve(v) for v in obj]
        if isinstance(obj, tuple):
            return tuple(self.resolve(v) for v in obj)
        return obj


class _DeferredUnpickler(_RestrictedUnpickler):
    """Same allowlist; the tensor rebuilders are wrapped to run after the storages are read."""

    def __init__(self, stream, path, load_storage, deferred: _DeferredTensors):
        super().__init__(stream, path, load_storage)
        self._deferred = deferred

    def find_class(self, module: str, name: str) -> Any:
        found = super().find_class(module, name)
        if found in (_rebuild_tensor, _rebuild_parameter):
            return lambda *args: _PendingTensor(found, args)
        return found


def read_pth(path: os.PathLike) -> Any:
    """Load a ``.pth``/``.pt`` file with tensors as numpy arrays; only allowlisted globals.

    Returns:
        The saved object (dicts, lists, tuples, numbers, strings, ``np.ndarray`` for tensors).

    Raises:
        UnsafePickleError: the file names a global outside :data:`ALLOWED_GLOBALS`.
        PthFormatError: the file is not a PyTorch checkpoint, or is truncated/inconsistent.
    """
    path = os.fspath(path)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return _read_zip(path, archive)
    with open(path, 'rb') as stream:
        return _read_legacy(path, stream)


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
