"""End-to-end engine tests with a real MindSpore model trained by the runner."""
import json

import numpy as np
import pytest

from toy_components import toy_config  # noqa: F401  (registers the toy components)
import mindspore as ms
from mindspore import nn, ops
from sbcore import checkpoint as ckpt_io
from sbcore import run_state
from sbcore.runner import Runner
from sbcore.train_step import TrainStep


def weights(runner):
    return {n: p.asnumpy().copy() for n, p in runner.model.parameters_and_names()}


def test_training_reduces_loss_and_writes_logs(tmp_path):
    runner = Runner(toy_config(tmp_path))
    runner.train()
    records = [json.loads(l) for l in (tmp_path / 'log.json').read_text().splitlines()]
    train = [r for r in records if r['mode'] == 'train']
    val = [r for r in records if r['mode'] == 'val']
    assert train[-1]['loss'] < train[0]['loss'] * 0.5
    for key in ('epoch', 'iter', 'lr', 'loss', 'loss_mse', 'data_time', 'time', 'eta_s', 'memory_mb'):
        assert key in train[0]
    assert [r['epoch'] for r in val] == [2, 4]
    assert val[-1]['toy/count'] == 20  # every val sample counted once
    assert json.loads((tmp_path / 'metrics.json').read_text())['toy/count'] == 20
    # lr: warm-up over 10 iterations then x0.5 from epoch 3 (8 iterations per epoch)
    lrs = {r['iter']: r['lr'] for r in train}
    assert lrs[4] == pytest.approx(0.1 * (0.1 + 0.9 * 3 / 10), rel=1e-5)
    assert lrs[32] == pytest.approx(0.05, rel=1e-5)
    # checkpoints: last two kept, pointer, best, config dump
    assert sorted(p.name for p in tmp_path.glob('epoch_*.ckpt')) == ['epoch_3.ckpt', 'epoch_4.ckpt']
    assert (tmp_path / 'last_checkpoint').read_text().strip() == 'epoch_4.ckpt'
    assert len(list(tmp_path.glob('best_toy_mse_epoch_*.ckpt'))) == 1
    assert (tmp_path / 'config.py').is_file()
    assert 'Epoch(train) [4/4][8/8]' in (tmp_path / 'run.log').read_text()


@pytest.mark.parametrize('use_jit', [True, False])
def test_interrupted_run_resumes_to_identical_weights(tmp_path, use_jit):
    env = dict(jit=use_jit)
    full = Runner(toy_config(tmp_path / 'full', env_cfg=env))
    full.train()
    expected = weights(full)

    crashed = Runner(toy_config(tmp_path / 'crash', env_cfg=env,
                                custom_hooks=[dict(type='CrashHook', at_epoch=3)]))
    with pytest.raises(RuntimeError, match='simulated crash'):
        crashed.train()
    assert (tmp_path / 'crash' / 'epoch_3.ckpt').is_file()

    resumed = Runner(toy_config(tmp_path / 'crash', env_cfg=env, resume=True))
    resumed.train()
    assert resumed.epoch == 4 and resumed.iter == 32
    got = weights(resumed)
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    # the best-metric state survived the resume
    assert resumed.get_hook('CheckpointHook').best_score == full.get_hook('CheckpointHook').best_score


def test_resume_restores_optimizer_moments(tmp_path):
    runner = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=1, val_interval=0)))
    runner.train()
    arrays, meta = ckpt_io.load_checkpoint(tmp_path / 'epoch_1.ckpt')
    assert meta['epoch'] == 1 and meta['iter'] == 8
    moments = [k for k in arrays if k.startswith('optimizer.moment1.')]
    assert moments and any(np.abs(arrays[k]).sum() > 0 for k in moments)
    fresh = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=1, val_interval=0)))
    fresh._build_optimizer()
    fresh.load_checkpoint(tmp_path / 'epoch_1.ckpt', resume=True)
    for name, p in run_state.optimizer_state(fresh.model, fresh.optimizer).items():
        np.testing.assert_array_equal(p.asnumpy(), arrays[name])


