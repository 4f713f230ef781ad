"""Learning-rate schedulers against independent statements of their formulas.

The engine computes each factor in closed form from the step alone (so a resumed run gets the
same lr). The references here are MMEngine's chainable *recursive* updates, which derive each
step's value from the previous one: the two agree only if both are right.
"""
import contextlib
import io
import math

import pytest

from toy_components import toy_config  # noqa: F401  (registers the toy components)
from sbcore.hooks import Hook
from sbcore.registries import HOOKS, SCHEDULERS
from sbcore.runner import Runner
from sbcore.schedulers import CosineAnnealingLR, LinearLR, MultiStepLR

TOL = dict(rel=1e-9, abs=1e-12)  # float64 closed form vs recursion: rounding only


def linear_recursive(start, end_factor, total, steps):
    """MMEngine LinearLR, for t <= T (then constant): f_0 = start;
    f_t = f_{t-1} (1 + (end - start) / (T start + (t-1)(end - start)))."""
    f = [start]
    for t in range(1, steps):
        if t > total:
            f.append(f[-1])
        else:
            delta = end_factor - start
            f.append(f[-1] * (1 + delta / (total * start + (t - 1) * delta)))
    return f


def multistep_recursive(milestones, gamma, steps):
    """MMEngine MultiStepLR: multiply by gamma once per milestone equal to the step."""
    f = [1.0]
    for t in range(1, steps):
        f.append(f[-1] * gamma ** list(milestones).count(t))
    return f


def cosine_recursive(eta_min, total, steps):
    """MMEngine CosineAnnealingLR (base value 1), for t <= T (then constant):
    f_t = eta_min + (f_{t-1} - eta_min) (1 + cos(pi t / T)) / (1 + cos(pi (t-1) / T))."""
    f = [1.0]
    for t in range(1, steps):
        if t > total:
            f.append(f[-1])
        else:
            f.append(eta_min + (f[-1] - eta_min) * (1 + math.cos(math.pi * t / total))
                     / (1 + math.cos(math.pi * (t - 1) / total)))
    return f


def test_linear_warmup_matches_recursive_form():
    s = LinearLR(start_factor=0.001, end_factor=1.0, by_epoch=False, begin=0, end=500)
    ref = linear_recursive(0.001, 1.0, 500, 700)
    assert [s.factor(t) for t in range(700)] == pytest.approx(ref, **TOL)
    assert s.factor(0) == 0.001 and s.factor(500) == 1.0 and s.factor(10**6) == 1.0


def test_linear_with_late_begin_holds_its_edge_values():
    s = LinearLR(start_factor=0.25, end_factor=0.75, by_epoch=False, begin=4, end=14)
    ref = linear_recursive(0.25, 0.75, 10, 16)
    assert [s.factor(t) for t in range(4, 20)] == pytest.approx(ref, **TOL)
    assert [s.factor(t) for t in range(4)] == [0.25] * 4  # before begin: the start value


def test_multistep_matches_recursive_form():
    s = MultiStepLR(milestones=[200, 170], gamma=0.1)  # unsorted on purpose
    ref = multistep_recursive([170, 200], 0.1, 260)
    assert [s.factor(t) for t in range(260)] == pytest.approx(ref, **TOL)
    assert s.factor(169) == 1.0 and s.factor(170) == pytest.approx(0.1)
    assert s.factor(200) == pytest.approx(0.01)
    repeated = MultiStepLR(milestones=[3, 3], gamma=0.5)  # a repeated milestone counts twice
    assert repeated.factor(3) == pytest.approx(0.25)


def test_cosine_matches_recursive_form():
    s = CosineAnnealingLR(eta_min_ratio=0.05, begin=0, end=40)
    ref = cosine_recursive(0.05, 40, 60)
    assert [s.factor(t) for t in range(60)] == pytest.approx(ref, rel=1e-9, abs=1e-9)
    assert s.factor(20) == pytest.approx(0.05 + 0.95 * 0.5) and s.factor(40) == pytest.approx(0.05)


@HOOKS.register(force=True)
class LrRecorderHook(Hook):
    """Records (epoch, global iteration, lr) of every training step."""

    def __init__(self):
        self.lrs = []

    def after_train_iter(self, runner, batch_idx, data_batch, outputs):
        self.lrs.append((runner.epoch, runner.iter - 1, runner.train_step.get_lr()))


