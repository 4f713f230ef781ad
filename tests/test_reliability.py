"""Reliability: real training processes killed with SIGKILL at chosen moments resume to exactly the
weights of an uninterrupted run; corrupt checkpoints are skipped; non-finite losses; safe loading.

Fault injection (in the child process only, chosen by ``$SBPOSE_TEST_FAULT='<point>:<n>'``, see
``FAULT_CONFIG``): a hook that SIGKILLs its own process at a training point, and a wrapper around
``os.replace`` that SIGKILLs the process when the checkpoint writer is about to rename a finished
temporary file into place (or to update the ``last_checkpoint`` pointer) -- the windows a hook
cannot reach. One more kill comes from outside, once a temporary checkpoint file exists in a
``.saving-*`` folder (fsync is slowed down in that run so the window is wide).
"""
import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from toy_components import toy_config  # noqa: F401  (registers the toy components)
from sbcore import checkpoint as ckpt_io
from sbcore.hooks import Hook
from sbcore.loops import NonFiniteLossError
from sbcore.registries import HOOKS
from sbcore.runner import Runner

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
MAX_EPOCHS = 4  # 8 iterations per epoch

# The toy task of tests/toy_components.py as a config file for tools/train.py, plus fault injection.
FAULT_CONFIG = f'''
import os as _os
import signal as _signal
import sys as _sys
_sys.path.insert(0, {str(TESTS)!r})
import toy_components  # noqa: F401  (registers ToyRegressor, ToyDataset, ToyMSE)
from sbcore.hooks import Hook as _Hook
from sbcore.registries import HOOKS as _HOOKS

_FAULT = _os.environ.get('SBPOSE_TEST_FAULT', '')
_POINT, _, _AT = _FAULT.partition(':')
_AT = int(_AT or -1)


def _die(what):
    print(f'FAULT {{_FAULT}}: SIGKILL {{what}}', flush=True)
    _os.kill(_os.getpid(), _signal.SIGKILL)


if _POINT in ('rename', 'pointer'):
    _real_replace = _os.replace

    def _replace(src, dst, *args, **kwargs):
        name = _os.path.basename(dst)
        if _POINT == 'rename' and name == f'epoch_{{_AT}}.ckpt':
            # the temporary file is complete and fsynced; cut it to half as well, like a write
            # the disk had not finished
            _os.truncate(src, _os.path.getsize(src) // 2)
            _die(f'before renaming {{src}}')
        if _POINT == 'pointer' and name == 'last_checkpoint':
            with open(src) as f:
                if f.read().strip() == f'epoch_{{_AT}}.ckpt':
                    _die('before updating last_checkpoint')
        return _real_replace(src, dst, *args, **kwargs)

    _os.replace = _replace

if _POINT == 'slow_fsync':  # widens the save window for a kill from outside
    import time as _time
    _real_fsync = _os.fsync

    def _fsync(fd):
        _time.sleep(0.5)
        return _real_fsync(fd)

    _os.fsync = _fsync


@_HOOKS.register(force=True)
class FaultHook(_Hook):
    priority = 'LOWEST'  # after the checkpoint hook

    def after_train_iter(self, runner, batch_idx, batch, outputs=None):
        if _POINT == 'iter' and runner.iter == _AT:
            _die(f'after iteration {{_AT}}')

    def before_save_checkpoint(self, runner, checkpoint):
        if _POINT == 'before_save' and runner.epoch == _AT:
            _die(f'before saving epoch {{_AT}}')

    def after_val_iter(self, runner, batch_idx, num_batches):
        if _POINT == 'val' and runner.epoch == _AT and batch_idx == 1:
            _die(f'during validation of epoch {{_AT}}')

    def after_train_epoch(self, runner):
        if _POINT == 'after_ckpt' and runner.epoch == _AT:
            _die(f'after checkpoint of epoch {{_AT}}')


seed = 3
model = dict(type='ToyRegressor')
train_dataloader = dict(dataset=dict(type='ToyDataset', num_samples=64), batch_size=8,
                        num_workers=2)
val_dataloader = dict(dataset=dict(type='ToyDataset', num_samples=20, noise=0.0, seed=1),
                      batch_size=8, num_workers=1)
val_evaluator = dict(type='ToyMSE')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.1))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10),
                   dict(type='MultiStepLR', milestones=[3], gamma=0.5)]
train_cfg = dict(max_epochs={MAX_EPOCHS}, val_interval=2)
default_hooks = dict(logger=dict(type='LoggerHook', interval=4),
                     checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2,
                                     save_best='toy/mse'))
custom_hooks = [dict(type='FaultHook')]
'''


