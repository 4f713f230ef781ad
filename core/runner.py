"""The runner: builds model, optimizer, data and hooks from a config and holds the run's state.

Loops (``loops.py``) drive training and evaluation, checkpoint files are handled by
``checkpoint.py``, the learning rate by the scheduler hook, launch by ``dist.py``. The runner
only wires them together.
"""
from __future__ import annotations

import difflib
import numbers
import os
import random
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from .env import describe_env, num_threads, setup_env

setup_env()  # before mindspore is imported (see env.py)

import mindspore as ms  # noqa: E402
import numpy as np  # noqa: E402
from mindspore import nn, ops  # noqa: E402

from . import checkpoint as ckpt_io  # noqa: E402
from . import dist  # noqa: E402
from .config import Config  # noqa: E402
from .data import DataLoader, build_dataloader  # noqa: E402
from .errors import ConfigError  # noqa: E402
from .evaluator import Evaluator  # noqa: E402
from .hooks.hook import HOOK_POINTS, Hook  # noqa: E402
from .logging import get_logger  # noqa: E402
from .loops import EvalLoop, TrainLoop  # noqa: E402
from .priority import get_priority  # noqa: E402
from .registries import HOOKS, MODELS, OPTIMIZERS  # noqa: E402
from .train_step import TrainStep  # noqa: E402

KNOWN_KEYS = {
    'model', 'work_dir', 'seed', 'load_from', 'resume', 'launcher', 'env_cfg',
    'train_dataloader', 'val_dataloader', 'test_dataloader', 'val_evaluator', 'test_evaluator',
    'optim_wrapper', 'param_scheduler', 'auto_scale_lr', 'train_cfg', 'val_cfg', 'test_cfg',
    'default_hooks', 'custom_hooks', 'visualization',
}
TRAIN_CFG_KEYS = {'max_epochs', 'val_interval', 'val_begin', 'nonfinite_loss'}
ENV_CFG_KEYS = {'device', 'jit', 'jit_inference', 'num_threads', 'sync_bn'}
OPTIM_KEYS = {'optimizer', 'clip_grad', 'amp', 'loss_scale'}

DEFAULT_HOOKS = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)


def _check_keys(where: str, given, known) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        hints = []
        for k in unknown:
            close = difflib.get_close_matches(k, sorted(known), n=1)
            hints.append(f'{k!r}' + (f' (did you mean {close[0]!r}?)' if close else ''))
        raise ConfigError(f'{where}: unknown key(s) {", ".join(hints)}; known keys: '
                          f'{", ".join(sorted(known))}')


def _check_number(where: str, value: Any, integer: bool = True) -> None:
    """A config number given as e.g. 'x' would fail deep inside (``int('x')``) with a message that
    names neither the key nor what was expected; fail here instead."""
    ok = isinstance(value, numbers.Integral if integer else numbers.Real)
    if isinstance(value, bool) or not ok:
        raise ConfigError(f'config: {where} must be {"an integer" if integer else "a number"}, '
                          f'got {value!r} ({type(value).__name__})')


def compile_inference(model: nn.Cell) -> nn.Cell:
    """Compile ``model``'s forward pass with ``mindspore.jit`` (in place; returns the model).

    Inference on CPU measured 1.13x PyTorch compiled vs 0.80x in PyNative (docs/benchmarks.md).
    Each new input shape compiles once (about 1 s for ResNet-50), so callers with varying batch
    sizes should round them to a few sizes (``sbplugins.apis.inference_topdown`` does).
    """
    model.construct = ms.jit(model.construct)
    return model


