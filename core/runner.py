"""The runner: builds model, hooks, loops and the training step from a config, and wires them.

Loops (``loops.py``) drive training and evaluation and own their counters and data loaders; hooks
(``hooks/``) do everything optional; the process (device, seeds, logger) is ``run_env.py``, the
run's checkpoint state ``run_state.py``, the training step and its lr ``train_step.py``, evaluation
``evaluator.py``, joining a distributed launch ``dist.py``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from .env import setup_env

setup_env()  # before mindspore is imported (see env.py)

from mindspore import nn  # noqa: E402

from . import dist, run_state  # noqa: E402
from .config import Config  # noqa: E402
from .data import DataLoader, build_dataloader  # noqa: E402
from .errors import ConfigError, check_keys  # noqa: E402
from .hooks.builder import build_hook, build_hooks, sort_hooks  # noqa: E402
from .hooks.hook import HOOK_POINTS, Hook  # noqa: E402
from .priority import get_priority  # noqa: E402
from .registries import LOOPS, MODELS, known_config_keys  # noqa: E402
from .run_env import setup_run_env  # noqa: E402
from .train_step import TrainStep, build_train_step, compile_inference  # noqa: E402


def _plain(cfg: Any) -> Any:
    return cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg


class Runner:
    """Args:
        cfg: the merged config (a ``Config`` or a dict); ``work_dir`` is required.
    """

    def __init__(self, cfg: Union[Config, dict]):
        self.cfg = cfg if isinstance(cfg, Config) else Config(dict(cfg))
        check_keys('config', self.cfg.keys(), known_config_keys())
        if not self.cfg.get('work_dir'):
            raise ConfigError('config: work_dir is required')
        self.work_dir = str(Path(self.cfg.work_dir).resolve())
        env = setup_run_env(self.cfg, self.work_dir)
        self.device, self.use_jit, self.jit_inference = env.device, env.use_jit, env.jit_inference
        self.rank, self.world_size, self.seed, self.logger = (env.rank, env.world_size, env.seed,
                                                              env.logger)
        if dist.is_main_process():
            name = Path(self.cfg.filename).name if self.cfg.filename else 'config.py'
            self.cfg.dump(Path(self.work_dir) / name)

        self.model: nn.Cell = MODELS.build(_plain(self.cfg.model))
        if env.sync_bn:  # raises where MindSpore has no SyncBatchNorm (CPU)
            n_bn = dist.convert_sync_batchnorm(self.model, self.device)
            self.logger.info(f'sync_bn: {n_bn} batch-norm layers synchronised across ranks')
        if self.jit_inference:
            compile_inference(self.model)
        self.hooks: List[Hook] = build_hooks(self.cfg.get('default_hooks'),
                                             self.cfg.get('custom_hooks'))
        self.timings: Dict[str, float] = {}
        self.optimizer: Optional[nn.Optimizer] = None
        self.train_step: Optional[TrainStep] = None
        self.stop_reason: Optional[str] = None
        self._loops: Dict[str, Any] = {}

    @classmethod
    def from_cfg(cls, cfg: Union[Config, dict]) -> 'Runner':
        return cls(cfg)

    # hooks -----------------------------------------------------------------------------------
    def register_hook(self, hook: Union[Hook, dict], priority: Any = None) -> None:
        """Add a hook, or the config of one, in priority order (MMEngine's ``register_hook``);
        ``priority`` replaces the hook's own."""
        hook = build_hook(hook)
        if priority is not None:
            get_priority(priority)  # a bad value fails here, naming the levels
            hook.priority = priority
        self.hooks = sort_hooks(self.hooks + [hook])

    def call_hook(self, point: str, **kwargs: Any) -> None:
        if point not in HOOK_POINTS:
            raise ValueError(f'unknown hook point {point!r}')
        for hook in self.hooks:
            getattr(hook, point)(self, **kwargs)

    def get_hook(self, cls_name: str) -> Optional[Hook]:
        return next((h for h in self.hooks if type(h).__name__ == cls_name), None)

    def request_stop(self, reason: str) -> None:
        """Ask training to stop after the current step (a hook calls this; logged with reason)."""
        self.stop_reason = reason

    # components ------------------------------------------------------------------------------
    def build_dataloader(self, key: str) -> DataLoader:
        """The data loader of config key ``key`` (``train_dataloader``, ...); sets the model's
        ``dataset_meta`` from its dataset."""
        if not self.cfg.get(key):
            raise ConfigError(f'config: {key} is required for this run')
        loader = build_dataloader(_plain(self.cfg.get(key)), seed=self.seed, rank=self.rank,
                                  world_size=self.world_size,
                                  default_shuffle=(key == 'train_dataloader'), where=key)
        self.model.dataset_meta = loader.dataset.metainfo
        return loader

    def _loop(self, mode: str, default_type: str, **args: Any) -> Any:
        if mode not in self._loops:
            loop_cfg = dict(dict(type=default_type), **dict(self.cfg.get(f'{mode}_cfg') or {}))
            self._loops[mode] = LOOPS.build(loop_cfg, runner=self,
                                            dataloader=self.build_dataloader(f'{mode}_dataloader'),
                                            **args)
        return self._loops[mode]

    @property
    def train_loop(self):
        return self._loop('train', 'EpochBasedTrainLoop')

    @property
    def val_loop(self):
        """None when the config has no validation data or evaluator."""
        if not (self.cfg.get('val_dataloader') and self.cfg.get('val_evaluator')):
            return None
        return self._loop('val', 'ValLoop', evaluator='val_evaluator')

    @property
    def test_loop(self):
        return self._loop('test', 'TestLoop', evaluator='test_evaluator')

    # what hooks read -------------------------------------------------------------------------
    epoch = property(lambda self: self._loops['train'].epoch if 'train' in self._loops else 0)
    iter = property(lambda self: self._loops['train'].iter if 'train' in self._loops else 0)
    max_epochs = property(lambda self: self.train_loop.max_epochs)
    max_iters = property(lambda self: self.train_loop.max_iters)
    train_dataloader = property(lambda self: self.train_loop.dataloader)
    val_dataloader = property(lambda self: self.val_loop.dataloader)
    test_dataloader = property(lambda self: self.test_loop.dataloader)

    # checkpoints (run_state.py) --------------------------------------------------------------
    def _build_optimizer(self) -> None:
        self.train_step = build_train_step(
            self.cfg.get('optim_wrapper'), self.model,
            self.train_dataloader.batch_size * self.world_size, self.use_jit,
            self.cfg.get('auto_scale_lr'), self.logger)
        self.optimizer = self.train_step.optimizer

    def save_checkpoint(self, path: Union[str, Path]) -> None:
        run_state.save(self, path)

    def load_checkpoint(self, path: Union[str, Path], resume: bool = False) -> dict:
        return run_state.load(self, path, resume)

    # entry points: the run points are called the same way for train, val and test ------------
    def _run(self, body) -> Any:
        self.call_hook('before_run')
        try:
            return body()
        finally:
            self.call_hook('after_run')

    def train(self) -> nn.Cell:
        checkpoint, resume = run_state.checkpoint_to_load(self)
        run_state.init_weights(self, checkpoint)  # a missing pretrained file stops the run here
        loop = self.train_loop  # builds the data and sets model.dataset_meta before anything runs
        if getattr(loop, 'val_interval', 0) > 0:  # a bad val config fails now, not after an epoch
            _ = self.val_loop
        self._build_optimizer()
        self.stop_reason = None

        def body():
            if checkpoint is not None:
                self.load_checkpoint(checkpoint, resume=resume)
            loop.run()
        self._run(body)
        return self.model

    def val(self) -> Dict[str, float]:
        """Evaluate the model as it is (``load_from`` weights, when given) on the val data."""
        loop = self.val_loop
        if loop is None:
            raise ConfigError('config: val_dataloader and val_evaluator are required for val()')
        return self._evaluate(loop)

    def test(self) -> Dict[str, float]:
        """Evaluate ``load_from`` weights on the test data (the model's own initialisation, e.g.
        its pretrained file, only without ``load_from``)."""
        return self._evaluate(self.test_loop)

    def _evaluate(self, loop) -> Dict[str, float]:
        checkpoint = self.cfg.get('load_from') or None
        run_state.init_weights(self, checkpoint)  # the model's own, only without load_from

        def body():
            if checkpoint is not None:
                self.load_checkpoint(checkpoint, resume=False)
            return loop.run()
        return self._run(body)
