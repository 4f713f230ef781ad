"""Epoch-based training, validation and test loops. The runner holds state; loops drive it."""
from __future__ import annotations

from typing import Dict

import mindspore as ms
import numpy as np

from .errors import ConfigError

class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; the message names epoch and iteration."""


class TrainLoop:
    """Args:
        max_epochs: epochs to train.
        val_interval: validate every this many epochs (and after the last one).
        val_begin: first epoch that may validate.
        nonfinite_loss: a NaN/inf loss or gradient is never applied; 'stop' then raises,
            'skip' logs a warning and goes on.
    """

    def __init__(self, runner, max_epochs: int, val_interval: int = 1, val_begin: int = 1,
                 nonfinite_loss: str = 'stop'):
        if nonfinite_loss not in ('stop', 'skip'):
            raise ConfigError(f"train_cfg.nonfinite_loss must be 'stop' or 'skip', got {nonfinite_loss!r}")
        if max_epochs < 1:
            raise ConfigError(f'train_cfg.max_epochs must be >= 1, got {max_epochs}')
        self.runner = runner
        self.max_epochs = max_epochs
        self.val_interval = val_interval
        self.val_begin = val_begin
        self.nonfinite_loss = nonfinite_loss

    def run(self) -> None:
        r = self.runner
        r.call_hook('before_train')
        while r.epoch < self.max_epochs:
            self.run_epoch()
        r.call_hook('after_train')

    def _validation_due(self) -> bool:
        e = self.runner.epoch
        return (self.runner.has_val and self.val_interval > 0 and e >= self.val_begin
                and (e % self.val_interval == 0 or e == self.max_epochs))

    def run_epoch(self) -> None:
        r = self.runner
        r.call_hook('before_train_epoch')
        r.model.set_train(True)
        for batch_idx, batch in enumerate(r.train_dataloader):
            r.call_hook('before_train_iter', batch_idx=batch_idx, batch=batch)
            outputs = self.run_iter(batch_idx, batch)
            r.iter += 1
            r.call_hook('after_train_iter', batch_idx=batch_idx, batch=batch, outputs=outputs)
        r.epoch += 1
        if self._validation_due():
            r.val()  # before after_train_epoch, so the epoch's checkpoint knows the best metric
        r.call_hook('after_train_epoch')

    def run_iter(self, batch_idx: int, batch: Dict[str, np.ndarray]) -> Dict[str, float]:
        r = self.runner
        inputs = [ms.Tensor(x) for x in r.model.train_inputs(batch)]
        total, terms, applied = r.train_step(*inputs)
        if not applied:
            where = f'epoch {r.epoch + 1}, iteration {batch_idx + 1} (global {r.iter + 1})'
            loss = float(total.asnumpy())
            if self.nonfinite_loss == 'stop':
                raise NonFiniteLossError(
                    f'loss {loss} (or a gradient) is not finite at {where}; the update was not '
                    f'applied and no checkpoint was written after it. Lower the lr, enable '
                    f"clip_grad, or set train_cfg.nonfinite_loss='skip'.")
            r.logger.warning(f'loss {loss} (or a gradient) is not finite at {where}: update skipped')
        outputs = {'loss': float(total.asnumpy())}
        for name, term in zip(r.model.loss_names, terms):
            outputs[name] = float(term.asnumpy())
        return outputs


class EvalLoop:
    """Predicts every batch of a data loader and evaluates; ``mode`` is 'val' or 'test'."""

    def __init__(self, runner, mode: str):
        self.runner = runner
        self.mode = mode

    def run(self) -> Dict[str, float]:
        r = self.runner
        loader = r.val_dataloader if self.mode == 'val' else r.test_dataloader
        evaluator = r.val_evaluator if self.mode == 'val' else r.test_evaluator
        evaluator.setup(loader.dataset.metainfo, r.work_dir)
        r.model.set_train(False)
        r.call_hook(f'before_{self.mode}')
        if self.mode == 'val':
            r.call_hook('before_val_epoch')
        n = len(loader)
        for batch_idx, batch in enumerate(loader):
            predictions = r.model.predict(batch)
            evaluator.process(batch, predictions)
            r.call_hook(f'after_{self.mode}_iter', batch_idx=batch_idx, num_batches=n)
        metrics = evaluator.evaluate(r.work_dir)
        if self.mode == 'val':
            r.call_hook('after_val_epoch', metrics=metrics)
            r.call_hook('after_val')
        else:
            r.call_hook('after_test', metrics=metrics)
        r.model.set_train(True)
        return metrics