class Runner:
    """Args:
        cfg: the merged config (a ``Config`` or a dict); ``work_dir`` is required.
    """

    def __init__(self, cfg: Union[Config, dict]):
        self.cfg = cfg if isinstance(cfg, Config) else Config(dict(cfg))
        _check_keys('config', self.cfg.keys(), KNOWN_KEYS)
        if not self.cfg.get('work_dir'):
            raise ConfigError('config: work_dir is required (tools/train.py sets work_dirs/<config name>)')
        self.work_dir = str(Path(self.cfg.work_dir).resolve())
        env_cfg = dict(self.cfg.get('env_cfg') or {})
        _check_keys('env_cfg', env_cfg, ENV_CFG_KEYS)
        self.device = env_cfg.get('device', os.environ.get('SBPOSE_DEVICE', 'CPU'))
        # Training step and inference compiled (mindspore.jit) by default on every device: the
        # fastest measured settings (docs/benchmarks.md, "Defaults chosen"); False runs PyNative.
        self.use_jit = bool(env_cfg.get('jit', True))
        self.jit_inference = bool(env_cfg.get('jit_inference', True))

        dist.init_dist(self.cfg.get('launcher', 'none'))
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        if ms.get_context('device_target') != self.device:  # may be set once per process
            ms.set_device(self.device)
        if self.device == 'CPU' or env_cfg.get('num_threads'):  # config > SBPOSE_NUM_THREADS > CPUs
            ms.set_context(runtime_num_threads=int(env_cfg.get('num_threads') or num_threads()))
        _check_number('seed', self.cfg.get('seed', 0))
        self.seed = int(self.cfg.get('seed', 0))
        ms.set_seed(self.seed)
        np.random.seed(self.seed)
        random.seed(self.seed)

        if dist.is_main_process():
            Path(self.work_dir).mkdir(parents=True, exist_ok=True)
        self.logger = get_logger(self.work_dir, self.rank)
        self.logger.info(f'environment: device={self.device} '
                         f'training step={"compiled" if self.use_jit else "PyNative"} '
                         f'inference={"compiled" if self.jit_inference else "PyNative"} '
                         f'runtime_num_threads={ms.get_context("runtime_num_threads")} '
                         f'ONEDNN_MAX_CPU_ISA={os.environ.get("ONEDNN_MAX_CPU_ISA", "<unset>")} '
                         f'world_size={self.world_size} rank={self.rank} seed={self.seed}'
                         + (f' | {describe_env()}' if self.device == 'CPU' else ''))
        if dist.is_main_process():
            name = Path(self.cfg.filename).name if self.cfg.filename else 'config.py'
            self.cfg.dump(Path(self.work_dir) / name)

        self.model: nn.Cell = MODELS.build(self.cfg.model.to_dict() if hasattr(self.cfg.model, 'to_dict')
                                           else dict(self.cfg.model))
        if env_cfg.get('sync_bn'):  # raises where MindSpore has no SyncBatchNorm (CPU)
            n_bn = dist.convert_sync_batchnorm(self.model, self.device)
            self.logger.info(f'sync_bn: {n_bn} batch-norm layers synchronised across ranks')
        if self.jit_inference:
            compile_inference(self.model)
        self.hooks: List[Hook] = self._build_hooks()
        self.epoch = 0
        self.iter = 0
        self.timings: Dict[str, float] = {}
        self.optimizer: Optional[nn.Optimizer] = None
        self.train_step: Optional[TrainStep] = None
        self._loaders: Dict[str, DataLoader] = {}
        self._evaluators: Dict[str, Evaluator] = {}
        train_cfg = dict(self.cfg.get('train_cfg') or {})
        _check_keys('train_cfg', train_cfg, TRAIN_CFG_KEYS)
        self.train_cfg = train_cfg

    @classmethod
    def from_cfg(cls, cfg: Union[Config, dict]) -> 'Runner':
        return cls(cfg)

    # hooks -----------------------------------------------------------------------------------
    def _build_hooks(self) -> List[Hook]:
        merged = dict(DEFAULT_HOOKS)
        for name, hook_cfg in dict(self.cfg.get('default_hooks') or {}).items():
            merged[name] = hook_cfg
        cfgs = [c for c in merged.values() if c is not None] + list(self.cfg.get('custom_hooks') or [])
        hooks = []
        for c in cfgs:
            if isinstance(c, Hook):
                hooks.append(c)
                continue
            c = dict(c)
            priority = c.pop('priority', None)
            hook = HOOKS.build(c)
            if not isinstance(hook, Hook):
                raise ConfigError(f'hook {c["type"]!r} built a {type(hook).__name__}, not a sbcore Hook')
            if priority is not None:
                try:  # validated here, so the error can name the hook
                    get_priority(priority)
                except (TypeError, ValueError) as err:
                    raise type(err)(f'hook {c["type"]!r}: {err}') from None
                hook.priority = priority
            hooks.append(hook)
        # stable sort: equal priorities keep config order
        return sorted(hooks, key=lambda h: get_priority(h.priority))

    def register_hook(self, hook: Hook) -> None:
        self.hooks.append(hook)
        self.hooks.sort(key=lambda h: get_priority(h.priority))

    def call_hook(self, point: str, **kwargs: Any) -> None:
        if point not in HOOK_POINTS:
            raise ValueError(f'unknown hook point {point!r}')
        for hook in self.hooks:
            getattr(hook, point)(self, **kwargs)

    def get_hook(self, cls_name: str) -> Optional[Hook]:
        return next((h for h in self.hooks if type(h).__name__ == cls_name), None)

    # data ------------------------------------------------------------------------------------
    def _loader(self, key: str) -> DataLoader:
        if key not in self._loaders:
            cfg = self.cfg.get(key)
            if not cfg:
                raise ConfigError(f'config: {key} is required for this run')
            for name in ('batch_size', 'num_workers'):
                if name in cfg:
                    _check_number(f'{key}.{name}', cfg[name])
            loader = build_dataloader(cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg),
                                      seed=self.seed, rank=self.rank, world_size=self.world_size,
                                      default_shuffle=(key == 'train_dataloader'))
            self.model.dataset_meta = loader.dataset.metainfo
            self._loaders[key] = loader
        return self._loaders[key]

    @property
    def train_dataloader(self) -> DataLoader:
        return self._loader('train_dataloader')

    @property
    def val_dataloader(self) -> DataLoader:
        return self._loader('val_dataloader')

    @property
    def test_dataloader(self) -> DataLoader:
        return self._loader('test_dataloader')

    @property
    def val_dataloader_len(self) -> int:
        return len(self.val_dataloader)

    def _evaluator(self, key: str) -> Evaluator:
        if key not in self._evaluators:
            cfg = self.cfg.get(key)
            if not cfg:
                raise ConfigError(f'config: {key} is required for this run')
            self._evaluators[key] = Evaluator(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg)
        return self._evaluators[key]

    @property
    def val_evaluator(self) -> Evaluator:
        return self._evaluator('val_evaluator')

    @property
    def test_evaluator(self) -> Evaluator:
        return self._evaluator('test_evaluator')

    @property
    def has_val(self) -> bool:
        return bool(self.cfg.get('val_dataloader')) and bool(self.cfg.get('val_evaluator'))

    # optimisation ----------------------------------------------------------------------------
    def _build_optimizer(self) -> None:
        optim = dict(self.cfg.get('optim_wrapper') or {})
        _check_keys('optim_wrapper', optim, OPTIM_KEYS)
        if 'optimizer' not in optim:
            raise ConfigError('config: optim_wrapper.optimizer is required for training')
        opt_cfg = dict(optim['optimizer'])
        if 'lr' in opt_cfg:
            _check_number('optim_wrapper.optimizer.lr', opt_cfg['lr'], integer=False)
        if optim.get('clip_grad'):
            _check_number('optim_wrapper.clip_grad.max_norm',
                          dict(optim['clip_grad']).get('max_norm'), integer=False)
        self.base_lr = float(opt_cfg.get('lr', 1e-3))
        scale = dict(self.cfg.get('auto_scale_lr') or {})
        if scale.get('enable'):
            total_batch = self.train_dataloader.batch_size * self.world_size
            factor = total_batch / float(scale['base_batch_size'])
            self.logger.info(f'auto_scale_lr: lr {self.base_lr:g} x {factor:g} '
                             f'(total batch {total_batch} / base {scale["base_batch_size"]})')
            self.base_lr *= factor
        opt_cfg['lr'] = self.base_lr
        amp = optim.get('amp')
        if amp:
            level = amp if isinstance(amp, str) else 'O2'
            self.logger.info(f'mixed precision: {level}')
            ms.amp.auto_mixed_precision(self.model, level)
        self.optimizer = OPTIMIZERS.build(opt_cfg, params=self.model.trainable_params())
        reducer = None
        if dist.is_distributed():
            reducer = nn.DistributedGradReducer(self.optimizer.parameters, mean=True,
                                                degree=self.world_size)
        self.train_step = TrainStep(self.model, self.optimizer, use_jit=self.use_jit,
                                    clip_grad=optim.get('clip_grad'),
                                    loss_scale=optim.get('loss_scale'), grad_reducer=reducer)

    def get_lr(self) -> float:
        return float(self.optimizer.learning_rate.asnumpy())

    def set_lr(self, lr: float) -> None:
        # Parameter.set_data is not seen by kernels that already ran with the parameter (measured:
        # the lr stayed at its first value); ops.assign writes into the same buffer.
        ops.assign(self.optimizer.learning_rate, ms.Tensor(np.float32(lr)))

    # checkpoints -----------------------------------------------------------------------------
    def _model_params(self) -> Dict[str, ms.Parameter]:
        return dict(self.model.parameters_and_names())

    def _optimizer_state(self) -> Dict[str, ms.Parameter]:
        if self.optimizer is None:
            return {}
        model_ids = {id(p) for p in self.model.get_parameters()}
        return {f'optimizer.{n}': p for n, p in self.optimizer.parameters_and_names()
                if id(p) not in model_ids}

    def save_checkpoint(self, path: Union[str, Path]) -> None:
        """Model weights, optimizer state and run state; written by rank 0 only."""
        if not dist.is_main_process():
            return
        arrays = {n: p.asnumpy() for n, p in self._model_params().items()}
        arrays.update({n: p.asnumpy() for n, p in self._optimizer_state().items()})
        np_state = np.random.get_state()
        meta = dict(epoch=self.epoch, iter=self.iter, seed=self.seed,
                    numpy_random_state=[np_state[0], np_state[1].tolist(), *np_state[2:]],
                    python_random_state=[random.getstate()[0], list(random.getstate()[1]),
                                         random.getstate()[2]])
        checkpoint = dict(meta=meta)
        self.call_hook('before_save_checkpoint', checkpoint=checkpoint)
        ckpt_io.save_checkpoint(path, arrays, checkpoint['meta'])
        self.logger.info(f'saved checkpoint {path}')

    def load_checkpoint(self, path: Union[str, Path], resume: bool = False) -> dict:
        """Load weights (``resume=False``) or the full training state (``resume=True``)."""
        if not resume:
            meta = ckpt_io.load_weights(self.model, path)
            self.logger.info(f'loaded weights from {path}')
        else:
            arrays, meta = ckpt_io.load_checkpoint(path)
            if 'epoch' not in meta or 'iter' not in meta:  # meta may hold only num_arrays
                raise ckpt_io.CheckpointError(f'checkpoint {path} has no run state to resume from '
                                              f'(use load_from for weights only)')
            state = dict(self._model_params(), **self._optimizer_state())
            ckpt_io.assign_state(state, arrays, str(path))
            self.epoch, self.iter = int(meta['epoch']), int(meta['iter'])
            if 'numpy_random_state' in meta:
                s = meta['numpy_random_state']
                np.random.set_state((s[0], np.array(s[1], dtype=np.uint32), *s[2:]))
            if 'python_random_state' in meta:
                s = meta['python_random_state']
                random.setstate((s[0], tuple(s[1]), s[2]))
            self.call_hook('after_load_checkpoint', checkpoint=dict(meta=meta))
            self.logger.info(f'resumed from {path} at epoch {self.epoch}, iteration {self.iter}')
        return meta

    def _checkpoint_to_load(self) -> Tuple[Optional[Union[str, Path]], bool]:
        """``(path, resume)`` of the checkpoint this run starts from: ``resume`` (a path, or the
        latest loadable checkpoint of the work dir), else ``load_from``; ``(None, False)``."""
        resume = self.cfg.get('resume', False)
        if resume:
            path = resume if isinstance(resume, str) else ckpt_io.find_latest_checkpoint(
                self.work_dir, log=self.logger.warning)
            if path is not None:
                return path, True
            self.logger.info(f'resume: no checkpoint in {self.work_dir}; starting from scratch')
        return self.cfg.get('load_from') or None, False

    def init_weights(self, checkpoint: Optional[Union[str, Path]]) -> None:
        """The model's own initialisation (``model.init_weights()``, e.g. a pretrained backbone
        file), unless ``checkpoint`` will supply every weight: loading checks that it holds
        every parameter, so the ``pretrained`` file is then neither required nor read."""
        if checkpoint is not None:
            self.logger.info(f'weights come from {checkpoint}; the model\'s own initialisation '
                             f'(e.g. a pretrained file) is skipped')
        elif callable(getattr(self.model, 'init_weights', None)):
            self.model.init_weights()

    def _load_or_resume(self, checkpoint: Optional[Union[str, Path]], resume: bool) -> None:
        if checkpoint is not None:
            self.load_checkpoint(checkpoint, resume=resume)

    # entry points ----------------------------------------------------------------------------
    @property
    def max_epochs(self) -> int:
        return int(self.train_cfg['max_epochs'])

    @property
    def iters_per_epoch(self) -> int:
        return len(self.train_dataloader)

    @property
    def max_iters(self) -> int:
        return self.max_epochs * self.iters_per_epoch

    def train(self) -> nn.Cell:
        if 'max_epochs' not in self.train_cfg:
            raise ConfigError('config: train_cfg.max_epochs is required for training')
        for name in ('max_epochs', 'val_interval', 'val_begin'):
            if name in self.train_cfg:
                _check_number(f'train_cfg.{name}', self.train_cfg[name])
        loop = TrainLoop(self, **self.train_cfg)
        checkpoint, resume = self._checkpoint_to_load()
        self.init_weights(checkpoint)  # a missing pretrained file stops the run here
        _ = self.train_dataloader  # builds the dataset and sets model.dataset_meta before anything runs
        if self.has_val and loop.val_interval > 0:  # a bad val config fails now, not after an epoch
            _ = self.val_dataloader, self.val_evaluator
        self._build_optimizer()
        self.call_hook('before_run')
        self._load_or_resume(checkpoint, resume)
        try:
            loop.run()
        finally:
            self.call_hook('after_run')
        return self.model

    def val(self) -> Dict[str, float]:
        return EvalLoop(self, 'val').run()

    def test(self) -> Dict[str, float]:
        """Evaluate ``load_from`` weights on the test data (the model's own initialisation, e.g.
        its pretrained file, only without ``load_from``)."""
        self.init_weights(self.cfg.get('load_from') or None)
        self.call_hook('before_run')
        self._load_or_resume(self.cfg.get('load_from') or None, False)
        try:
            return EvalLoop(self, 'test').run()
        finally:
            self.call_hook('after_run')
