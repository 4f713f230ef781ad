"""Checkpoint files: atomic writes, validated and checksummed loads, finding the latest good one.

A checkpoint is a MindSpore ``.ckpt`` (protobuf, no pickle) holding named arrays plus one JSON
string ``sbpose_meta`` (epoch, iteration, random state, hook state...), which MindSpore appends
last, and a first record ``sbpose_num_arrays``: a file cut at a record boundary still parses, and
the count written first is what tells it is incomplete (without it such a file would load as a
plain checkpoint with fewer arrays and no meta).

Checksums: MindSpore's format has none, so a flipped bit inside an array's data loads silently.
The meta holds the CRC-32 of every array's bytes (``array_crc32``, as written by MindSpore) and
the first record holds, after the count, the CRC-32 of the meta text itself; a load recomputes
them and names the array (or the meta) that differs. Files without them (plain MindSpore
checkpoints, older sbpose files) load unchecked.

It is written to a temporary folder inside the work directory, flushed to disk, then renamed
into place, so a half-written file is never seen under a checkpoint name. ``last_checkpoint``
(a text file, also replaced atomically) names the newest one.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from .errors import CheckpointError

META_KEY = 'sbpose_meta'
COUNT_KEY = 'sbpose_num_arrays'  # first record: [how many arrays follow, CRC-32 of the meta text]
CRC_KEY = 'array_crc32'  # in the meta: {array name: CRC-32 of its bytes}
POINTER = 'last_checkpoint'
_EPOCH_RE = re.compile(r'^epoch_(\d+)\.ckpt$')

__all__ = ['CheckpointError', 'save_checkpoint', 'load_checkpoint', 'find_latest_checkpoint',
           'check_state_dict', 'assign_state', 'load_weights', 'atomic_write_text']


def crc32(array: np.ndarray) -> int:
    """CRC-32 of an array's bytes in C order (zlib's; ~1 GB/s, 0.4 s for a ResNet-50 training
    checkpoint with Adam moments)."""
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _fsync_file(path: Union[str, Path]) -> None:
    with open(path, 'rb') as f:
        os.fsync(f.fileno())


def atomic_write_text(path: Union[str, Path], text: str) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_checkpoint(path: Union[str, Path], arrays: Dict[str, np.ndarray], meta: dict) -> Path:
    """Write ``arrays`` (name -> array) and ``meta`` (JSON-able) to ``path`` atomically.

    On any failure (meta not JSON-able, unsupported dtype, disk full, missing folder) the previous
    file at ``path`` is left untouched, no file is left under a checkpoint name, and the error
    (``CheckpointError``) names the file.
    """
    import mindspore as ms
    path = Path(path)
    if not path.name.endswith('.ckpt'):
        raise ValueError(f'checkpoint path must end with .ckpt: {path}')
    reserved = sorted({META_KEY, COUNT_KEY} & set(arrays))
    if reserved:
        raise CheckpointError(f'could not save checkpoint {path}: array name(s) {reserved} are '
                              f'reserved for the checkpoint format')
    if CRC_KEY in meta:
        raise CheckpointError(f'could not save checkpoint {path}: meta key {CRC_KEY!r} is '
                              f'reserved for the checkpoint format')
    tmp_dir = None
    try:
        tensors = {k: ms.Tensor(np.ascontiguousarray(v)) for k, v in arrays.items()}
        # the checksum of what MindSpore will write (its dtype), not of the caller's array
        checksums = {k: crc32(t.asnumpy()) for k, t in tensors.items()}
        try:
            meta_text = json.dumps(dict(meta, num_arrays=len(arrays), **{CRC_KEY: checksums}))
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f'could not save checkpoint {path}: its meta is not JSON-able '
                                  f'({exc}); meta keys: {sorted(meta)}') from exc
        header = np.array([len(arrays), zlib.crc32(meta_text.encode())], np.int64)
        tmp_dir = tempfile.mkdtemp(dir=path.parent, prefix='.saving-')
        tmp = os.path.join(tmp_dir, path.name)
        params = [{'name': COUNT_KEY, 'data': ms.Tensor(header)}]
        params += [{'name': k, 'data': t} for k, t in tensors.items()]
        ms.save_checkpoint(params, tmp, append_dict={META_KEY: meta_text})
        _fsync_file(tmp)
        os.replace(tmp, path)
    except CheckpointError:
        raise
    except Exception as exc:  # MindSpore wraps I/O errors in RuntimeError, bad dtypes in TypeError
        raise CheckpointError(f'could not save checkpoint {path}: '
                              f'{type(exc).__name__}: {exc}') from exc
    finally:
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


def load_checkpoint(path: Union[str, Path]) -> Tuple[Dict[str, np.ndarray], dict]:
    """Read a checkpoint: ``(arrays, meta)``. ``meta`` is ``{}`` for a plain MindSpore checkpoint.

    Raises:
        CheckpointError: the file is missing, unreadable, truncated, inconsistent, or an array
            or the meta fails its checksum.
    """
    import mindspore as ms
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f'checkpoint not found: {path}')
    try:
        raw = ms.load_checkpoint(str(path))
    except Exception as exc:
        raise CheckpointError(f'checkpoint {path} is corrupt or not a MindSpore checkpoint: '
                              f'{type(exc).__name__}: {exc}') from exc
    meta: dict = {}
    arrays: Dict[str, np.ndarray] = {}
    written_count = meta_crc = None
    for name, value in raw.items():
        if name == COUNT_KEY:
            header = value.asnumpy().reshape(-1)
            written_count = int(header[0])
            meta_crc = int(header[1]) if header.size > 1 else None
        elif name == META_KEY:
            if meta_crc is not None and zlib.crc32(value.encode()) != meta_crc:
                raise CheckpointError(f'checkpoint {path}: its {META_KEY} record fails its '
                                      f'checksum: the file is corrupt')
            try:
                meta = json.loads(value)
            except (TypeError, ValueError) as exc:
                raise CheckpointError(f'checkpoint {path}: unreadable {META_KEY}: {exc}') from exc
        elif isinstance(value, str):
            continue
        else:
            arrays[name] = value.asnumpy()
    if written_count is not None and META_KEY not in raw:
        raise CheckpointError(f'checkpoint {path} has no {META_KEY} record (written last): the '
                              f'file is incomplete ({len(arrays)} of {written_count} arrays read)')
    expected = written_count if written_count is not None else meta.get('num_arrays')
    if expected is not None and expected != len(arrays):
        raise CheckpointError(f'checkpoint {path} holds {len(arrays)} arrays but was written with '
                              f'{expected}: the file is incomplete')
    verify_checksums(path, arrays, meta.pop(CRC_KEY, None))
    return arrays, meta


def verify_checksums(path: Union[str, Path], arrays: Dict[str, np.ndarray],
                     checksums: Optional[Dict[str, int]]) -> None:
    """Compare every array with the CRC-32 recorded when it was saved (nothing to compare for
    files saved without them); raise naming the arrays that differ."""
    if checksums is None:
        return
    unnamed = sorted(set(arrays) ^ set(checksums))
    if unnamed:
        raise CheckpointError(f'checkpoint {path}: array names {unnamed[:5]} differ from those it '
                              f'was written with: the file is corrupt')
    bad = [name for name, array in arrays.items() if crc32(array) != int(checksums[name])]
    if bad:
        shown = ', '.join(repr(n) for n in bad[:5]) + (f' ... ({len(bad)} in all)' if len(bad) > 5 else '')
        raise CheckpointError(f'checkpoint {path}: array {shown} fails its CRC-32 checksum (the '
                              f'data changed after it was written): the file is corrupt')


def write_pointer(work_dir: Union[str, Path], ckpt_path: Union[str, Path]) -> None:
    atomic_write_text(Path(work_dir) / POINTER, Path(ckpt_path).name + '\n')


def list_checkpoints(work_dir: Union[str, Path]) -> List[Path]:
    """``epoch_N.ckpt`` files of a work directory, newest epoch first."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        return []
    found = [(int(m.group(1)), work_dir / name) for name in os.listdir(work_dir)
             if (m := _EPOCH_RE.match(name))]
    return [p for _, p in sorted(found, reverse=True)]