def _start(config, work_dir, fault='', resume=False, log=None):
    env = dict(os.environ, SBPOSE_TEST_FAULT=fault)
    cmd = [sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
           '--work-dir', str(work_dir)]
    if resume:
        cmd.append('--resume')
    # own session: the child and its data-loader workers can be reaped as one group
    return subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log or subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _finish(proc, timeout=120):
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        try:  # orphaned loader workers of a killed child
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return proc.returncode, out or ''


def _run(config, work_dir, fault='', resume=False):
    return _finish(_start(config, work_dir, fault, resume))


def _resumed_from(out):
    lines = [l for l in out.splitlines() if 'resumed from' in l]
    return lines[0].split('resumed from ')[1] if lines else None


@pytest.fixture(scope='module')
def fault_config(tmp_path_factory):
    path = tmp_path_factory.mktemp('cfg') / 'toy_fault.py'
    path.write_text(FAULT_CONFIG)
    return path


def test_sigkilled_runs_resume_to_the_uninterrupted_weights(tmp_path, fault_config):
    """One work dir, killed seven times at different moments, each time resumed with --resume."""
    ref_dir, wd = tmp_path / 'ref', tmp_path / 'killed'
    ref = _start(fault_config, ref_dir)  # in parallel with the chain below (2 cores)
    killed = -signal.SIGKILL

    # 1. mid-epoch: iteration 11 is in epoch 2; epoch_1.ckpt is the newest
    code, out = _run(fault_config, wd, 'iter:11')
    assert code == killed, out
    assert sorted(p.name for p in wd.glob('epoch_*.ckpt')) == ['epoch_1.ckpt']

    # 2. at the start of writing epoch 2's checkpoint (hook before_save_checkpoint)
    code, out = _run(fault_config, wd, 'before_save:2', resume=True)
    assert code == killed and _resumed_from(out).startswith(f'{wd}/epoch_1.ckpt at epoch 1'), out
    assert not (wd / 'epoch_2.ckpt').exists()

    # 3. inside save_checkpoint: temporary file written (then cut to half), rename not done
    code, out = _run(fault_config, wd, 'rename:2', resume=True)
    assert code == killed and 'before renaming' in out, out
    assert not (wd / 'epoch_2.ckpt').exists()
    (leftover,) = wd.glob('.saving-*/epoch_2.ckpt')
    with pytest.raises(ckpt_io.CheckpointError, match=str(leftover)):
        ckpt_io.load_checkpoint(leftover)  # the half file is never under a checkpoint name

    # 4. checkpoint renamed into place, last_checkpoint not yet updated: the pointer wins, so the
    #    run redoes epoch 2 from epoch_1 (nothing lost, nothing half-read)
    code, out = _run(fault_config, wd, 'pointer:2', resume=True)
    assert code == killed and 'before updating last_checkpoint' in out, out
    assert (wd / 'last_checkpoint').read_text().strip() == 'epoch_1.ckpt'
    ckpt_io.load_checkpoint(wd / 'epoch_2.ckpt')  # complete
    # the run cleaned up what step 3 left, and left a pointer temp file itself
    assert f'removed {leftover.parent.name}, left by a run killed while saving' in out, out
    assert not list(wd.glob('.saving-*'))
    (pointer_tmp,) = wd.glob('.last_checkpoint.*.tmp')

    # 5. during validation of epoch 2 (after training, before its checkpoint)
    code, out = _run(fault_config, wd, 'val:2', resume=True)
    assert code == killed and _resumed_from(out).startswith(f'{wd}/epoch_1.ckpt'), out
    assert f'removed {pointer_tmp.name}' in out and not pointer_tmp.exists(), out

    # 6. right after epoch 2's checkpoint (and pointer) was written
    code, out = _run(fault_config, wd, 'after_ckpt:2', resume=True)
    assert code == killed, out
    assert (wd / 'last_checkpoint').read_text().strip() == 'epoch_2.ckpt'

    # 7. the newest checkpoint is truncated (a disk that lost the tail): resume skips it, says
    #    why, and falls back to epoch_1; then a kill from outside while a checkpoint is saved
    newest = wd / 'epoch_2.ckpt'
    size = newest.stat().st_size
    newest.chmod(0o600)  # MindSpore writes checkpoints read-only
    os.truncate(newest, size - 1000)
    old_temp_files = set(wd.glob('.saving-*/*'))  # none: removed in step 4; kept for clarity
    proc = _start(fault_config, wd, 'slow_fsync', resume=True)
    deadline = time.monotonic() + 60
    while not set(wd.glob('.saving-*/*')) - old_temp_files and proc.poll() is None:
        assert time.monotonic() < deadline, 'no checkpoint save seen'
        time.sleep(0.0005)
    os.killpg(proc.pid, signal.SIGKILL)
    code, out = _finish(proc)
    assert code == killed, out
    assert f'skipping unusable checkpoint: checkpoint {newest}' in out, out
    assert 'incomplete' in out or 'corrupt' in out, out
    assert _resumed_from(out).startswith(f'{wd}/epoch_1.ckpt at epoch 1'), out
    # killed while writing the new epoch 2 (MindSpore writes epoch_2.tmp, renames it to
    # epoch_2.ckpt inside the folder, then we fsync and rename it out): only the old, corrupt
    # file carries the name
    assert (wd / 'epoch_2.ckpt').stat().st_size == size - 1000
    assert list(wd.glob('.saving-*/epoch_2.*'))

    # 8. the last resume runs to the end
    code, out = _run(fault_config, wd, resume=True)
    assert code == 0, out
    code, ref_out = _finish(ref)
    assert code == 0, ref_out

    expected, ref_meta = ckpt_io.load_checkpoint(ref_dir / f'epoch_{MAX_EPOCHS}.ckpt')
    got, meta = ckpt_io.load_checkpoint(wd / f'epoch_{MAX_EPOCHS}.ckpt')
    assert sorted(got) == sorted(expected)
    assert any(k.startswith('optimizer.moment') for k in got)
    for name in expected:  # weights and optimizer state, bit for bit
        assert np.array_equal(got[name], expected[name]), name
    assert (meta['epoch'], meta['iter']) == (ref_meta['epoch'], ref_meta['iter']) == (4, 32)
    assert meta['best'] == ref_meta['best']
    assert ref_meta['best']['score'] is not None


