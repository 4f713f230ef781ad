"""Reading Python-file configs: run each file, follow ``_base_``, merge the values.

A config is a ``.py`` file; its public module-level variables (names not starting with ``_``, and
not modules, functions or classes) are the config. ``_base_`` names one base file or a list of
them, relative to the file. The bases are merged in order, then the file's own values over them:
dicts merge recursively, everything else (lists included) is replaced. A dict carrying
``_delete_=True`` replaces the base's dict instead of merging into it. A file cannot read its
bases' values (each file runs on its own); it states what it changes and the merge does the rest.
"""
from __future__ import annotations

import __future__
import os
import traceback
import types
from pathlib import Path
from typing import Any, Dict, List, Sequence

from .errors import ConfigError

BASE_KEY = '_base_'
DELETE_KEY = '_delete_'


# ------------------------------------------------------------------------------------ merging

def merge_values(base: Any, override: Any, where: str = '') -> Any:
    """``override`` merged over ``base`` (neither is modified): two dicts merge key by key,
    recursively; anything else replaces ``base`` (lists too), as does a dict carrying
    ``_delete_=True`` or a dict over ``None``.

    ``where`` is the key path so far, for error messages.
    """
    if not isinstance(override, dict) or override.get(DELETE_KEY, False) or base is None:
        return override
    if not isinstance(base, dict):
        raise ConfigError(f'{where}: a dict cannot be merged into the base value {base!r} '
                          f'(a {type(base).__name__}); set {DELETE_KEY}=True in the dict to '
                          f'replace the base value')
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge_values(merged.get(key), value, f'{where}.{key}' if where else str(key))
    return merged


def to_plain(value: Any) -> Any:
    """``value`` with its dicts, lists and tuples rebuilt as plain ones at any depth, and every
    ``_delete_`` key (a merge instruction, spent once merged) dropped."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items() if k != DELETE_KEY}
    if isinstance(value, (list, tuple)):
        return type(value)(to_plain(v) for v in value)
    return value


# ------------------------------------------------------------------------------------ reading

def _is_config_value(name: str, value: Any) -> bool:
    """Module-level variables that are config entries: public, and not imports or definitions."""
    return not name.startswith('_') and not isinstance(value, (
        types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type,
        __future__._Feature))  # ``from __future__ import x`` binds x in the namespace


def _execute(path: Path) -> dict:
    """Run the config file ``path``; its namespace, with syntax and runtime errors located."""
    source = path.read_text(encoding='utf-8')
    try:
        code = compile(source, str(path), 'exec')
    except SyntaxError as err:
        text = (err.text or '').rstrip('\n')
        raise ConfigError(f'syntax error in config {path}, line {err.lineno}: {err.msg}\n'
                          f'    {text.strip()}') from None
    namespace: Dict[str, Any] = {'__file__': str(path), '__name__': '__sbcore_config__'}
    try:
        exec(code, namespace)
    except Exception as err:  # any error raised by the file's code: say where in the file
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == str(path)]
        where = f', line {frames[-1].lineno}:\n    {frames[-1].line}' if frames else ''
        raise ConfigError(f'error while executing config {path}{where}\n'
                          f'{type(err).__name__}: {err}') from err
    return namespace


def _base_paths(path: Path, namespace: dict) -> List[Path]:
    """The resolved ``_base_`` files of the config ``path``, checked to exist and be ``.py``."""
    bases = namespace.get(BASE_KEY, [])
    if isinstance(bases, (str, os.PathLike)):
        bases = [bases]
    if not isinstance(bases, (list, tuple)) or not all(
            isinstance(b, (str, os.PathLike)) for b in bases):
        raise ConfigError(f'{path}: {BASE_KEY} must be a path or a list of paths, got {bases!r}')
    resolved = []
    for base in bases:
        base_path = (path.parent / Path(base).expanduser()).resolve()
        if base_path.suffix != '.py':
            raise ConfigError(f'{path}: base config {base!r} is not a .py file '
                              f'(resolved to {base_path})')
        if not base_path.is_file():
            raise ConfigError(f'{path}: base config {base!r} not found (resolved to {base_path})')
        resolved.append(base_path)
    return resolved


def load_merged(path: Path, chain: Sequence[Path]) -> dict:
    """The config of ``path`` with its bases merged in; ``chain`` holds the files that led here."""
    if path in chain:
        raise ConfigError('config inheritance cycle: ' + ' -> '.join(map(str, [*chain, path])))
    namespace = _execute(path)
    merged: dict = {}
    for base_path in _base_paths(path, namespace):
        merged = merge_values(merged, load_merged(base_path, [*chain, path]))
    own = {k: v for k, v in namespace.items() if _is_config_value(k, v)}
    return to_plain(merge_values(merged, own))

