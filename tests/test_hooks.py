"""Hooks: the misspelling check, priorities, the order of hook points in real toy runs, the
logger's text and JSON output, and the checkpoint hook's files (interval, keep, last, best)."""
import contextlib
import io
import json
from collections import defaultdict

import pytest

from toy_components import toy_config  # noqa: F401  (registers the toy components)
from sbcore import checkpoint as ckpt_io
from sbcore.hooks import HOOK_POINTS, Hook
from sbcore.errors import UserError
from sbcore.hooks.checkpoint import CheckpointHook
from sbcore.hooks.early_stopping import EarlyStoppingHook
from sbcore.hooks.logger import LoggerHook
from sbcore.metric import BaseMetric
from sbcore.priority import Priority, get_priority
from sbcore.registries import HOOKS, METRICS
from sbcore.runner import Runner

SINKS = defaultdict(list)  # sink name -> records; configs carry only the sink's name


def _record(point):
    def method(self, runner, *args, **kwargs):
        SINKS[self.sink].append((point, self.label, runner.epoch, runner.iter))
    return method


@HOOKS.register(force=True)
class PointRecorderHook(Hook):
    """Appends ``(point, label, epoch, iter)`` to ``SINKS[sink]`` at every hook point."""

    def __init__(self, sink: str, label: str = ''):
        self.sink, self.label = sink, label

    locals().update({p: _record(p) for p in HOOK_POINTS})


@HOOKS.register(force=True)
class CheckpointProbeHook(Hook):
    """Runs after the CheckpointHook at the end of each epoch; records the files it left."""

    priority = 'LOWEST'

    def __init__(self, sink: str):
        self.sink = sink

    def after_train_epoch(self, runner):
        from pathlib import Path
        work_dir = Path(runner.work_dir)
        pointer = work_dir / ckpt_io.POINTER
        SINKS[self.sink].append(dict(
            epoch=runner.epoch, pointer=pointer.read_text().strip() if pointer.exists() else None,
            files=sorted(p.name for p in work_dir.glob('*.ckpt')),
            stray=sorted(p.name for p in work_dir.iterdir() if p.name.startswith('.'))))


@METRICS.register(force=True)
class ScriptedScoreMetric(BaseMetric):
    """Returns ``values[k]`` at its k-th evaluation, so the best epoch is known in advance."""

    def __init__(self, values):
        super().__init__()
        self.values, self.calls = list(values), 0

    def process(self, batch, predictions):
        self.results.append(len(batch['x']))

    def compute_metrics(self, results):
        self.calls += 1
        return {'scripted/score': self.values[self.calls - 1]}


def small_config(work_dir, train_samples=32, **overrides):
    """The toy task at 4 iterations (batch 8) per epoch and 3 validation batches (20 samples)."""
    cfg = toy_config(work_dir, train_cfg=dict(max_epochs=2, val_interval=1))
    cfg['train_dataloader'] = dict(dataset=dict(type='ToyDataset', num_samples=train_samples),
                                   batch_size=8, num_workers=1)
    cfg['default_hooks'] = dict(logger=dict(type='LoggerHook', interval=3),
                                checkpoint=dict(type='CheckpointHook', interval=1))
    cfg.update(overrides)
    return cfg


# --- class creation -----------------------------------------------------------------------------

def test_misspelled_hook_point_is_an_error_at_class_creation():
    with pytest.raises(TypeError) as err:
        class TypoHook(Hook):  # noqa: F841
            def after_train_iteration(self, runner, batch_idx, data_batch, outputs):
                pass
    msg = str(err.value)
    assert "TypoHook defines 'after_train_iteration', which is not a hook point" in msg
    assert 'after_train_iter' in msg  # the valid names are listed

    class FineHook(Hook):  # hook points, private helpers and other names are allowed
        def after_train_iter(self, runner, batch_idx, data_batch, outputs):
            pass

        def _before_anything(self):
            pass

        def summary(self):
            pass
    assert FineHook().priority == 'NORMAL'


def test_bad_class_level_priority_is_an_error_at_class_creation():
    with pytest.raises(TypeError,
                       match=r"BadPriorityHook\.priority: unknown hook priority 'URGENT'"):
        class BadPriorityHook(Hook):  # noqa: F841
            priority = 'URGENT'


# --- priorities ---------------------------------------------------------------------------------

