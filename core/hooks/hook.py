"""The hook base class: one no-op method per point of the run, MMEngine's names and signatures.

The runner calls ``hook.<point>(runner, **arguments)``. Both ways a hook could silently never run,
or fail only at the first call, are errors when a subclass is created: a public method starting
with ``before_``/``after_`` that is not a hook point (``after_train_iteration``), and a hook-point
method whose parameters cannot take the point's arguments by name (``after_train_iter(self, runner,
batch)``). The error names the method and the expected signature.
"""
from __future__ import annotations

import inspect
from typing import Any, Dict, Optional, Tuple

from ..errors import ConfigError
from ..priority import get_priority

# The hook contract: point -> the keyword arguments it is called with after ``runner``, in the
# order the points run (docs/plugins.md has the table). The run points are called the same way by
# ``Runner.train()``, ``Runner.val()`` and ``Runner.test()``. Hook's no-op defaults are made from
# it (end of file), and subclasses are checked against it.
HOOK_POINTS: Dict[str, Tuple[str, ...]] = {
    'before_run': (),  # once per run, after everything is built, before a checkpoint is loaded
    'after_load_checkpoint': ('checkpoint',),  # resume only: restore state from checkpoint['meta']
    'before_train': (),  # runner.epoch/iter are where training starts
    'before_train_epoch': (),  # each epoch (iteration-based loop: once, before all steps)
    'before_train_iter': ('batch_idx', 'data_batch'),  # data_batch: the numpy batch
    'after_train_iter': ('batch_idx', 'data_batch', 'outputs'),  # outputs: 'loss', each term
    'before_val': (), 'before_val_epoch': (),
    'before_val_iter': ('batch_idx', 'data_batch'),
    'after_val_iter': ('batch_idx', 'data_batch', 'outputs'),  # outputs: the predictions
    'after_val_epoch': ('metrics',),  # the evaluated metrics, the same on every rank
    'after_val': (),
    'after_train_epoch': (),  # after the epoch and its validation (runner.epoch counts it)
    'before_save_checkpoint': ('checkpoint',),  # add JSON-able state to checkpoint['meta']
    'after_train': (),
    'before_test': (), 'before_test_epoch': (),
    'before_test_iter': ('batch_idx', 'data_batch'),
    'after_test_iter': ('batch_idx', 'data_batch', 'outputs'),
    'after_test_epoch': ('metrics',), 'after_test': (),
    'after_run': (),  # once at the very end, also after a failed run
}


def expected_signature(point: str) -> str:
    return f'{point}(self, runner{"".join(", " + a for a in HOOK_POINTS[point])})'


def signature_problem(func: Any, point: str) -> Optional[str]:
    """Why ``func`` cannot be called as ``func(hook, runner, **arguments of point)``, or None."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None  # not introspectable (a C callable): left to the call
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    has_varargs = any(p.kind is p.VAR_POSITIONAL for p in params)
    if len(positional) < 2 and not has_varargs:
        return 'it must take (self, runner, ...)'
    rest = positional[2:] + [p for p in params if p.kind is p.KEYWORD_ONLY]
    names = {p.name for p in rest if p.kind is not p.POSITIONAL_ONLY}
    has_kwargs = any(p.kind is p.VAR_KEYWORD for p in params)
    missing = [a for a in HOOK_POINTS[point] if a not in names and not has_kwargs]
    if missing:
        return f'it has no parameter {", ".join(map(repr, missing))}'
    extra = [p.name for p in rest if p.name not in HOOK_POINTS[point] and p.default is p.empty]
    if extra:
        return f'parameter(s) {", ".join(map(repr, extra))} are never passed and have no default'
    return None


class Hook:
    """Base class of runner hooks. ``priority`` orders hooks at a point (lower runs first)."""

    priority = 'NORMAL'

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        where = f'{cls.__module__}.{cls.__qualname__}'
        for name, value in vars(cls).items():
            if name.startswith(('before_', 'after_')) and name not in HOOK_POINTS:
                raise ConfigError(f'{where} defines {name!r}, which is not a hook point and '
                                  f'would never be called. Hook points: {", ".join(HOOK_POINTS)}')
            problem = signature_problem(value, name) if name in HOOK_POINTS else None
            if problem:
                raise ConfigError(f'{where}.{name}: {problem}; the runner calls it as '
                                  f'{expected_signature(name)}')
        if 'priority' in vars(cls):  # a bad class-level priority fails here, not at the first run
            try:
                get_priority(cls.priority)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f'{where}.priority: {exc}') from None

    # interval helpers (MMEngine's names), for the point where the counter has just advanced --
    def every_n_epochs(self, runner, n: int) -> bool:
        """At ``after_train_epoch``: the epoch just finished is a multiple of ``n``."""
        return n > 0 and runner.epoch % n == 0

    def every_n_train_iters(self, runner, n: int) -> bool:
        """At ``after_train_iter``: the step just finished is a multiple of ``n``."""
        return n > 0 and runner.iter % n == 0

    def every_n_inner_iters(self, batch_idx: int, n: int) -> bool:
        """The batch ``batch_idx`` (0-based) of its epoch is a multiple of ``n``."""
        return n > 0 and (batch_idx + 1) % n == 0

    def end_of_epoch(self, dataloader, batch_idx: int) -> bool:
        return batch_idx + 1 == len(dataloader)

    def is_last_train_epoch(self, runner) -> bool:
        return runner.epoch == runner.max_epochs

    def is_last_train_iter(self, runner) -> bool:
        return runner.iter == runner.max_iters


def _no_op(point: str):
    def method(self, runner, *args: Any, **kwargs: Any) -> None:
        return None
    method.__name__ = method.__qualname__ = point
    method.__doc__ = f'Called as ``{expected_signature(point)}``; does nothing here.'
    method.__signature__ = inspect.Signature(  # what help() and IDEs show: the point's arguments
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
         for name in ('self', 'runner', *HOOK_POINTS[point])])
    return method


for _point in HOOK_POINTS:  # the defaults come from the one table of points
    setattr(Hook, _point, _no_op(_point))