def test_failed_save_leaves_previous_checkpoint_intact(tmp_path, fault_config):
    """A file-size limit (like a full disk) makes epoch 2's save fail in a real run."""
    wd = tmp_path / 'wd'
    code, out = _run(fault_config, wd, 'after_ckpt:1')
    assert code == -signal.SIGKILL, out
    before = (wd / 'epoch_1.ckpt').read_bytes()
    script = ('import resource, signal, runpy, sys; '
              'signal.signal(signal.SIGXFSZ, signal.SIG_IGN); '  # write() then fails with EFBIG
              'resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000)); '
              f'sys.argv = ["train.py", {str(fault_config)!r}, "--work-dir", {str(wd)!r}, '
              '"--resume"]; '
              f'runpy.run_path({str(REPO / "tools" / "train.py")!r}, run_name="__main__")')
    proc = subprocess.run([sys.executable, '-c', script], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2  # a CheckpointError: one line (tools/cli.py), no traceback
    assert (f'train.py: error: could not save checkpoint {wd}/epoch_2.ckpt: OSError: [Errno 27] '
            f'File too large') in proc.stderr.splitlines(), proc.stderr[-3000:]
    assert not (wd / 'epoch_2.ckpt').exists()
    assert not list(wd.glob('.saving-*')), 'the temporary folder is cleaned up after a failure'
    assert (wd / 'epoch_1.ckpt').read_bytes() == before
    assert (wd / 'last_checkpoint').read_text().strip() == 'epoch_1.ckpt'
    ckpt_io.load_checkpoint(wd / 'epoch_1.ckpt')


# --- checkpoint files ---------------------------------------------------------------------------

@pytest.fixture
def toy_checkpoint(tmp_path):
    runner = Runner(toy_config(tmp_path / 'run', train_cfg=dict(max_epochs=1, val_interval=0)))
    runner.train()
    return tmp_path / 'run' / 'epoch_1.ckpt'


def test_every_truncation_of_a_checkpoint_is_refused_by_name(toy_checkpoint, tmp_path):
    data = toy_checkpoint.read_bytes()
    cut = tmp_path / 'cut.ckpt'
    for size in sorted({0, 1, 10, 100, len(data) - 1, len(data) - 10,
                        *np.linspace(0, len(data), 40, endpoint=False).astype(int)}):
        cut.write_bytes(data[:size])
        with pytest.raises(ckpt_io.CheckpointError, match=str(cut)):
            ckpt_io.load_checkpoint(cut)
    cut.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ckpt_io.CheckpointError, match='corrupt|incomplete'):
        ckpt_io.load_checkpoint(cut)


