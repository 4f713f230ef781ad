"""The training step: ``value_and_grad`` of the model's loss, then the optimizer update; its
builder from ``optim_wrapper``; compiled inference.

Two compiled functions per step: one computes the losses and gradients (and, in data-parallel
runs, averages the gradients across ranks), the other clips and applies them, inside the graph
only when the loss and every gradient are finite, so a non-finite step never reaches the weights.
The host reads the result after the step: a host check between the two functions made the step
2x slower on CPU (0.6 s vs 0.31 s, docs/benchmarks.md), because the waiting main thread spins on
a core the kernels need.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import mindspore as ms
import numpy as np
from mindspore import nn, ops

from . import dist
from .errors import ConfigError, check_keys, check_number
from .registries import OPTIMIZERS


class TrainableParametersChanged(RuntimeError):
    """``requires_grad`` was changed after the training step was built (see ``check_trainable``)."""


class TrainStep:
    """Callable ``step(*inputs) -> (total_loss, loss_terms, applied)``: Tensors and a bool.

    ``applied`` is False when the loss or a gradient was NaN/inf: the optimizer (weights and its
    moments) was then left untouched; batch-norm running statistics of that forward pass are not
    rolled back.

    Args:
        model: cell with ``loss(*inputs) -> tuple[Tensor, ...]``.
        optimizer: a MindSpore optimizer over the trainable parameters.
        use_jit: compile with ``mindspore.jit`` (graph mode); False runs PyNative.
        clip_grad: ``dict(max_norm=...)`` for global-norm clipping, or None.
        loss_scale: a fixed loss scale for float16 training (dynamic scaling is not supported on
            CPU by MindSpore), or None.
        grad_reducer: ``nn.DistributedGradReducer`` in data-parallel runs, or None.
        jit_level: ``mindspore.jit``'s optimisation level, 'O0' or 'O1' (docs/benchmarks.md).
        base_lr: the lr that schedulers scale (``ParamSchedulerHook``); the optimizer's when None.
    """

    def __init__(self, model: nn.Cell, optimizer: nn.Optimizer, use_jit: bool = True,
                 clip_grad: Optional[dict] = None, loss_scale: Optional[float] = None,
                 grad_reducer: Optional[nn.Cell] = None, jit_level: str = 'O0',
                 base_lr: Optional[float] = None):
        self.model = model
        self.optimizer = optimizer
        self._built_with = {id(p): p.name for p in optimizer.parameters}  # see check_trainable
        self.base_lr = self.get_lr() if base_lr is None else float(base_lr)
        self.max_norm = None if not clip_grad else float(clip_grad['max_norm'])
        self.loss_scale = float(loss_scale) if loss_scale else None
        self.grad_reducer = grad_reducer
        scale = self.loss_scale or 1.0

        def forward(*inputs):
            terms = model.loss(*inputs)
            total = terms[0]
            for term in terms[1:]:
                total = total + term
            return total * scale, terms

        value_and_grad = ms.value_and_grad(forward, None, optimizer.parameters, has_aux=True)

        def grads_fn(*inputs):
            (total, terms), grads = value_and_grad(*inputs)
            if grad_reducer is not None:
                grads = grad_reducer(grads)
            return total / scale, terms, grads

        def apply_fn(grads, total):
            # gradients are checked after the data-parallel reduction: a NaN/inf gradient on any
            # rank reaches every rank's sum, so all ranks skip that update together
            finite = ops.isfinite(total)
            for grad in grads:
                finite = ops.logical_and(finite, ops.isfinite(grad).all())
            if finite:
                if scale != 1.0:
                    grads = tuple(g / scale for g in grads)
                if self.max_norm is not None:
                    grads = ops.clip_by_global_norm(grads, self.max_norm)
                optimizer(grads)
            return finite

        self.jit_level = jit_level if use_jit else None
        self._grads = ms.jit(grads_fn, jit_level=jit_level) if use_jit else grads_fn
        self._apply = ms.jit(apply_fn, jit_level=jit_level) if use_jit else apply_fn

    def get_lr(self) -> float:
        return float(self.optimizer.learning_rate.asnumpy())

    def check_trainable(self) -> None:
        """Raise when the model's trainable parameters are no longer those the step was built
        with. Both compiled functions captured that list, so a hook flipping ``requires_grad``
        mid-run would change nothing, silently (measured: docs/plugins.md, "Loop"); the check
        costs 0.14 ms per step for the main-job model (Intel Xeon)."""
        built = self._built_with
        now = {id(p): p.name for p in self.model.trainable_params()}
        if built.keys() != now.keys():
            changed = sorted(set(built.values()) ^ set(now.values()))
            raise TrainableParametersChanged(
                f'the trainable parameters changed during training ({len(built)} when the '
                f'training step was built, {len(now)} now; e.g. {", ".join(changed[:3])}): the '
                f'step updates only those it was built with. Freeze in the model\'s constructor '
                f'(e.g. ResNet frozen_stages=N) instead of setting requires_grad during the run.')

    def set_lr(self, lr: float) -> None:
        # Parameter.set_data is not seen by kernels that already ran with the parameter (measured:
        # the lr stayed at its first value); ops.assign writes into the same buffer.
        ops.assign(self.optimizer.learning_rate, ms.Tensor(np.float32(lr)))

    def __call__(self, *inputs: ms.Tensor) -> Tuple[ms.Tensor, Sequence[ms.Tensor], bool]:
        """Run one step; returns (total loss, loss terms, whether the update was applied)."""
        total, terms, grads = self._grads(*inputs)
        applied = self._apply(ms.mutable(grads), total)  # mutable: compiled once, not per value
        return total, terms, bool(applied.asnumpy())


def build_train_step(optim_cfg: dict, model: nn.Cell, total_batch: int, use_jit: bool,
                     auto_scale_lr: Optional[dict], logger) -> TrainStep:
    """The training step from ``optim_wrapper`` (optimizer, clip_grad, amp, loss_scale)
    and ``auto_scale_lr`` (lr x total batch / base_batch_size when enabled)."""
    optim = dict(optim_cfg or {})
    check_keys('optim_wrapper', optim, ('optimizer', 'clip_grad', 'amp', 'loss_scale'))
    if 'optimizer' not in optim:
        raise ConfigError('config: optim_wrapper.optimizer is required for training')
    opt_cfg = dict(optim['optimizer'])
    if 'lr' in opt_cfg:
        check_number('optim_wrapper.optimizer.lr', opt_cfg['lr'], integer=False)
    if optim.get('clip_grad'):
        check_number('optim_wrapper.clip_grad.max_norm', dict(optim['clip_grad']).get('max_norm'),
                     integer=False)
    base_lr = float(opt_cfg.get('lr', 1e-3))
    scale = dict(auto_scale_lr or {})
    if scale.get('enable'):
        factor = total_batch / float(scale['base_batch_size'])
        logger.info(f'auto_scale_lr: lr {base_lr:g} x {factor:g} '
                    f'(total batch {total_batch} / base {scale["base_batch_size"]})')
        base_lr *= factor
    opt_cfg['lr'] = base_lr
    amp = optim.get('amp')
    if amp:
        level = amp if isinstance(amp, str) else 'O2'
        logger.info(f'mixed precision: {level}')
        ms.amp.auto_mixed_precision(model, level)
    optimizer = OPTIMIZERS.build(opt_cfg, params=model.trainable_params())
    reducer = None
    if dist.is_distributed():
        reducer = nn.DistributedGradReducer(optimizer.parameters, mean=True,
                                            degree=dist.get_world_size())
    step = TrainStep(model, optimizer, use_jit=use_jit, clip_grad=optim.get('clip_grad'),
                     loss_scale=optim.get('loss_scale'), grad_reducer=reducer, base_lr=base_lr)
    return step


def compile_inference(model: nn.Cell) -> nn.Cell:
    """Compile ``model``'s forward pass with ``mindspore.jit`` (in place; returns the model).

    Inference on CPU measured 1.13x PyTorch compiled vs 0.80x in PyNative (docs/benchmarks.md).
    Each new input shape compiles once (about 1 s for ResNet-50), so callers with varying batch
    sizes should round them to a few sizes.
    """
    model.construct = ms.jit(model.construct)
    return model
