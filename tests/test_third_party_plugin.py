"""A real third-party plugin: tests/fixtures/sbpose_demo_plugin is pip-installed into a temporary
folder and a toy training run in another process uses its hook, found only through the
distribution's ``sbcore.hooks`` entry point."""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / 'tests' / 'fixtures' / 'sbpose_demo_plugin'
TESTS = REPO / 'tests'


@pytest.fixture(scope='module')
def plugin_site(tmp_path_factory):
    """``pip install --target`` of the fixture package (from a copy: building writes build/ and
    *.egg-info next to the sources)."""
    root = tmp_path_factory.mktemp('plugin')
    source = root / 'src'
    shutil.copytree(FIXTURE, source)
    site = root / 'site'
    proc = subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps',
                           '--no-build-isolation', '--no-index', '--quiet', '--target', str(site),
                           str(source)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (site / 'sbpose_demo_plugin' / 'record_points.py').is_file()
    return site


def run(args, site, cwd):
    path = os.pathsep.join([str(site), os.environ.get('PYTHONPATH', '')])
    env = dict(os.environ, PYTHONPATH=path)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=str(cwd),
                          env=env, timeout=300)


def test_installed_plugin_is_listed_without_being_imported(plugin_site, tmp_path):
    proc = run(['-X', 'importtime', '-m', 'sbcore', 'plugins', '--group', 'hooks'], plugin_site,
               tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert ['sbcore.hooks', 'RecordPointsHook', 'sbpose_demo_plugin', '0.1.0',
            'sbpose_demo_plugin.record_points:RecordPointsHook'] in rows
    assert 'sbpose_demo_plugin' not in proc.stderr  # -X importtime: never imported


def test_training_run_uses_the_third_party_hook(plugin_site, tmp_path):
    points_file = tmp_path / 'points.json'
    config = tmp_path / 'toy_with_plugin.py'
    config.write_text(textwrap.dedent(f'''\
        # The toy task of tests/toy_components.py with a hook from the installed demo plugin.
        import sys as _sys
        _sys.path.insert(0, {str(TESTS)!r})
        import toy_components  # noqa: F401  (registers ToyRegressor, ToyDataset, ToyMSE in-process)

        seed = 3
        model = dict(type='ToyRegressor')
        train_dataloader = dict(dataset=dict(type='ToyDataset', num_samples=16), batch_size=8,
                                num_workers=1)
        val_dataloader = dict(dataset=dict(type='ToyDataset', num_samples=8, noise=0.0, seed=1),
                              batch_size=8, num_workers=1)
        val_evaluator = dict(type='ToyMSE')
        optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.1))
        train_cfg = dict(max_epochs=2, val_interval=2)
        default_hooks = dict(logger=dict(type='LoggerHook', interval=1))
        custom_hooks = [dict(type='RecordPointsHook', out_file={str(points_file)!r},
                             priority='HIGH')]
    '''))
    proc = run([str(REPO / 'tools' / 'train.py'), str(config), '--work-dir',
                str(tmp_path / 'work')], plugin_site, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = json.loads(points_file.read_text())
    points = [r['point'] for r in records]
    iters = ['before_train_iter', 'after_train_iter'] * 2
    val = ['before_val', 'before_val_epoch', 'before_val_iter', 'after_val_iter', 'after_val_epoch',
           'after_val']
    # priority HIGH: before the CheckpointHook (VERY_LOW), whose save calls before_save_checkpoint
    end_epoch = ['after_train_epoch', 'before_save_checkpoint']
    assert points == (['before_run', 'before_train']
                      + ['before_train_epoch'] + iters + end_epoch
                      + ['before_train_epoch'] + iters + val + end_epoch
                      + ['after_train', 'after_run'])
    assert records[-1] == dict(point='after_run', epoch=2, iter=4)
    assert (tmp_path / 'work' / 'epoch_2.ckpt').is_file()