def test_latest_checkpoint_falls_back_and_logs_why(tmp_path):
    arrays = {'w': np.arange(6, dtype=np.float32).reshape(2, 3)}
    for epoch in (1, 2, 3):
        ckpt_io.save_checkpoint(tmp_path / f'epoch_{epoch}.ckpt', arrays, dict(epoch=epoch))
    ckpt_io.write_pointer(tmp_path, tmp_path / 'epoch_3.ckpt')
    (tmp_path / 'epoch_3.ckpt').chmod(0o600)
    os.truncate(tmp_path / 'epoch_3.ckpt', 50)
    (tmp_path / 'epoch_2.ckpt').chmod(0o600)
    (tmp_path / 'epoch_2.ckpt').write_bytes(b'not a checkpoint')
    messages = []
    found = ckpt_io.find_latest_checkpoint(tmp_path, log=messages.append)
    assert found == tmp_path / 'epoch_1.ckpt'
    assert len(messages) == 2
    assert str(tmp_path / 'epoch_3.ckpt') in messages[0]
    assert str(tmp_path / 'epoch_2.ckpt') in messages[1]
    assert all(m.startswith('skipping unusable checkpoint') for m in messages)


def test_save_onto_a_directory_fails_cleanly(tmp_path):
    arrays = {'w': np.ones(3, np.float32)}
    ckpt_io.save_checkpoint(tmp_path / 'epoch_1.ckpt', arrays, {})
    (tmp_path / 'epoch_2.ckpt').mkdir()  # something in the way of the rename
    with pytest.raises(ckpt_io.CheckpointError,
                       match=f'could not save checkpoint {tmp_path}/epoch_2.ckpt: '
                             'IsADirectoryError'):
        ckpt_io.save_checkpoint(tmp_path / 'epoch_2.ckpt', arrays, {})
    assert not list(tmp_path.glob('.saving-*'))
    np.testing.assert_array_equal(ckpt_io.load_checkpoint(tmp_path / 'epoch_1.ckpt')[0]['w'], 1)
    with pytest.raises(ckpt_io.CheckpointError, match='missing_dir'):
        ckpt_io.save_checkpoint(tmp_path / 'missing_dir' / 'epoch_3.ckpt', arrays, {})


