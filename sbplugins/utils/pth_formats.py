"""The two layouts of a PyTorch checkpoint, read through the allowlisted unpickler
(``pth_unpickler.py``):

- zip (``torch.save`` since 1.6): ``<root>/data.pkl`` + one raw storage per ``<root>/data/<key>``,
  ``<root>/byteorder`` ('little' or 'big'; absent means little);
- legacy (``_use_new_zipfile_serialization=False``, and every file saved by torch < 1.6 such as
  the released SimpleBaseline weights): a chain of pickles (magic number, protocol version, system
  info, the object, the storage keys) followed by each storage as an int64 element count and its
  raw bytes.
"""
from __future__ import annotations

import io
import zipfile
from typing import Any, BinaryIO, Callable, Dict, Tuple

import numpy as np

from sbplugins.utils.pth_unpickler import (PthFormatError, RestrictedUnpickler, Storage,
                                           StorageType, UnsafePickleError, rebuild_parameter,
                                           rebuild_tensor)

# torch's legacy format opens with this pickled int (torch/serialization.py MAGIC_NUMBER).
LEGACY_MAGIC_NUMBER = 0x1950a86a20f9469cfc6c
LEGACY_PROTOCOL_VERSION = 1001


def _to_native(raw: bytes, dtype: np.dtype, big_endian: bool) -> np.ndarray:
    data = np.frombuffer(raw, dtype=dtype.newbyteorder('>') if big_endian else dtype)
    return data.astype(dtype.newbyteorder('='), copy=False) if big_endian else data


def read_zip(path: str, archive: zipfile.ZipFile) -> Any:
    """The object saved in a zip checkpoint; each storage read (once) from its own member."""
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
    cache: Dict[str, Storage] = {}

    def load_storage(pid: tuple) -> Storage:
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
            cache[key] = Storage(_to_native(raw, storage_type.dtype, byteorder == 'big'),
                                 storage_type.name == 'BFloat16Storage')
        return cache[key]

    stream = io.BytesIO(archive.read(pkl_names[0]))
    return RestrictedUnpickler(stream, path, load_storage).load()


def read_legacy(path: str, stream: BinaryIO) -> Any:
    """The object saved in a legacy checkpoint; ``stream`` is read from its start to its last
    storage."""
    def plain_load() -> Any:  # the header pickles hold no globals and no storages
        return RestrictedUnpickler(stream, path, None).load()

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

    storages: Dict[str, Tuple[StorageType, int]] = {}
    pending: Dict[str, Storage] = {}

    def load_storage(pid: tuple) -> Storage:
        storage_type, key, numel = pid[1], str(pid[2]), int(pid[4])
        if len(pid) > 5 and pid[5] is not None:
            raise PthFormatError(f'{path}: storage views (torch < 0.4 files) are not supported')
        if key not in pending:  # filled in once the bytes that follow the pickle are read
            pending[key] = Storage(np.empty(0, storage_type.dtype),
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


class _DeferredUnpickler(RestrictedUnpickler):
    """Same allowlist; the tensor rebuilders are wrapped to run after the storages are read."""

    def __init__(self, stream, path, load_storage, deferred: _DeferredTensors):
        super().__init__(stream, path, load_storage)
        self._deferred = deferred

    def find_class(self, module: str, name: str) -> Any:
        found = super().find_class(module, name)
        if found in (rebuild_tensor, rebuild_parameter):
            return lambda *args: _PendingTensor(found, args)
        return found
