"""The hook base class: one no-op method per point of the run, in the order they are called.

A subclass that defines a method named like a hook point but misspelled (``after_train_iteration``)
would silently never run; defining any public method starting with ``before_``/``after_`` that is
not a hook point is therefore an error when the class is created.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..priority import get_priority

from ..errors import ConfigError

HOOK_POINTS = (
    'before_run',
    'before_train', 'before_train_epoch', 'before_train_iter',
    'after_train_iter', 'after_train_epoch',
    'before_val', 'before_val_epoch', 'after_val_iter', 'after_val_epoch', 'after_val',
    'after_train',
    'before_test', 'after_test_iter', 'after_test',
    'before_save_checkpoint', 'after_load_checkpoint',
    'after_run',
)


class Hook:
    """Base class of runner hooks. ``priority`` orders hooks at a point (lower runs first)."""

    priority = 'NORMAL'

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        where = f'{cls.__module__}.{cls.__qualname__}'
        for name in vars(cls):
            if name.startswith(('before_', 'after_')) and name not in HOOK_POINTS:
                raise ConfigError(f'{where} defines {name!r}, which is not a hook point and would '
                                  f'never be called. Hook points: {", ".join(HOOK_POINTS)}')
        if 'priority' in vars(cls):  # a bad class-level priority fails here, not at the first run
            try:
                get_priority(cls.priority)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f'{where}.priority: {exc}') from None

    # run ------------------------------------------------------------------------------------
    def before_run(self, runner) -> None:
        """Once, after everything is built and before a checkpoint (resume/load_from) is loaded;
        a resumed run then calls ``after_load_checkpoint``."""

    def after_run(self, runner) -> None:
        """Once, at the very end (also after a failed run is reported)."""

    # training -------------------------------------------------------------------------------
    def before_train(self, runner) -> None:
        """Before the first training epoch (``runner.epoch`` is the epoch to start from)."""

    def after_train(self, runner) -> None:
        """After the last training epoch."""

    def before_train_epoch(self, runner) -> None:
        """Before each training epoch."""

    def after_train_epoch(self, runner) -> None:
        """After each training epoch (``runner.epoch`` already counts it)."""

    def before_train_iter(self, runner, batch_idx: int, batch: Dict[str, Any]) -> None:
        """Before each training step; ``batch`` is the numpy batch."""

    def after_train_iter(self, runner, batch_idx: int, batch: Dict[str, Any],
                         outputs: Dict[str, float]) -> None:
        """After each training step; ``outputs`` maps loss names (and 'loss') to floats."""

    # validation -----------------------------------------------------------------------------
    def before_val(self, runner) -> None:
        """Before a validation run."""

    def before_val_epoch(self, runner) -> None:
        """Before the validation loop iterates."""

    def after_val_iter(self, runner, batch_idx: int, num_batches: int) -> None:
        """After each validation batch is predicted."""

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """After validation; ``metrics`` are the evaluated metrics (same on every rank)."""

    def after_val(self, runner) -> None:
        """After a validation run."""

    # test -----------------------------------------------------------------------------------
    def before_test(self, runner) -> None:
        """Before a test run."""

    def after_test_iter(self, runner, batch_idx: int, num_batches: int) -> None:
        """After each test batch is predicted."""

    def after_test(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """After a test run, with its metrics."""

    # checkpoints ----------------------------------------------------------------------------
    def before_save_checkpoint(self, runner, checkpoint: Dict[str, Any]) -> None:
        """Add state to ``checkpoint['meta']`` (JSON-able) before it is written."""

    def after_load_checkpoint(self, runner, checkpoint: Dict[str, Any]) -> None:
        """Restore state from a loaded ``checkpoint['meta']``."""
