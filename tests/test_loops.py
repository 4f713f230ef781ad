"""Loops are components: selected by ``train_cfg.type``, found through ``sbcore.loops``; the
iteration-based loop; a hook stopping the run; the early-stopping hook; the hook contract
(MMEngine's signatures checked when a hook class is created; what val/test iterations carry)."""

import numpy as np
import pytest

from toy_components import toy_config  # noqa: F401  (registers the toy components)
from sbcore import checkpoint as ckpt_io
from sbcore.hooks import Hook
from sbcore.loops import EpochBasedTrainLoop, IterBasedTrainLoop
from sbcore.registries import HOOKS, LOOPS
from sbcore.runner import Runner

# 64 samples / batch 8: 8 steps per pass; 20 validation samples: 3 batches
ITER_CFG = dict(type='IterBasedTrainLoop', max_iters=20, val_interval=10)


@HOOKS.register(force=True)
class SeenBatchesHook(Hook):
    """Records what every training and validation/test iteration point receives."""

    priority = 'LOWEST'

    def __init__(self):
        self.train, self.val, self.test = [], [], []

    def after_train_iter(self, runner, batch_idx, data_batch, outputs):
        self.train.append((runner.epoch, runner.iter, batch_idx, data_batch['sample_idx'].copy()))

    def after_val_iter(self, runner, batch_idx, data_batch, outputs):
        self.val.append((batch_idx, data_batch['y'].shape, outputs['y'].shape))

    def after_test_iter(self, runner, batch_idx, data_batch, outputs):
        self.test.append((batch_idx, len(data_batch['x']), outputs['y'].shape))


@HOOKS.register(force=True)
class StopAtHook(Hook):
    def __init__(self, at_iter):
        self.at_iter = at_iter

    def after_train_iter(self, runner, batch_idx, data_batch, outputs):
        if runner.iter == self.at_iter:
            runner.request_stop(f'asked at step {self.at_iter}')


def test_loops_are_registered_components():
    assert LOOPS.get('EpochBasedTrainLoop') is EpochBasedTrainLoop
    assert LOOPS.get('IterBasedTrainLoop') is IterBasedTrainLoop
    assert {'ValLoop', 'TestLoop'} <= set(LOOPS.names())


def test_default_train_loop_is_epoch_based(tmp_path):
    runner = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=1, val_interval=0)))
    runner.train()
    assert type(runner.train_loop) is EpochBasedTrainLoop
    assert (runner.epoch, runner.iter) == (1, 8) == (runner.train_loop.epoch, runner.train_loop.iter)


def test_iteration_based_loop_cycles_the_data_and_validates_by_step(tmp_path):
    runner = Runner(toy_config(tmp_path, train_cfg=ITER_CFG,
                               default_hooks=dict(checkpoint=dict(type='CheckpointHook',
                                                                  interval=6)),
                               custom_hooks=[dict(type='SeenBatchesHook')]))
    runner.train()
    hook = runner.get_hook('SeenBatchesHook')
    assert [t[1] for t in hook.train] == list(range(1, 21))
    assert [t[2] for t in hook.train] == [i % 8 for i in range(20)]  # batch index within its pass
    # each pass over the data sees every sample once, in a new order
    passes = [np.concatenate([t[3] for t in hook.train[a:a + 8]]) for a in (0, 8)]
    assert all(sorted(p) == list(range(64)) for p in passes)
    assert not np.array_equal(passes[0], passes[1])
    assert runner.epoch == 2 and runner.iter == 20
    assert len(hook.val) == 2 * 3  # steps 10 and 20
    assert sorted(p.name for p in tmp_path.glob('iter_*.ckpt')) == [
        'iter_12.ckpt', 'iter_18.ckpt', 'iter_20.ckpt', 'iter_6.ckpt']  # interval 6 + the last
    log = (tmp_path / 'run.log').read_text()
    assert 'Iter(train) [10/20]' in log and 'Iter(train) [20/20]' in log


