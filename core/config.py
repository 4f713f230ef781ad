"""Python-file configs: inheritance through ``_base_``, command-line overrides, a loadable dump.

A config is a ``.py`` file; its public module-level variables (names not starting with ``_``, and
not modules, functions or classes) are the config. ``_base_`` names one base file or a list of
them, relative to the file. The bases are merged in order, then the file's own values over them:
dicts merge recursively, everything else (lists included) is replaced. A dict carrying
``_delete_=True`` replaces the base's dict instead of merging into it.

Values are reached as attributes (``cfg.model.backbone.depth``). A missing key is an error rather
than an empty dict, so a typo in a key fails where it is read. The engine's own keys (``work_dir``,
``seed``, ...) are not checked here; the runner checks what it reads. A file cannot read its
bases' values (each file runs on its own); it states what it changes and the merge does the rest.
"""
from __future__ import annotations

import __future__
import argparse
import ast
import difflib
import keyword
import math
import os
import tempfile
import traceback
import types
from pathlib import Path
from typing import (Any, Dict, ItemsView, Iterator, KeysView, List, Optional, Sequence, Tuple,
                    Union)

import addict
from yapf.yapflib.yapf_api import FormatCode

from .errors import ConfigError  # a config file or override could not be read

BASE_KEY = '_base_'
DELETE_KEY = '_delete_'
YAPF_STYLE = dict(based_on_style='pep8', column_limit=100)

PathLike = Union[str, os.PathLike]


class ConfigDict(addict.Dict):
    """``addict.Dict`` whose missing keys raise instead of silently yielding an empty dict."""

    def __missing__(self, key: Any) -> Any:
        raise KeyError(key)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            close = difflib.get_close_matches(name, [str(k) for k in self], n=3)
            hint = f'; did you mean {", ".join(map(repr, close))}?' if close else ''
            raise AttributeError(f'config has no key {name!r}{hint} '
                                 f'(keys: {", ".join(map(str, self))})') from None


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


def _to_plain(value: Any) -> Any:
    """``value`` with its dicts, lists and tuples rebuilt as plain ones at any depth, and every
    ``_delete_`` key (a merge instruction, spent once merged) dropped."""
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items() if k != DELETE_KEY}
    if isinstance(value, (list, tuple)):
        return type(value)(_to_plain(v) for v in value)
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


def _load_merged(path: Path, chain: Sequence[Path]) -> dict:
    """The config of ``path`` with its bases merged in; ``chain`` holds the files that led here."""
    if path in chain:
        raise ConfigError('config inheritance cycle: ' + ' -> '.join(map(str, [*chain, path])))
    namespace = _execute(path)
    merged: dict = {}
    for base_path in _base_paths(path, namespace):
        merged = merge_values(merged, _load_merged(base_path, [*chain, path]))
    own = {k: v for k, v in namespace.items() if _is_config_value(k, v)}
    return _to_plain(merge_values(merged, own))


# ------------------------------------------------------------------------------------ overrides

def _unquoted(text: str) -> Iterator[Tuple[int, str, int]]:
    """``(index, char, bracket depth after char)`` for each character of ``text`` outside quotes."""
    depth, quote, escaped = 0, None, False
    for i, char in enumerate(text):
        if quote:  # inside a string literal only its (unescaped) closing quote matters
            if escaped:
                escaped = False
            elif char == '\\':
                escaped = True
            elif char == quote:
                quote = None
            continue
        if char in '\'"':
            quote = char
            continue
        depth += (char in '([{') - (char in ')]}')
        yield i, char, depth


def _split_top_level(text: str) -> List[str]:
    """``text`` split at the commas outside brackets and quotes."""
    cuts = [i for i, char, depth in _unquoted(text) if char == ',' and depth == 0]
    return [text[a + 1:b] for a, b in zip([-1, *cuts], [*cuts, len(text)])]


def _is_bracketed(text: str) -> bool:
    """Whether ``text`` is one ``[...]`` or ``(...)`` group (``[a],[b]`` is not)."""
    closing = {'[': ']', '(': ')'}.get(text[:1])
    if closing is None or not text.endswith(closing):
        return False
    first_close = next((i for i, _, depth in _unquoted(text) if depth == 0), None)
    return first_close == len(text) - 1


