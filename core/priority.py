"""Hook priorities: named levels and one validating converter (lower value runs first)."""
from __future__ import annotations

from enum import IntEnum
from typing import Union

from .errors import ConfigError


class Priority(IntEnum):
    HIGHEST = 0
    VERY_HIGH = 10
    HIGH = 30
    ABOVE_NORMAL = 40
    NORMAL = 50
    BELOW_NORMAL = 60
    LOW = 70
    VERY_LOW = 90
    LOWEST = 100


def get_priority(priority: Union[int, str, Priority]) -> int:
    """An int in [0, 100], a ``Priority`` or a level name ('NORMAL', 'low', ...) -> int."""
    if isinstance(priority, bool):
        raise ConfigError(f'hook priority must be an int in [0, 100] or a level name, got {priority!r}')
    if isinstance(priority, int):
        if not 0 <= priority <= 100:
            raise ConfigError(f'hook priority must be in [0, 100], got {priority}')
        return int(priority)
    if isinstance(priority, str):
        try:
            return Priority[priority.upper()].value
        except KeyError:
            raise ConfigError(f'unknown hook priority {priority!r}; levels: '
                              f'{", ".join(p.name for p in Priority)}') from None
    raise ConfigError(f'hook priority must be an int, a str or a Priority, got {type(priority).__name__}')