def test_checkpoints_load_without_unpickling(toy_checkpoint, monkeypatch):
    """A guard, not a mock: any use of pickle while loading raises."""
    def refuse(*args, **kwargs):
        raise AssertionError('pickle used while loading a checkpoint')

    class RefusingUnpickler:
        def __init__(self, *args, **kwargs):
            refuse()

    for name in ('loads', 'load'):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(pickle, 'Unpickler', RefusingUnpickler)
    arrays, meta = ckpt_io.load_checkpoint(toy_checkpoint)
    assert meta['epoch'] == 1 and arrays
    runner = Runner(toy_config(toy_checkpoint.parent.parent / 'again',
                               train_cfg=dict(max_epochs=1, val_interval=0)))
    runner._build_optimizer()
    runner.load_checkpoint(toy_checkpoint, resume=True)
    np.testing.assert_array_equal(runner.model.fc1.weight.asnumpy(), arrays['fc1.weight'])
    # .pth files (torch pickles) are refused by the restricted reader:
    # tests/test_weight_conversion.py::test_malicious_pickle_is_refused_without_running


# --- non-finite losses --------------------------------------------------------------------------

@HOOKS.register(force=True)
class PoisonBatchHook(Hook):
    """Sets a batch's inputs to NaN at the given global iterations (1-based), and records for every
    iteration whether the weights changed."""

    priority = 'LOWEST'

    def __init__(self, at_iters):
        self.at_iters = set(at_iters)
        self.changed = {}

    def _weights(self, runner):
        return [p.asnumpy().copy() for p in runner.model.get_parameters()]

    def before_train_iter(self, runner, batch_idx, batch):
        if runner.iter + 1 in self.at_iters:
            batch['x'][:] = np.nan
        self._before = self._weights(runner)

    def after_train_iter(self, runner, batch_idx, batch, outputs=None):
        self.changed[runner.iter] = any(not np.array_equal(a, b) for a, b in
                                        zip(self._before, self._weights(runner)))


def test_nonfinite_loss_skip_drops_only_those_updates(tmp_path):
    poisoned = [3, 12, 13]
    runner = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=2, val_interval=0,
                                                        nonfinite_loss='skip'),
                               custom_hooks=[dict(type='PoisonBatchHook', at_iters=poisoned)]))
    runner.train()
    hook = runner.get_hook('PoisonBatchHook')
    assert runner.iter == 16 and sorted(hook.changed) == list(range(1, 17))
    assert [i for i, changed in hook.changed.items() if not changed] == poisoned
    assert all(np.isfinite(p.asnumpy()).all() for p in runner.model.get_parameters())
    log = (tmp_path / 'run.log').read_text()
    for where in ('epoch 1, iteration 3 (global 3)', 'epoch 2, iteration 5 (global 13)'):
        assert f'loss nan (or a gradient) is not finite at {where}: update skipped' in log
    arrays, _ = ckpt_io.load_checkpoint(tmp_path / 'epoch_2.ckpt')
    assert all(np.isfinite(v).all() for v in arrays.values())


def test_nonfinite_loss_stop_keeps_last_good_checkpoint(tmp_path):
    runner = Runner(toy_config(tmp_path, train_cfg=dict(max_epochs=4, val_interval=0),
                               custom_hooks=[dict(type='PoisonBatchHook', at_iters=[18])]))
    with pytest.raises(NonFiniteLossError,
                       match=r'loss nan \(or a gradient\) is not finite at epoch 3, iteration 2 '
                             r'\(global 18\); the update was not applied'):
        runner.train()
    assert (tmp_path / 'last_checkpoint').read_text().strip() == 'epoch_2.ckpt'
    assert sorted(p.name for p in tmp_path.glob('epoch_*.ckpt')) == ['epoch_1.ckpt', 'epoch_2.ckpt']
    arrays, meta = ckpt_io.load_checkpoint(tmp_path / 'epoch_2.ckpt')
    assert (meta['epoch'], meta['iter']) == (2, 16)
    assert all(np.isfinite(v).all() for v in arrays.values())
    # the weights in memory are still the finite ones of iteration 17
    assert all(np.isfinite(p.asnumpy()).all() for p in runner.model.get_parameters())
    resumed = Runner(toy_config(tmp_path, resume=True,
                                train_cfg=dict(max_epochs=4, val_interval=0)))
    resumed.train()
    assert resumed.iter == 32