def test_priority_names_ints_and_errors():
    names = ('HIGHEST', 'very_high', 'Normal', 'LOWEST')
    assert [get_priority(p) for p in names] == [0, 10, 50, 100]
    assert get_priority(Priority.BELOW_NORMAL) == 60
    assert get_priority(0) == 0 and get_priority(100) == 100
    for bad in (-1, 101):
        with pytest.raises(ValueError, match=rf'hook priority must be in \[0, 100\], got {bad}'):
            get_priority(bad)
    with pytest.raises(ValueError,
                       match=r"unknown hook priority 'HIHG'; levels: HIGHEST, VERY_HIGH"):
        get_priority('HIHG')
    for bad in (True, 50.0, None):
        with pytest.raises(TypeError, match='hook priority must be'):
            get_priority(bad)


def test_hooks_run_in_priority_order_then_config_order(tmp_path):
    sink = 'priority-order'
    SINKS[sink].clear()
    labels = [('low', 'LOW'), ('first', 0), ('normal_a', None), ('normal_b', None),
              ('very_high', 'very_high')]
    custom = [dict(type='PointRecorderHook', sink=sink, label=label,
                   **({} if prio is None else dict(priority=prio))) for label, prio in labels]
    runner = Runner(toy_config(tmp_path, custom_hooks=custom))
    names = [getattr(h, 'label', None) or type(h).__name__ for h in runner.hooks]
    # default hooks: timer 10, logger 60, param_scheduler 70, checkpoint 90, sampler_seed 10;
    # equal priorities keep config order (defaults first, then custom_hooks)
    assert names == ['first', 'IterTimerHook', 'DistSamplerSeedHook', 'very_high', 'normal_a',
                     'normal_b', 'LoggerHook', 'ParamSchedulerHook', 'low', 'CheckpointHook']
    runner.call_hook('after_val')
    assert [r[1] for r in SINKS[sink]] == ['first', 'very_high', 'normal_a', 'normal_b', 'low']


def test_register_hook_takes_a_hook_or_its_config_and_a_priority(tmp_path):
    """MMEngine's ``runner.register_hook(hook, priority=None)``: inserted in priority order."""
    runner = Runner(toy_config(tmp_path))
    runner.register_hook(dict(type='PointRecorderHook', sink='registered', label='cfg'), 'HIGHEST')
    runner.register_hook(PointRecorderHook(sink='registered', label='object'), priority=95)
    runner.register_hook(PointRecorderHook(sink='registered', label='own'))  # its own: NORMAL
    names = [getattr(h, 'label', None) or type(h).__name__ for h in runner.hooks]
    assert names == ['cfg', 'IterTimerHook', 'DistSamplerSeedHook', 'own', 'LoggerHook',
                     'ParamSchedulerHook', 'CheckpointHook', 'object']
    with pytest.raises(ValueError, match="unknown hook priority 'TOP'"):
        runner.register_hook(PointRecorderHook(sink='registered'), priority='TOP')


@pytest.mark.parametrize('priority, error, match', [
    ('HIHG', ValueError, "hook 'PointRecorderHook': unknown hook priority 'HIHG'"),
    (101, ValueError, r"hook 'PointRecorderHook': .*must be in \[0, 100\], got 101"),
    (True, TypeError, "hook 'PointRecorderHook': hook priority must be"),
])
def test_bad_priority_in_custom_hooks_is_an_error(tmp_path, priority, error, match):
    custom = [dict(type='PointRecorderHook', sink='bad', priority=priority)]
    with pytest.raises(error, match=match):
        Runner(toy_config(tmp_path, custom_hooks=custom))


# --- hook points in a real run ------------------------------------------------------------------

def expected_train_points(epochs, iters, val_epochs, val_batches):
    """The documented order of points seen by a NORMAL-priority hook in a training run; the
    checkpoint (VERY_LOW) saves after it at the end of every epoch, hence before_save_checkpoint."""
    seq = ['before_run', 'before_train']
    for epoch in range(1, epochs + 1):
        seq.append('before_train_epoch')
        seq += ['before_train_iter', 'after_train_iter'] * iters
        if epoch in val_epochs:
            seq += ['before_val', 'before_val_epoch']
            seq += ['before_val_iter', 'after_val_iter'] * val_batches
            seq += ['after_val_epoch', 'after_val']
        seq += ['after_train_epoch', 'before_save_checkpoint']
    return seq + ['after_train', 'after_run']


