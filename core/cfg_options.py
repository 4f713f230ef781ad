"""Command-line overrides of a config: ``--cfg-options a.b=1 c=[x,y]`` typed into Python values
(how a tool reports errors and exits is ``cli.py``)."""
from __future__ import annotations

import argparse
import ast
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union


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

