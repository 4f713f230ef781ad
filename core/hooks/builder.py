"""Builds the run's hooks from ``default_hooks`` and ``custom_hooks``, sorted by priority."""
from __future__ import annotations

from typing import Any, List, Optional

from ..errors import ConfigError
from ..priority import get_priority
from ..registries import HOOKS
from .hook import Hook

# key in ``default_hooks`` -> config; a config may replace one or switch it off with None
DEFAULT_HOOKS = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)


def build_hook(cfg: Any) -> Hook:
    """A ``Hook`` from ``dict(type=..., priority=..., **args)`` (or the hook itself)."""
    if isinstance(cfg, Hook):
        return cfg
    cfg = dict(cfg)
    priority = cfg.pop('priority', None)
    hook = HOOKS.build(cfg)
    if not isinstance(hook, Hook):
        raise ConfigError(f'hook {cfg["type"]!r} built a {type(hook).__name__}, not a sbcore Hook')
    if priority is not None:
        try:  # validated here, so the error can name the hook
            get_priority(priority)
        except (TypeError, ValueError) as err:
            raise type(err)(f'hook {cfg["type"]!r}: {err}') from None
        hook.priority = priority
    return hook


def build_hooks(default_hooks: Optional[dict], custom_hooks: Optional[list]) -> List[Hook]:
    """Default hooks (merged with ``default_hooks`` by key), then ``custom_hooks``, stably
    sorted by priority: equal priorities keep this order."""
    merged = dict(DEFAULT_HOOKS, **dict(default_hooks or {}))
    cfgs = [c for c in merged.values() if c is not None] + list(custom_hooks or [])
    return sort_hooks([build_hook(c) for c in cfgs])


def sort_hooks(hooks: List[Hook]) -> List[Hook]:
    return sorted(hooks, key=lambda h: get_priority(h.priority))