def test_chained_per_epoch_and_per_iteration_schedulers_in_a_run(tmp_path):
    """3 epochs x 4 iterations: a per-iteration warm-up over 6 steps, a per-iteration step at
    iteration 9 and a per-epoch cosine over 3 epochs, multiplied."""
    schedulers = [dict(type='LinearLR', start_factor=0.2, by_epoch=False, begin=0, end=6),
                  dict(type='MultiStepLR', milestones=[9], gamma=0.3, by_epoch=False),
                  dict(type='CosineAnnealingLR', eta_min_ratio=0.1, by_epoch=True, begin=0, end=3)]
    cfg = toy_config(tmp_path, param_scheduler=schedulers,
                     train_cfg=dict(max_epochs=3, val_interval=0),
                     custom_hooks=[dict(type='LrRecorderHook')],
                     optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.02, momentum=0.0)))
    cfg['train_dataloader'] = dict(dataset=dict(type='ToyDataset', num_samples=32), batch_size=8,
                                   num_workers=1)
    runner = Runner(cfg)
    with contextlib.redirect_stdout(io.StringIO()):
        runner.train()
    lin = linear_recursive(0.2, 1.0, 6, 12)
    step = multistep_recursive([9], 0.3, 12)
    cos = cosine_recursive(0.1, 3, 3)
    expected = [(it // 4, it, 0.02 * lin[it] * step[it] * cos[it // 4]) for it in range(12)]
    got = runner.get_hook('LrRecorderHook').lrs
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    # the lr lives in a float32 Parameter
    assert [g[2] for g in got] == pytest.approx([e[2] for e in expected], rel=1e-6)


def test_a_scheduler_is_a_function_of_progress_alone(tmp_path):
    """Resuming needs no scheduler state: the hook's lr for any (epoch, iteration) equals the
    product of the factors, whatever was asked before."""
    cfg = toy_config(tmp_path)  # LinearLR per iteration (0.1 -> 1 over 10) x MultiStepLR([3], 0.5)
    runner = Runner(cfg)
    hook = runner.get_hook('ParamSchedulerHook')
    hook.before_run(runner)
    lin = linear_recursive(0.1, 1.0, 10, 40)
    for epoch, it in [(4, 33), (0, 0), (2, 17), (0, 5), (3, 25)]:
        expected = 0.1 * lin[it] * (0.5 if epoch >= 3 else 1.0)
        assert hook.lr_at(0.1, epoch, it) == pytest.approx(expected, **TOL)


@pytest.mark.parametrize('cfg, error, match', [
    (dict(type='LinearLR', begin=5, end=5), ValueError,
     r'LinearLR: end \(5\) must be greater than begin \(5\)'),
    (dict(type='LinearLR', begin=-1, end=5), ValueError,
     r'config: LinearLR.begin must be >= 0, got -1'),
    (dict(type='LinearLR', end=2.5), TypeError,
     r'config: LinearLR.end must be an integer, got 2.5 \(float\)'),
    (dict(type='LinearLR', start_factor='0.1'), TypeError,
     r"config: LinearLR.start_factor must be a number, got '0.1' \(str\)"),
    (dict(type='LinearLR', start_factor=1.5), ValueError,
     r'LinearLR: start_factor must be in \[0, 1\], got 1.5'),
    (dict(type='LinearLR', end_factor=-0.1), ValueError, r'end_factor must be in \[0, 1\]'),
    (dict(type='LinearLR', by_epoch='yes'), TypeError,
     r"LinearLR: by_epoch must be True or False, got 'yes'"),
    (dict(type='MultiStepLR', milestones=[10, 2.5]), ValueError,
     r'milestones must be a list of ints >= 0'),
    (dict(type='MultiStepLR', milestones=170), ValueError, r'milestones must be a list of ints'),
    (dict(type='MultiStepLR', milestones=[1], gamma=0), ValueError, r'gamma must be > 0, got 0'),
    (dict(type='MultiStepLR', milestones=[1], gamma='x'), TypeError,
     r"config: MultiStepLR.gamma must be a number, got 'x'"),
    (dict(type='CosineAnnealingLR', eta_min_ratio=2), ValueError,
     r'eta_min_ratio must be in \[0, 1\], got 2'),
    (dict(type='CosineAnnealingLR', T_max=10), KeyError, r"does not take argument\(s\) 'T_max'"),
])
def test_bad_arguments_are_clear_errors(cfg, error, match):
    with pytest.raises(error, match=match):
        SCHEDULERS.build(cfg)
