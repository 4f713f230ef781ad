"""Python-file configs: a merged config with attribute access, overrides and a loadable dump.

Reading and merging files (``_base_``, ``_delete_``) is ``config_loader.py``; typing command-line
overrides (``--cfg-options``) is ``cfg_options.py``. Values are reached as attributes
(``cfg.model.backbone.depth``). A missing key is an error rather than an empty dict, so a typo in
a key fails where it is read. The engine's own keys (``work_dir``, ``seed``, ...) are not checked
here; the runner checks what it reads.
"""
from __future__ import annotations

import difflib
import keyword
import math
import os
from pathlib import Path
from typing import Any, Dict, ItemsView, Iterator, KeysView, Optional, Union

import addict
from yapf.yapflib.yapf_api import FormatCode

from .cfg_options import DictAction, parse_value  # noqa: F401  (re-exported: tools import them)
from .config_loader import load_merged, merge_values, to_plain
from .errors import ConfigError
from .fileio import atomic_write_text

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
        object.__setattr__(self, '_cfg_dict', ConfigDict(to_plain(cfg_dict or {})))
        object.__setattr__(self, '_filename', None if filename is None else str(filename))

    @classmethod
    def fromfile(cls, path: PathLike) -> 'Config':
        """Load the ``.py`` config ``path`` with its ``_base_`` files merged in."""
        path = Path(path).expanduser().resolve()
        if path.suffix != '.py':
            raise ConfigError(f'config {path} is not a .py file')
        if not path.is_file():
            raise ConfigError(f'config {path} not found')
        return cls(load_merged(path, []), filename=path)

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
                    node[key] = ConfigDict._hook(to_plain(merge_values(old, value, where)))
                else:
                    node = node[key]

    def to_dict(self) -> dict:
        """The config as plain ``dict``s, ``list``s and ``tuple``s (containers copied)."""
        return to_plain(self._cfg_dict)

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
        """Write :attr:`pretty_text` to the ``.py`` file ``path`` atomically, so a reader never
        sees half a config."""
        path = Path(path)
        if path.suffix != '.py':
            raise ConfigError(f'config dump path {path} must end in .py to be loadable')
        text = self.pretty_text
        atomic_write_text(path, text)

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