def test_val_and_test_iterations_carry_the_batch_and_the_predictions(tmp_path):
    cfg = toy_config(tmp_path, train_cfg=dict(max_epochs=2, val_interval=2),
                     custom_hooks=[dict(type='SeenBatchesHook')])
    runner = Runner(cfg)
    runner.train()
    val = runner.get_hook('SeenBatchesHook').val
    assert val == [(0, (8, 2), (8, 2)), (1, (8, 2), (8, 2)), (2, (4, 2), (4, 2))]
    cfg.update(load_from=str(tmp_path / 'epoch_2.ckpt'), test_dataloader=cfg['val_dataloader'],
               test_evaluator=dict(type='ToyMSE'), work_dir=str(tmp_path / 'test'))
    tester = Runner(cfg)
    metrics = tester.test()
    assert tester.get_hook('SeenBatchesHook').test == [(0, 8, (8, 2)), (1, 8, (8, 2)), (2, 4, (4, 2))]
    assert metrics['toy/count'] == 20


@pytest.mark.parametrize('train_cfg, stop_at, expected', [
    (dict(max_epochs=4, val_interval=0), 11, (1, 11)),  # mid-epoch: the epoch does not end
    (dict(max_epochs=4, val_interval=0), 16, (2, 16)),  # at an epoch's end: the epoch ends
    (dict(ITER_CFG, val_interval=0), 13, (1, 13)),
])
def test_a_hook_can_stop_the_run_after_the_current_step(tmp_path, train_cfg, stop_at, expected):
    runner = Runner(toy_config(tmp_path, train_cfg=train_cfg,
                               custom_hooks=[dict(type='StopAtHook', at_iter=stop_at)]))
    runner.train()
    assert (runner.epoch, runner.iter) == expected
    assert f'stopping after iteration {stop_at}: asked at step {stop_at}' in (
        tmp_path / 'run.log').read_text()


@HOOKS.register(force=True)
class SetRequiresGradHook(Hook):
    """Flips ``requires_grad`` of the model's first layer at an epoch's start (MMEngine-style
    freezing or unfreezing from a hook)."""

    def __init__(self, at_epoch, requires_grad):
        self.at_epoch, self.requires_grad = at_epoch, requires_grad

    def before_train_epoch(self, runner):
        if runner.epoch == self.at_epoch:
            for param in runner.model.fc1.get_parameters():
                param.requires_grad = self.requires_grad


@pytest.mark.parametrize('frozen_at_start, requires_grad, changed', [
    (False, False, (4, 2)),  # freezing mid-run: fc1's weight and bias of the 4 parameters
    (True, True, (2, 4)),  # unfreezing mid-run
])
def test_changing_requires_grad_during_the_run_is_an_error_not_a_silent_no_op(
        tmp_path, frozen_at_start, requires_grad, changed):
    from sbcore.train_step import TrainableParametersChanged
    runner = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=3, val_interval=0),
                               custom_hooks=[dict(type='SetRequiresGradHook', at_epoch=1,
                                                  requires_grad=requires_grad)]))
    if frozen_at_start:  # before the step is built: frozen for the whole run, which works
        for param in runner.model.fc1.get_parameters():
            param.requires_grad = False
    with pytest.raises(TrainableParametersChanged) as err:
        runner.train()
    built, now = changed
    assert f'({built} when the training step was built, {now} now; e.g. fc1.bias, fc1.weight)' in (
        str(err.value))
    assert runner.iter == 8 and runner.epoch == 1  # the first epoch trained; nothing after


@pytest.mark.parametrize('train_cfg, checkpoint_name', [
    (dict(max_epochs=30, val_interval=1), 'epoch_{}'),
    (dict(type='IterBasedTrainLoop', max_iters=240, val_interval=8), 'iter_{}'),
])
def test_early_stopping_stops_when_the_metric_stops_improving(tmp_path, train_cfg,
                                                             checkpoint_name):
    """lr 0.1 for the toy task: the val MSE stops improving well before 30 epochs."""
    runner = Runner(toy_config(tmp_path, train_cfg=train_cfg, param_scheduler=[],
                               custom_hooks=[dict(type='EarlyStoppingHook', monitor='toy/mse',
                                                  patience=2, min_delta=1e-3)]))
    runner.train()
    hook = runner.get_hook('EarlyStoppingHook')
    assert hook.rule == 'less' and hook.wait == 2  # 'mse' improves downwards
    stopped = runner.epoch if checkpoint_name.startswith('epoch') else runner.iter
    assert stopped < (30 if checkpoint_name.startswith('epoch') else 240)
    log = (tmp_path / 'run.log').read_text()
    assert 'toy/mse has not improved on' in log and 'for 2 validation(s) (patience 2)' in log
    # the step that stopped was checkpointed, with the hook's state for a resume
    _, meta = ckpt_io.load_checkpoint(tmp_path / f'{checkpoint_name.format(stopped)}.ckpt')
    assert meta['early_stopping'] == dict(monitor='toy/mse', best=hook.best, wait=2)