_WORDS = {'true': True, 'false': False, 'none': None, 'null': None}


def parse_value(text: str) -> Any:
    """A command-line value typed: Python literals first (``1``, ``0.5``, ``True``, ``None``,
    ``[1, 2]``, ``(1, 2)``, ``'quoted'``, ``{'a': 1}``), then ``true``/``false``/``none``,
    ``a,b,c`` and bracketed lists of unquoted words (``[a,[b,c]]``) element-wise, else the text.
    """
    text = text.strip()
    if len(_split_top_level(text)) > 1:  # a,b,c is a list
        return _parse_items(text)
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    if _is_bracketed(text):  # e.g. [a,[b,c]]: unquoted words, not a literal
        inner = text[1:-1]
        if text[0] == '(' and len(_split_top_level(inner)) == 1 and inner.strip():
            return parse_value(inner)  # (a) groups like Python's (1); (a,) is a tuple
        return tuple(_parse_items(inner)) if text[0] == '(' else _parse_items(inner)
    return _WORDS.get(text.lower(), text)


def _parse_items(text: str) -> list:
    """The comma-separated values of ``text`` typed; a trailing comma adds no item."""
    parts = _split_top_level(text)
    if not parts[-1].strip():
        parts.pop()
    return [parse_value(p) for p in parts]


class DictAction(argparse.Action):
    """argparse action collecting ``key.sub=value`` pairs into a dict with typed values.

    Use with ``parser.add_argument('--cfg-options', nargs='+', action=DictAction)``; values are
    typed by :func:`parse_value`. Repeating the option adds to the same dict.
    """

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Union[str, Sequence[str], None],
                 option_string: Optional[str] = None) -> None:
        options = dict(getattr(namespace, self.dest, None) or {})
        for item in [values] if isinstance(values, str) else values or []:
            key, sep, value = item.partition('=')
            if not sep or not key.strip():
                raise argparse.ArgumentError(self, f'expected key=value, got {item!r}')
            options[key.strip()] = parse_value(value)
        setattr(namespace, self.dest, options)


# ------------------------------------------------------------------------------------ dumping

def _format_value(value: Any, where: str, dict_call: bool) -> str:
    """Python source for ``value``; ``dict_call`` uses ``dict(k=v)`` where keys allow it."""
    if isinstance(value, dict):
        items = list(value.items())
        if dict_call and all(isinstance(k, str) and k.isidentifier() and not keyword.iskeyword(k)
                             for k, _ in items):
            body = ', '.join(f'{k}={_format_value(v, f"{where}.{k}", dict_call)}'
                             for k, v in items)
            return f'dict({body})'
        body = ', '.join(f'{_format_value(k, where, dict_call)}: '
                         f'{_format_value(v, f"{where}.{k}", dict_call)}' for k, v in items)
        return '{' + body + '}'
    if isinstance(value, (list, tuple)):
        body = ', '.join(_format_value(v, f'{where}.{i}', dict_call) for i, v in enumerate(value))
        if isinstance(value, list):
            return f'[{body}]'
        return f'({body},)' if len(value) == 1 else f'({body})'
    if value is None or isinstance(value, (bool, str, bytes)):
        return repr(value)
    if isinstance(value, int):  # int() so that int subclasses write as plain literals
        return repr(int(value))
    if isinstance(value, float):
        if math.isfinite(value):
            return repr(float(value))
        # repr gives 'inf'/'nan', which are not Python; 1e999 overflows to inf when read back.
        return 'float("nan")' if math.isnan(value) else ('-1e999' if value < 0 else '1e999')
    raise ConfigError(f'{where}: cannot write {type(value).__name__} value {value!r} to a config '
                      f'file (only dict, list, tuple, str, bytes, int, float, bool, None)')


# ------------------------------------------------------------------------------------ Config