def test_load_from_is_weights_only(tmp_path):
    first = Runner(toy_config(tmp_path / 'a', train_cfg=dict(max_epochs=1, val_interval=0)))
    first.train()
    second = Runner(toy_config(tmp_path / 'b', load_from=str(tmp_path / 'a' / 'epoch_1.ckpt'),
                               train_cfg=dict(max_epochs=1, val_interval=0)))
    second.train()
    assert second.epoch == 1  # started from epoch 0 with loaded weights, not resumed


def test_grad_clipping_and_pynative_step_run(tmp_path):
    runner = Runner(toy_config(tmp_path, env_cfg=dict(jit=False),
                               optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.0),
                                                  clip_grad=dict(max_norm=0.1)),
                               train_cfg=dict(max_epochs=1, val_interval=0)))
    before = weights(runner)
    runner.train()
    after = weights(runner)
    step = np.sqrt(sum(((after[k] - before[k]) ** 2).sum() for k in before))
    # 8 SGD steps with lr 0.05 (warm-up factors <= 1) and gradient norm clipped to 0.1
    assert 0 < step <= 8 * 0.05 * 0.1 + 1e-6


def test_unknown_config_keys_are_errors(tmp_path):
    with pytest.raises(KeyError, match="'train_cgf' \\(did you mean 'train_cfg'\\?\\)"):
        Runner(toy_config(tmp_path, train_cgf=dict(max_epochs=1)))
    # train_cfg holds the loop's arguments (type=EpochBasedTrainLoop by default)
    with pytest.raises(KeyError, match="EpochBasedTrainLoop does not take argument\\(s\\) "
                                       "'max_epoch' \\(did you mean 'max_epochs'\\?\\)"):
        Runner(toy_config(tmp_path, train_cfg=dict(max_epoch=1))).train()


def test_nonfinite_loss_stops_and_keeps_checkpoint(tmp_path):
    cfg = toy_config(tmp_path, optim_wrapper=dict(optimizer=dict(type='SGD', lr=1e30)),
                     param_scheduler=[], train_cfg=dict(max_epochs=3, val_interval=0))
    runner = Runner(cfg)
    from sbcore.loops import NonFiniteLossError
    with pytest.raises(NonFiniteLossError, match=r'at epoch \d+, iteration \d+'):
        runner.train()
    for ckpt in tmp_path.glob('epoch_*.ckpt'):
        arrays, _ = ckpt_io.load_checkpoint(ckpt)
        assert all(np.isfinite(v).all() for v in arrays.values())


class _SqrtAbsLoss(nn.Cell):
    """loss = sqrt(|w|): finite (0) at w = 0 while its gradient there is infinite."""

    def __init__(self):
        super().__init__()
        self.w = ms.Parameter(ms.Tensor(np.zeros(3, np.float32)), name='w')

    def loss(self, x):
        return (ops.sqrt(ops.abs(self.w * x)).sum(),)


@pytest.mark.parametrize('use_jit', [True, False])
def test_train_step_never_applies_a_nonfinite_gradient(use_jit):
    model = _SqrtAbsLoss()
    optimizer = nn.Adam(model.trainable_params(), learning_rate=0.1)
    step = TrainStep(model, optimizer, use_jit=use_jit)
    total, _, applied = step(ms.Tensor(np.ones(3, np.float32)))
    assert float(total.asnumpy()) == 0.0 and applied is False  # finite loss, infinite gradient
    assert np.array_equal(model.w.asnumpy(), np.zeros(3, np.float32))
    assert not any(np.any(p.asnumpy()) for p in optimizer.moment1)  # moments untouched too
    ops.assign(model.w, ms.Tensor(np.full(3, 4.0, np.float32)))
    total, _, applied = step(ms.Tensor(np.ones(3, np.float32)))
    assert applied is True and float(total.asnumpy()) == pytest.approx(6.0)
    assert (model.w.asnumpy() < 4.0).all()  # a finite step moves the weights downhill
