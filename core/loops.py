"""Loops: components that drive a run, MMEngine's names and arguments.

``train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=...)`` (the default type) or
``dict(type='IterBasedTrainLoop', max_iters=...)`` selects the training loop; ``val_cfg`` and
``test_cfg`` may name another ``ValLoop``/``TestLoop``. Loops are found through the
``sbcore.loops`` entry-point group like every other component. A loop owns its data loader and its
counters (the runner's ``epoch``/``iter`` read them) and calls the hook points.

Validation, when due, runs before the ``after_train_epoch`` (epoch-based) or ``after_train_iter``
(iteration-based) of the step that made it due, so a checkpoint saved there knows the best metric.
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, Tuple

import numpy as np

from .errors import ConfigError, check_number
from .evaluator import build_evaluator


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message names epoch and iteration."""


class BaseLoop:
    """A loop over ``dataloader``: a ``DataLoader``, or the config key of one (built by the
    runner). Subclasses implement :meth:`run`.
    """

    def __init__(self, runner, dataloader: Any):
        self.runner = runner
        self.dataloader = (runner.build_dataloader(dataloader) if isinstance(dataloader, str)
                           else dataloader)

    def run(self) -> Any:
        raise NotImplementedError


class BaseTrainLoop(BaseLoop):
    """Shared by the training loops: counters, the training step and the stop check.

    Args:
        nonfinite_loss: a NaN/inf loss or gradient is never applied; 'stop' then raises,
            'skip' logs a warning and goes on.
    """

    by_epoch = True

    def __init__(self, runner, dataloader: Any, val_interval: int, val_begin: int,
                 nonfinite_loss: str = 'stop'):
        check_number('train_cfg.val_interval', val_interval, minimum=0)  # 0: never
        check_number('train_cfg.val_begin', val_begin)
        if nonfinite_loss not in ('stop', 'skip'):
            raise ConfigError(f"train_cfg.nonfinite_loss must be 'stop' or 'skip', "
                              f'got {nonfinite_loss!r}')
        super().__init__(runner, dataloader)
        self.val_interval, self.val_begin = val_interval, val_begin
        self.nonfinite_loss = nonfinite_loss
        self._epoch = 0
        self._iter = 0

    @property
    def epoch(self) -> int:
        """Epochs completed."""
        return self._epoch

    @property
    def iter(self) -> int:
        """Training steps completed."""
        return self._iter

    def restore(self, epoch: int, iteration: int) -> None:
        """Set the counters from a checkpoint (resume)."""
        self._epoch, self._iter = int(epoch), int(iteration)

    def _validation_due(self, count: int, last: int) -> bool:
        return (self.val_interval > 0 and count >= self.val_begin
                and (count % self.val_interval == 0 or count == last)
                and self.runner.val_loop is not None)

    def _stopping(self) -> bool:
        reason = self.runner.stop_reason
        if reason is not None:
            self.runner.logger.info(f'stopping after iteration {self._iter}: {reason}')
        return reason is not None

    def run_iter(self, batch_idx: int, data_batch: Dict[str, np.ndarray]) -> Dict[str, float]:
        """One training step between ``before_train_iter`` and ``after_train_iter``."""
        import mindspore as ms
        r = self.runner
        r.call_hook('before_train_iter', batch_idx=batch_idx, data_batch=data_batch)
        r.train_step.check_trainable()
        inputs = [ms.Tensor(x) for x in r.model.train_inputs(data_batch)]
        total, terms, applied = r.train_step(*inputs)
        loss = float(total.asnumpy())
        if not applied:
            where = f'epoch {self._epoch + 1}, iteration {batch_idx + 1} (global {self._iter + 1})'
            if self.nonfinite_loss == 'stop':
                raise NonFiniteLossError(
                    f'loss {loss} (or a gradient) is not finite at {where}; the update was not '
                    f'applied and no checkpoint was written after it. Lower the lr, enable '
                    f"clip_grad, or set train_cfg.nonfinite_loss='skip'.")
            r.logger.warning(f'loss {loss} (or a gradient) is not finite at {where}: update skipped')
        outputs = {'loss': loss}
        for name, term in zip(r.model.loss_names, terms):
            outputs[name] = float(term.asnumpy())
        self._iter += 1
        return outputs