class Config:
    """A merged config: attribute access to a :class:`ConfigDict`, plus where it came from."""

    def __init__(self, cfg_dict: Optional[dict] = None, filename: Optional[PathLike] = None):
        if cfg_dict is not None and not isinstance(cfg_dict, dict):
            raise ConfigError(f'a config is built from a dict, got {type(cfg_dict).__name__}')
        object.__setattr__(self, '_cfg_dict', ConfigDict(_to_plain(cfg_dict or {})))
        object.__setattr__(self, '_filename', None if filename is None else str(filename))

    @classmethod
    def fromfile(cls, path: PathLike) -> 'Config':
        """Load the ``.py`` config ``path`` with its ``_base_`` files merged in."""
        path = Path(path).expanduser().resolve()
        if path.suffix != '.py':
            raise ConfigError(f'config {path} is not a .py file')
        if not path.is_file():
            raise ConfigError(f'config {path} not found')
        return cls(_load_merged(path, []), filename=path)

    @property
    def filename(self) -> Optional[str]:
        """Absolute path of the file the config was loaded from (``None`` if built in code)."""
        return self._filename

    def merge_from_dict(self, options: Optional[Dict[str, Any]]) -> None:
        """Set ``{'a.b.c': value}`` entries in place. A dict value merges into a dict already
        there (``_delete_`` honoured); a numeric part indexes a list (``pipeline.1.prob``);
        missing dict keys along the way are created.
        """
        for dotted, value in (options or {}).items():  # None: no --cfg-options given
            parts = str(dotted).split('.')
            node: Any = self._cfg_dict
            for depth, part in enumerate(parts):
                where = '.'.join(parts[:depth + 1])
                last = depth == len(parts) - 1
                if isinstance(node, list):
                    if not part.isdigit() or int(part) >= len(node):
                        raise ConfigError(f'option {dotted!r}: {where!r} indexes a list of '
                                          f'{len(node)} items; expected an index in range')
                    key: Any = int(part)
                elif isinstance(node, dict):
                    key = part
                    if not last and key not in node:
                        node[key] = ConfigDict()
                else:
                    raise ConfigError(f'option {dotted!r}: {".".join(parts[:depth])!r} is '
                                      f'{node!r}, not a dict or list to set {part!r} in')
                if last:
                    old = node[key] if isinstance(node, list) else node.get(key)
                    node[key] = ConfigDict._hook(_to_plain(merge_values(old, value, where)))
                else:
                    node = node[key]

    def to_dict(self) -> dict:
        """The config as plain ``dict``s, ``list``s and ``tuple``s (containers copied)."""
        return _to_plain(self._cfg_dict)

    @property
    def pretty_text(self) -> str:
        """The merged config as Python source (``key = value`` lines, yapf-formatted) that
        :meth:`fromfile` reads back to an equal config."""
        data = self.to_dict()
        # ``dict(...)`` would call the config's own value if a top-level key shadows it.
        dict_call = 'dict' not in data
        lines = []
        for key, value in data.items():
            if not (isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)
                    and not key.startswith('_')):
                raise ConfigError(f'top-level key {key!r} cannot be written as a config variable '
                                  f'(needs a public Python identifier)')
            lines.append(f'{key} = {_format_value(value, key, dict_call)}')
        return FormatCode('\n'.join(lines) + '\n', style_config=YAPF_STYLE)[0]

    def dump(self, path: PathLike) -> None:
        """Write :attr:`pretty_text` to the ``.py`` file ``path`` atomically (temp file, then
        ``os.replace``), so a reader never sees half a config."""
        path = Path(path)
        if path.suffix != '.py':
            raise ConfigError(f'config dump path {path} must end in .py to be loadable')
        text = self.pretty_text
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    # dict-like access to the top level
    def __getattr__(self, name: str) -> Any:
        if name.startswith('_'):  # internals (and copy/pickle probes) never reach the dict
            raise AttributeError(name)
        return getattr(self._cfg_dict, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._cfg_dict[name] = ConfigDict._hook(value)

    def __getitem__(self, key: str) -> Any:
        return self._cfg_dict[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._cfg_dict[key] = ConfigDict._hook(value)

    def __contains__(self, key: object) -> bool:
        return key in self._cfg_dict

    def __iter__(self) -> Iterator[str]:
        return iter(self._cfg_dict)

    def __len__(self) -> int:
        return len(self._cfg_dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self._cfg_dict.get(key, default)

    def keys(self) -> KeysView[str]:
        return self._cfg_dict.keys()

    def items(self) -> ItemsView[str, Any]:
        return self._cfg_dict.items()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f'Config(filename={self._filename!r}, {self.to_dict()!r})'