@pytest.fixture(scope='module')
def recorded_run(tmp_path_factory):
    """A 2-epoch toy training (4 iterations/epoch, 3 val batches), then a resume to epoch 3 and
    a test run, all with a PointRecorderHook; stdout (console log, progress bars) captured."""
    work_dir = tmp_path_factory.mktemp('recorded')
    for sink in ('train', 'resume', 'test'):
        SINKS[sink].clear()
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        first = small_config(work_dir, custom_hooks=[dict(type='PointRecorderHook', sink='train')])
        Runner(first).train()
        resumed = small_config(work_dir, resume=True, train_cfg=dict(max_epochs=3, val_interval=1),
                               custom_hooks=[dict(type='PointRecorderHook', sink='resume')])
        Runner(resumed).train()
        test_cfg = small_config(work_dir / 'test', load_from=str(work_dir / 'epoch_3.ckpt'),
                                custom_hooks=[dict(type='PointRecorderHook', sink='test')])
        test_cfg.update(test_dataloader=test_cfg['val_dataloader'],
                        test_evaluator=dict(type='ToyMSE'))
        Runner(test_cfg).test()
    return dict(work_dir=work_dir, stdout=stdout.getvalue(),
                **{sink: list(SINKS[sink]) for sink in ('train', 'resume', 'test')})


def test_every_hook_point_is_called_in_order(recorded_run):
    train = recorded_run['train']
    assert [r[0] for r in train] == expected_train_points(2, 4, val_epochs={1, 2}, val_batches=3)
    at = defaultdict(list)
    for point, _, epoch, it in train:
        at[point].append((epoch, it))
    assert at['before_train_iter'][:5] == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 4)]
    assert at['after_train_iter'][:5] == [(0, 1), (0, 2), (0, 3), (0, 4), (1, 5)]  # iter counted
    assert at['after_train_epoch'] == [(1, 4), (2, 8)]  # epoch counted
    assert at['after_val_epoch'] == [(1, 4), (2, 8)]

    resume = recorded_run['resume']
    assert [r[0] for r in resume[:3]] == ['before_run', 'after_load_checkpoint', 'before_train']
    assert resume[1][2:] == (2, 8)  # state restored when after_load_checkpoint runs
    assert [r[0] for r in resume[2:]] == expected_train_points(1, 4, {1}, 3)[1:]

    assert [r[0] for r in recorded_run['test']] == (
        ['before_run', 'before_test', 'before_test_epoch'] + ['before_test_iter', 'after_test_iter'] * 3
        + ['after_test_epoch', 'after_test', 'after_run'])
    seen = {r[0] for sink in ('train', 'resume', 'test') for r in recorded_run[sink]}
    assert seen == set(HOOK_POINTS)


@HOOKS.register(force=True)
class StepCountLogHook(Hook):
    """Adds a value of its own to what LoggerHook logs (docs/plugins.md: through ``outputs``)."""

    def after_train_iter(self, runner, batch_idx, data_batch, outputs):
        outputs['my/steps_seen'] = float(runner.iter)


def test_a_hook_before_the_logger_adds_its_own_value_to_the_log(tmp_path):
    runner = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=1, val_interval=0),
                               custom_hooks=[dict(type='StepCountLogHook')],
                               default_hooks=dict(logger=dict(type='LoggerHook', interval=2))))
    runner.train()
    train = [json.loads(line) for line in (tmp_path / 'log.json').read_text().splitlines()]
    assert [(r['iter'], r['my/steps_seen']) for r in train] == [
        (2, 2.0), (4, 4.0), (6, 6.0), (8, 8.0)]
    assert 'my/steps_seen: 8' in (tmp_path / 'run.log').read_text()