def remove_stale_temporaries(work_dir: Union[str, Path]) -> List[Path]:
    """Delete what a process killed while saving left behind: ``.saving-*`` folders (each may hold
    a partial checkpoint as big as a full one) and ``.last_checkpoint.*.tmp`` files. Only call
    this when no other process is saving into ``work_dir``. Returns what was removed."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        return []
    stale = sorted(list(work_dir.glob('.saving-*')) + list(work_dir.glob(f'.{POINTER}.*.tmp')))
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def find_latest_checkpoint(work_dir: Union[str, Path], log=None) -> Optional[Path]:
    """The newest checkpoint of ``work_dir`` that loads, or None.

    Tries the ``last_checkpoint`` pointer first, then ``epoch_N.ckpt`` files from the newest
    epoch down; a corrupt file is reported through ``log`` (a callable) and skipped.
    """
    work_dir = Path(work_dir)
    candidates: List[Path] = []
    pointer = work_dir / POINTER
    if pointer.is_file():
        name = pointer.read_text().strip()
        if name:
            candidates.append(work_dir / name)
    candidates += [p for p in list_checkpoints(work_dir) if p not in candidates]
    for path in candidates:
        try:
            load_checkpoint(path)
            return path
        except CheckpointError as exc:
            if log is not None:
                log(f'skipping unusable checkpoint: {exc}')
    return None


def same_shape(saved: tuple, wanted: tuple) -> bool:
    """MindSpore stores a scalar parameter as shape (1,); that matches shape ()."""
    saved, wanted = tuple(saved), tuple(wanted)
    return saved == wanted or ({saved, wanted} <= {(), (1,)})


def check_state_dict(expected: Dict[str, tuple], arrays: Dict[str, np.ndarray],
                     source: str) -> None:
    """Compare names and shapes; raise listing missing, unexpected and mis-shaped parameters.

    ``load_param_into_net``'s strict flag cannot be trusted (it loads nothing and raises nothing
    in some cases), so the comparison is done here.
    """
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    misshaped = sorted(f'{k}: checkpoint {tuple(arrays[k].shape)} vs model {tuple(expected[k])}'
                       for k in set(expected) & set(arrays)
                       if not same_shape(arrays[k].shape, expected[k]))
    if missing or unexpected or misshaped:
        def fmt(title, items):
            if not items:
                return ''
            shown = ', '.join(items[:20]) + (f', ... ({len(items)} in all)' if len(items) > 20 else '')
            return f'\n  {title} ({len(items)}): {shown}'
        raise CheckpointError(f'checkpoint {source} does not match the model:'
                              + fmt('missing in checkpoint', missing)
                              + fmt('unexpected in checkpoint', unexpected)
                              + fmt('mis-shaped', misshaped))


OPTIMIZER_PREFIX = 'optimizer.'


def assign_state(params: Dict[str, Any], arrays: Dict[str, np.ndarray], source: str) -> None:
    """Check names/shapes (``check_state_dict``), then write ``arrays`` into ``params``.

    Values are written with ``ops.assign``: ``Parameter.set_data`` is not seen by kernels that
    already ran with the parameter (measured: a scheduled lr stayed at its first value).
    """
    import mindspore as ms
    from mindspore import ops
    check_state_dict({n: p.shape for n, p in params.items()}, arrays, source)
    for name, param in params.items():
        ops.assign(param, ms.Tensor(arrays[name].reshape(param.shape), dtype=param.dtype))


def load_weights(model, path: Union[str, Path]) -> dict:
    """Load a checkpoint's model weights into ``model`` (optimizer state ignored); returns meta."""
    arrays, meta = load_checkpoint(path)
    weights = {k: v for k, v in arrays.items() if not k.startswith(OPTIMIZER_PREFIX)}
    assign_state(dict(model.parameters_and_names()), weights, str(path))
    return meta
