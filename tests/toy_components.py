"""A tiny regression task for engine tests: a real MindSpore model, dataset and metric.

Registered in-process (not through entry points) so the engine is tested without sbplugins.
"""
import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)

import mindspore as ms
import numpy as np
from mindspore import nn, ops

from sbcore.hooks import Hook
from sbcore.metric import BaseMetric
from sbcore.registries import DATASETS, HOOKS, METRICS, MODELS

TRUE_W = np.array([[1.5, -2.0], [0.5, 1.0], [-1.0, 0.25]], dtype=np.float32)


@MODELS.register(force=True)
class ToyRegressor(nn.Cell):
    """A two-layer linear regressor (no batch norm); loss = mean squared error."""

    loss_names = ('loss_mse',)

    def __init__(self, in_dim: int = 3, out_dim: int = 2, hidden: int = 16):
        super().__init__()
        self.fc1 = nn.Dense(in_dim, hidden)
        self.fc2 = nn.Dense(hidden, out_dim)
        self.dataset_meta = {}

    def construct(self, x):
        return self.fc2(self.fc1(x))

    def train_inputs(self, batch):
        return batch['x'].astype(np.float32), batch['y'].astype(np.float32)

    def loss(self, x, y):
        return (ops.mean((self.construct(x) - y) ** 2),)

    def predict(self, batch):
        out = self.construct(ms.Tensor(batch['x'].astype(np.float32))).asnumpy()
        return {'y': out}


@DATASETS.register(force=True)
class ToyDataset:
    metainfo = {'name': 'toy'}

    def __init__(self, num_samples: int = 64, noise: float = 0.05, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.x = rng.normal(size=(num_samples, 3)).astype(np.float32)
        self.y = self.x @ TRUE_W
        self.noise = noise

    def __len__(self):
        return len(self.x)

    def get_sample(self, idx, rng):
        # augmentation noise drawn from the per-sample generator
        x = self.x[idx] + rng.normal(scale=self.noise, size=3).astype(np.float32)
        return {'x': x.astype(np.float32), 'y': self.y[idx]}

    def __getitem__(self, idx):
        return self.get_sample(idx, np.random.default_rng(idx))


@METRICS.register(force=True)
class ToyMSE(BaseMetric):
    def process(self, batch, predictions):
        for i, y in zip(batch['sample_idx'], predictions['y']):
            self.results.append((int(i), float(((y - batch['y'][list(batch['sample_idx']).index(i)]) ** 2).mean())))

    def compute_metrics(self, results):
        return {'toy/mse': float(np.mean([r[1] for r in results])), 'toy/count': len(results)}


@HOOKS.register(force=True)
class CrashHook(Hook):
    """Raises at the start of ``at_epoch`` (0-based), after earlier checkpoints were written."""

    def __init__(self, at_epoch: int):
        self.at_epoch = at_epoch

    def before_train_epoch(self, runner):
        if runner.epoch == self.at_epoch:
            raise RuntimeError(f'simulated crash at epoch {self.at_epoch}')


def toy_config(work_dir, **overrides):
    cfg = dict(
        work_dir=str(work_dir),
        seed=3,
        model=dict(type='ToyRegressor'),
        train_dataloader=dict(dataset=dict(type='ToyDataset', num_samples=64), batch_size=8,
                              num_workers=2),
        val_dataloader=dict(dataset=dict(type='ToyDataset', num_samples=20, noise=0.0, seed=1),
                            batch_size=8, num_workers=1),
        val_evaluator=dict(type='ToyMSE'),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.1)),
        param_scheduler=[dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
                         dict(type='MultiStepLR', milestones=[3], gamma=0.5)],
        train_cfg=dict(max_epochs=4, val_interval=2),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=4),
                           checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                                           save_best='toy/mse')),
    )
    cfg.update(overrides)
    return cfg