def test_logger_writes_text_and_json_lines(recorded_run):
    work_dir = recorded_run['work_dir']
    records = [json.loads(line) for line in (work_dir / 'log.json').read_text().splitlines()]
    train = [r for r in records if r['mode'] == 'train']
    val = [r for r in records if r['mode'] == 'val']
    # interval 3 with 4 iterations per epoch: iterations 3 and 4 (the epoch's end) of each epoch
    assert [(r['epoch'], r['epoch_iter'], r['iter']) for r in train] == [
        (1, 3, 3), (1, 4, 4), (2, 3, 7), (2, 4, 8), (3, 3, 11), (3, 4, 12)]
    fields = {'mode', 'epoch', 'iter', 'epoch_iter', 'lr', 'loss', 'loss_mse', 'data_time', 'time',
              'eta_s', 'memory_mb'}
    assert all(set(r) == fields for r in train)
    # lr of global step t (0-based, logged as iter t + 1): base 0.1 x linear warm-up over 10 steps
    # from 0.1, x0.5 from epoch 3 (toy_config's schedulers)
    for r in train:
        t = r['iter'] - 1
        expected = 0.1 * (0.1 + 0.9 * min(t, 10) / 10) * (0.5 if r['epoch'] >= 4 else 1.0)
        assert r['lr'] == pytest.approx(expected, rel=1e-6)
    assert all(r['loss'] == pytest.approx(r['loss_mse'], rel=1e-6) for r in train)  # one term
    assert all(r['time'] > 0 and r['data_time'] >= 0 and r['memory_mb'] > 10 for r in train)
    assert train[-1]['eta_s'] == 0 and train[0]['eta_s'] > 0  # nothing left at the very end
    assert [(r['epoch'], r['iter']) for r in val] == [(1, 4), (2, 8), (3, 12)]
    assert all(set(r) == {'mode', 'epoch', 'iter', 'toy/mse', 'toy/count'} and r['toy/count'] == 20
               for r in val)

    text = (work_dir / 'run.log').read_text()
    assert 'Epoch(train) [1/2][3/4]  lr: 2.8000e-02' in text
    assert 'Epoch(train) [3/3][4/4]' in text
    assert f"Epoch(val) [2]  toy/mse: {val[1]['toy/mse']:.4f}  toy/count: 20.0000" in text
    # the validation progress bar: not on a terminal, one line per 10% step (each of 3 batches)
    bar_lines = [line for line in recorded_run['stdout'].splitlines() if line.startswith('val [')]
    assert [line.split('] ')[1].split()[0] for line in bar_lines] == ['1/3', '2/3', '3/3'] * 3
    assert all('it/s, elapsed' in line and 'ETA' in line for line in bar_lines)
    assert any(line.startswith('test [') and ' 3/3 ' in line
               for line in recorded_run['stdout'].splitlines())


# --- CheckpointHook -----------------------------------------------------------------------------

SCORES = [0.5, 0.2, 0.9, 0.1, 0.3]  # validation score of epochs 1..5


def checkpoint_trace(tmp_path, sink, **hook_args):
    """Train 5 short epochs (2 iterations, 1 val batch), validating every epoch with SCORES; the
    probe records pointer and files after the CheckpointHook at the end of every epoch."""
    SINKS[sink].clear()
    cfg = small_config(tmp_path, train_samples=16, train_cfg=dict(max_epochs=5, val_interval=1),
                       val_evaluator=dict(type='ScriptedScoreMetric', values=SCORES),
                       custom_hooks=[dict(type='CheckpointProbeHook', sink=sink)])
    cfg['val_dataloader'] = dict(dataset=dict(type='ToyDataset', num_samples=8, noise=0.0, seed=1),
                                 batch_size=8, num_workers=1)
    cfg['default_hooks']['checkpoint'] = dict(type='CheckpointHook', **hook_args)
    runner = Runner(cfg)
    with contextlib.redirect_stdout(io.StringIO()):
        runner.train()
    return runner, SINKS[sink]


def test_checkpoint_interval_save_last_and_best_greater(tmp_path):
    runner, trace = checkpoint_trace(tmp_path, 'ckpt-greater', interval=2,
                                     save_best='scripted/score', rule='greater')
    best = 'best_scripted_score_epoch_{}.ckpt'.format
    # greater: best at epochs 1 (0.5, first) and 3 (0.9); interval 2 saves 2 and 4; 5 is the last.
    # A best epoch off the interval keeps only its best_ file, and the pointer names it.
    assert trace == [
        dict(epoch=1, pointer=best(1), files=[best(1)], stray=[]),
        dict(epoch=2, pointer='epoch_2.ckpt', files=[best(1), 'epoch_2.ckpt'], stray=[]),
        dict(epoch=3, pointer=best(3), files=[best(3), 'epoch_2.ckpt'], stray=[]),
        dict(epoch=4, pointer='epoch_4.ckpt', files=[best(3), 'epoch_2.ckpt', 'epoch_4.ckpt'],
             stray=[]),
        dict(epoch=5, pointer='epoch_5.ckpt',
             files=[best(3), 'epoch_2.ckpt', 'epoch_4.ckpt', 'epoch_5.ckpt'], stray=[]),
    ]
    _, meta = ckpt_io.load_checkpoint(tmp_path / best(3))
    assert meta['epoch'] == 3
    assert meta['best'] == dict(metric='scripted/score', score=0.9, path=best(3))
    assert runner.get_hook('CheckpointHook').best_score == 0.9
    assert ckpt_io.find_latest_checkpoint(tmp_path) == tmp_path / 'epoch_5.ckpt'


