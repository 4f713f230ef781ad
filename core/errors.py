"""Error types for a user's mistake (a bad config key or value, a missing file, a corrupt
checkpoint, an unknown plugin, a missing dataset field).

Tools catch :class:`UserError` and print its message as one line with exit code 2; every other
exception is a bug and keeps its traceback. Each type also derives from the built-in exception that
code raised before it existed, so ``except KeyError`` and friends keep working.
"""
import difflib
import numbers
from typing import Any, Iterable


class UserError(Exception):
    """A mistake in what the user gave; the message names the culprit and what was expected."""

    def __str__(self) -> str:  # KeyError quotes its message; keep every subclass readable
        return str(self.args[0]) if self.args else ''


class ConfigError(UserError, KeyError, ValueError, TypeError):
    """A config key or value that is unknown, missing or of the wrong kind."""


class MissingFileError(UserError, FileNotFoundError):
    """A file the config or the command line names does not exist."""


class CheckpointError(UserError, ValueError):
    """A checkpoint that is truncated, corrupt, or does not fit the model."""


class DataError(UserError, KeyError, ValueError):
    """A dataset file or annotation that lacks a field or holds a bad value (a KeyError too:
    a missing field was one before)."""


def check_keys(where: str, given: Iterable[str], known: Iterable[str]) -> None:
    """The one config-key check: unknown keys are a :class:`ConfigError` naming ``where``, each
    unknown key with the closest known one, and every known key."""
    known = sorted(known)
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f'{where}: unknown key(s) {with_close_names(unknown, known)}; known '
                          f'keys: {", ".join(known) or "none"}')


def with_close_names(names: Iterable[str], known: Iterable[str]) -> str:
    """``'a' (did you mean 'b'?), 'c'``: each name with the closest known one, if any."""
    known, hints = list(known), []
    for name in names:
        close = difflib.get_close_matches(str(name), known, n=1)
        hints.append(f'{name!r}' + (f' (did you mean {close[0]!r}?)' if close else ''))
    return ', '.join(hints)


def check_number(where: str, value: Any, integer: bool = True, minimum: Any = None) -> Any:
    """The one config-number check: ``value`` itself when it is an integer (a real number when not
    ``integer``) of at least ``minimum``. A number given as e.g. 'x' would otherwise fail deep
    inside (``int('x')``, ``'x' < 1``) with a message that names neither the key nor what was
    expected, and a user's mistake would be a traceback."""
    ok = isinstance(value, numbers.Integral if integer else numbers.Real)
    if isinstance(value, bool) or not ok:
        raise ConfigError(f'config: {where} must be {"an integer" if integer else "a number"}, '
                          f'got {value!r} ({type(value).__name__})')
    if minimum is not None and value < minimum:
        raise ConfigError(f'config: {where} must be >= {minimum}, got {value!r}')
    return value