def test_early_stopping_threshold_and_errors(tmp_path):
    runner = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=10, val_interval=1),
                               custom_hooks=[dict(type='EarlyStoppingHook', monitor='toy/mse',
                                                  stopping_threshold=1e6)]))
    runner.train()
    assert runner.epoch == 1  # any MSE is below 1e6
    with pytest.raises(KeyError, match=r"monitor='toy/acc' is not among the metrics"):
        Runner(toy_config(tmp_path / 'b', train_cfg=dict(max_epochs=1, val_interval=1),
                          custom_hooks=[dict(type='EarlyStoppingHook',
                                             monitor='toy/acc')])).train()


# --- the hook contract ---------------------------------------------------------------------------

@pytest.mark.parametrize('source, message', [
    ('def after_train_iter(self, runner, batch_idx, batch, outputs): pass',
     "after_train_iter: it has no parameter 'data_batch'; the runner calls it as "
     "after_train_iter(self, runner, batch_idx, data_batch, outputs)"),
    ('def after_val_iter(self, runner, batch_idx, num_batches): pass',
     "after_val_iter: it has no parameter 'data_batch', 'outputs'"),
    ('def after_val_epoch(self, runner): pass',
     "after_val_epoch: it has no parameter 'metrics'; the runner calls it as "
     "after_val_epoch(self, runner, metrics)"),
    ('def before_train(self, runner, extra): pass',
     "before_train: parameter(s) 'extra' are never passed and have no default"),
    ('def before_run(self): pass', 'before_run: it must take (self, runner, ...)'),
])
def test_hook_method_with_a_wrong_signature_is_an_error_at_class_creation(source, message):
    namespace = {}
    with pytest.raises(TypeError, match=message.replace('(', r'\(').replace(')', r'\)')):
        exec(f'class BadHook(Hook):\n    {source}\n', dict(Hook=Hook), namespace)


def test_mmengine_style_hook_signatures_are_accepted():
    class MMEngineStyleHook(Hook):  # noqa: F841  (MMEngine's defaults and catch-alls)
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            pass

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            pass

        def after_val_iter(self, runner, *args, **kwargs):
            pass

        def after_test_epoch(self, runner, metrics=None, extra=1):
            pass


def test_interval_helpers():
    class Progress:
        epoch, iter, max_epochs, max_iters = 4, 12, 4, 20

    hook, runner = Hook(), Progress()
    assert hook.every_n_epochs(runner, 2) and not hook.every_n_epochs(runner, 3)
    assert hook.every_n_train_iters(runner, 6) and not hook.every_n_train_iters(runner, 5)
    assert hook.every_n_inner_iters(3, 4) and not hook.every_n_inner_iters(4, 4)
    assert hook.end_of_epoch([0] * 5, 4) and not hook.end_of_epoch([0] * 5, 3)
    assert hook.is_last_train_epoch(runner) and not hook.is_last_train_iter(runner)


@HOOKS.register(force=True)
class RunPointsHook(Hook):
    def __init__(self):
        self.points = []

    def before_run(self, runner):
        self.points.append('before_run')

    def after_run(self, runner):
        self.points.append('after_run')

    def before_val(self, runner):
        self.points.append('before_val')

    def before_test(self, runner):
        self.points.append('before_test')


def test_run_points_are_called_the_same_way_by_train_val_and_test(tmp_path):
    cfg = toy_config(tmp_path, train_cfg=dict(max_epochs=1, val_interval=1),
                     custom_hooks=[dict(type='RunPointsHook')])
    cfg.update(test_dataloader=cfg['val_dataloader'], test_evaluator=dict(type='ToyMSE'))
    seen = {}
    for entry in ('train', 'val', 'test'):
        runner = Runner(dict(cfg, work_dir=str(tmp_path / entry)))
        getattr(runner, entry)()
        seen[entry] = runner.get_hook('RunPointsHook').points
    assert seen == {'train': ['before_run', 'before_val', 'after_run'],
                    'val': ['before_run', 'before_val', 'after_run'],
                    'test': ['before_run', 'before_test', 'after_run']}