def test_checkpoint_max_keep_and_best_less(tmp_path):
    _, trace = checkpoint_trace(tmp_path, 'ckpt-less', interval=1, max_keep_ckpts=2,
                                save_best='scripted/score', rule='less')
    best = 'best_scripted_score_epoch_{}.ckpt'.format
    # less: best at epochs 1 (0.5), 2 (0.2), 4 (0.1); only the newest 2 epoch_N files are kept
    assert [(t['pointer'], t['files']) for t in trace] == [
        ('epoch_1.ckpt', [best(1), 'epoch_1.ckpt']),
        ('epoch_2.ckpt', [best(2), 'epoch_1.ckpt', 'epoch_2.ckpt']),
        ('epoch_3.ckpt', [best(2), 'epoch_2.ckpt', 'epoch_3.ckpt']),
        ('epoch_4.ckpt', [best(4), 'epoch_3.ckpt', 'epoch_4.ckpt']),
        ('epoch_5.ckpt', [best(4), 'epoch_4.ckpt', 'epoch_5.ckpt']),
    ]
    assert all(t['stray'] == [] for t in trace)  # no temporary files left behind


def test_checkpoint_without_save_last(tmp_path):
    _, trace = checkpoint_trace(tmp_path, 'ckpt-nolast', interval=2, save_last=False)
    assert [(t['pointer'], t['files']) for t in trace] == [
        (None, []), ('epoch_2.ckpt', ['epoch_2.ckpt']), ('epoch_2.ckpt', ['epoch_2.ckpt']),
        ('epoch_4.ckpt', ['epoch_2.ckpt', 'epoch_4.ckpt']),
        ('epoch_4.ckpt', ['epoch_2.ckpt', 'epoch_4.ckpt'])]


def test_checkpoint_hook_arguments():
    assert CheckpointHook(save_best='coco/AP').rule == 'greater'
    assert CheckpointHook(save_best='PCKh').rule == 'greater'
    assert CheckpointHook(save_best='val/loss').rule == 'less'
    assert CheckpointHook(save_best='toy/mse').rule == 'less'
    assert CheckpointHook(save_best='toy/mse', rule='greater').rule == 'greater'
    with pytest.raises(ValueError, match='interval must be >= 1, got 0'):
        CheckpointHook(interval=0)
    with pytest.raises(ValueError, match=r'max_keep_ckpts must be -1 \(keep all\) or >= 1, got 0'):
        CheckpointHook(max_keep_ckpts=0)
    # a wrong type is the user's mistake too: one ConfigError naming the argument, no traceback
    # from ``'5' < 1`` inside the hook
    with pytest.raises(TypeError, match=r"config: CheckpointHook.interval must be an integer, "
                                        r"got '5' \(str\)"):
        CheckpointHook(interval='5')
    with pytest.raises(UserError, match=r'config: LoggerHook.interval must be an integer, got None'):
        LoggerHook(interval=None)
    with pytest.raises(UserError, match=r'config: EarlyStoppingHook.patience must be >= 1, got 0'):
        EarlyStoppingHook('toy/mse', patience=0)
    with pytest.raises(ValueError, match="rule must be 'greater' or 'less', got 'bigger'"):
        CheckpointHook(save_best='coco/AP', rule='bigger')
    hook = CheckpointHook(save_best='coco/AP')
    with pytest.raises(KeyError,
                       match=r"save_best='coco/AP' is not among the metrics \['coco/AR'\]"):
        hook.after_val_epoch(None, {'coco/AR': 0.5})
    hook.after_val_epoch(None, {'coco/AP': float('nan')})  # a NaN score never becomes the best
    assert hook.best_score is None
