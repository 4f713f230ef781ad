"""What a component's constructor accepts: the arguments of a config checked before the call.

``Registry.build`` calls :func:`check_arguments` with the ``dict(type=..., **args)`` of a config,
so a mistake fails with one line naming the component and the argument instead of inside the
constructor (``'<=' not supported between instances of 'str' and 'int'``):

* an argument the constructor does not take (with the closest name it does take);
* a required argument that is missing;
* a value whose type does not fit the parameter's annotation. Only plain config data is checked
  (``bool``, ``int``, ``float``, ``str``, ``None``, sequences, mappings, and ``Optional``/``Union``
  of those); any other annotation, or none, leaves the value to the constructor.
"""
from __future__ import annotations

import collections.abc
import inspect
import numbers
import typing
from typing import Any, Dict, Optional

from .errors import ConfigError, RegistryError, with_close_names

_SEQUENCES = (tuple, list, collections.abc.Sequence)
_MAPPINGS = (dict, collections.abc.Mapping)


def fits(value: Any, hint: Any) -> Optional[bool]:
    """Whether ``value`` fits the annotation ``hint``: True, False, or None when ``hint`` is not
    plain config data (then nothing is said). An int fits ``float``; a bool fits only ``bool``;
    a list or tuple fits any sequence annotation, a str none of them."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or type(hint).__name__ == 'UnionType':  # Optional[x], x | None
        answers = [fits(value, option) for option in typing.get_args(hint)]
        return True if True in answers else (None if None in answers else False)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):
        kind = numbers.Integral if hint is int else numbers.Real
        return isinstance(value, kind) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint in _SEQUENCES or origin in _SEQUENCES:
        return isinstance(value, (list, tuple))
    if hint in _MAPPINGS or origin in _MAPPINGS:
        return isinstance(value, collections.abc.Mapping)
    return None


def _type_hints(target: Any) -> Dict[str, Any]:
    """The annotations of ``target``'s constructor, evaluated one by one in its module (as
    ``typing.get_type_hints`` does, which gives up on all of them when one fails): a name
    imported only for type checkers leaves just its own parameter unchecked."""
    function = target.__init__ if inspect.isclass(target) else target
    namespace = getattr(function, '__globals__', {})
    hints = {}
    for name, annotation in getattr(function, '__annotations__', {}).items():
        try:
            hints[name] = eval(annotation, namespace) if isinstance(annotation, str) else annotation
        except Exception:
            continue
    return hints


def check_arguments(where: str, target: Any, args: Dict[str, Any]) -> None:
    """Raise when ``target(**args)`` cannot be right; ``where`` names it (``'models registry:
    ResNet'``). Unknown and missing arguments are a ``RegistryError``, a value of the wrong type
    a ``ConfigError`` (a ``TypeError``)."""
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):  # not introspectable: left to the call
        return
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        unknown = sorted(set(args) - set(params))
        if unknown:
            raise RegistryError(f'{where} does not take argument(s) '
                                f'{with_close_names(unknown, params)}; it takes: '
                                f'{", ".join(params) or "nothing"}')
    missing = [n for n, p in params.items()
               if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               and n not in args]
    if missing:
        raise RegistryError(f'{where} needs argument(s) {", ".join(missing)}, not given in '
                            f'{args!r}')
    hints = _type_hints(target)
    for name, value in args.items():
        param = params.get(name)
        if param is None or name not in hints or (value is None and param.default is None):
            continue
        if fits(value, hints[name]) is False:
            shown = param.annotation if isinstance(param.annotation, str) else (
                inspect.formatannotation(param.annotation))  # int, not <class 'int'>
            raise ConfigError(f'{where}: argument {name}={value!r} ({type(value).__name__}) does '
                              f'not fit its annotation {shown}')