class EpochBasedTrainLoop(BaseTrainLoop):
    """Args:
        max_epochs: epochs to train.
        val_interval: validate every this many epochs (and after the last one); 0: never.
        val_begin: first epoch that may validate.
    """

    def __init__(self, runner, dataloader: Any, max_epochs: int, val_interval: int = 1,
                 val_begin: int = 1, nonfinite_loss: str = 'stop'):
        super().__init__(runner, dataloader, val_interval, val_begin, nonfinite_loss)
        self.max_epochs = check_number('train_cfg.max_epochs', max_epochs, minimum=1)

    @property
    def max_iters(self) -> int:
        return self.max_epochs * len(self.dataloader)

    def run(self) -> None:
        r = self.runner
        r.call_hook('before_train')
        while self._epoch < self.max_epochs and not self._stopping():
            self.run_epoch()
        r.call_hook('after_train')

    def run_epoch(self) -> None:
        r = self.runner
        r.call_hook('before_train_epoch')
        r.model.set_train(True)
        self.dataloader.set_epoch(self._epoch)
        for batch_idx, data_batch in enumerate(self.dataloader):
            outputs = self.run_iter(batch_idx, data_batch)
            r.call_hook('after_train_iter', batch_idx=batch_idx, data_batch=data_batch,
                        outputs=outputs)
            if r.stop_reason is not None and batch_idx + 1 < len(self.dataloader):
                return  # mid-epoch: the epoch did not end, so neither validation nor its end run
        self._epoch += 1
        if self._validation_due(self._epoch, self.max_epochs):
            r.val_loop.run()
        r.call_hook('after_train_epoch')


class IterBasedTrainLoop(BaseTrainLoop):
    """Train for a number of steps, cycling over the data loader.

    ``before_train_epoch``/``after_train_epoch`` run once, around all the steps (as MMEngine).
    ``epoch`` counts completed passes over the data; each pass draws its order from
    ``(seed, epoch)``, and a resumed run skips the batches of its pass already trained on, so it
    sees exactly the data of an uninterrupted run.

    Args:
        max_iters: training steps.
        val_interval: validate every this many steps (and after the last one); 0: never.
        val_begin: first step that may validate.
    """

    by_epoch = False

    def __init__(self, runner, dataloader: Any, max_iters: int, val_interval: int = 1000,
                 val_begin: int = 1, nonfinite_loss: str = 'stop'):
        super().__init__(runner, dataloader, val_interval, val_begin, nonfinite_loss)
        self.max_iters = check_number('train_cfg.max_iters', max_iters, minimum=1)

    @property
    def epoch(self) -> int:
        return self._iter // len(self.dataloader)

    def batches(self) -> Iterator[Tuple[int, Dict[str, np.ndarray]]]:
        """``(batch_idx within its pass, batch)`` forever, from the current iteration on."""
        while True:
            epoch, start = divmod(self._iter, len(self.dataloader))
            self.dataloader.set_epoch(epoch)
            for offset, data_batch in enumerate(self.dataloader.iter_from(start)):
                yield start + offset, data_batch

    def run(self) -> None:
        r = self.runner
        r.call_hook('before_train')
        r.call_hook('before_train_epoch')
        r.model.set_train(True)
        batches = self.batches()
        while self._iter < self.max_iters and not self._stopping():
            batch_idx, data_batch = next(batches)
            outputs = self.run_iter(batch_idx, data_batch)
            if self._validation_due(self._iter, self.max_iters):
                r.val_loop.run()
                r.model.set_train(True)
            r.call_hook('after_train_iter', batch_idx=batch_idx, data_batch=data_batch,
                        outputs=outputs)
        batches.close()
        r.call_hook('after_train_epoch')
        r.call_hook('after_train')


class ValLoop(BaseLoop):
    """Predict every batch, evaluate, return the metrics (the same on every rank).

    Args:
        evaluator: an ``Evaluator`` or its metric config(s).
    """

    mode = 'val'

    def __init__(self, runner, dataloader: Any, evaluator: Any):
        super().__init__(runner, dataloader)
        self.evaluator = build_evaluator(evaluator, runner.cfg)

    def run(self) -> Dict[str, float]:
        r, mode = self.runner, self.mode
        self.evaluator.setup(self.dataloader.dataset.metainfo, r.work_dir)
        was_training = r.model.training
        r.model.set_train(False)
        r.call_hook(f'before_{mode}')
        r.call_hook(f'before_{mode}_epoch')
        for batch_idx, data_batch in enumerate(self.dataloader):
            r.call_hook(f'before_{mode}_iter', batch_idx=batch_idx, data_batch=data_batch)
            outputs = r.model.predict(data_batch)
            self.evaluator.process(data_batch, outputs)
            r.call_hook(f'after_{mode}_iter', batch_idx=batch_idx, data_batch=data_batch,
                        outputs=outputs)
        metrics = self.evaluator.evaluate(r.work_dir)
        r.call_hook(f'after_{mode}_epoch', metrics=metrics)
        r.call_hook(f'after_{mode}')
        r.model.set_train(was_training)
        return metrics


class TestLoop(ValLoop):
    """:class:`ValLoop` at the test points (``before_test``, ``after_test_iter``, ...)."""

    mode = 'test'
    __test__ = False  # not a pytest test class
