"""A second real third-party distribution, tests/fixtures/sbpose_extras_plugin: pip-installed into
a temporary folder, then a config written elsewhere trains with its three plugins (found only
through the distribution's entry points): the MobileNetV2 backbone (head channels set from the
backbone contract), the TimeBudgetIterLoop, and the DrawPredictionsHook (a PNG per validation)."""
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import pytest

from sbcore import checkpoint as ckpt_io

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / 'tests' / 'fixtures' / 'sbpose_extras_plugin'

CONFIG = '''
_codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2.0)
_data = dict(type='SyntheticCocoDataset', data_root={data!r}, num_train_images=12,
             num_val_images=4, image_size=(128, 128), seed=0, metainfo=dict(from_file='coco'))
model = dict(type='TopdownPoseEstimator',
             backbone=dict(type='MobileNetV2', widen_factor=0.25, out_indices=(6,)),
             head=dict(type='DeconvHead', out_channels=17, num_deconv_filters=(16, 16, 16)),
             loss=dict(type='KeypointMSELoss', use_target_weight=True), codec=_codec)
train_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(**_data, split='train', pipeline=[
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale', aspect_ratio=1.0),
    dict(type='RandomFlip', prob=0.5), dict(type='TopdownAffine', input_size=(64, 64)),
    dict(type='GenerateTarget', encoder=_codec), dict(type='PackPoseInputs')]))
val_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(**_data, split='val', pipeline=[
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale', aspect_ratio=1.0),
    dict(type='TopdownAffine', input_size=(64, 64)), dict(type='PackPoseInputs')]))
val_evaluator = dict(type='CocoMetric', ann_file={data!r} + '/annotations/person_keypoints_val.json')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(type='TimeBudgetIterLoop', max_iters=6, max_seconds={budget}, val_interval=3)
default_hooks = dict(logger=dict(type='LoggerHook', interval=1),
                     checkpoint=dict(type='CheckpointHook', interval=3))
custom_hooks = [dict(type='DrawPredictionsHook', max_crops=4)]
'''


@pytest.fixture(scope='module')
def plugin_site(tmp_path_factory):
    root = tmp_path_factory.mktemp('extras')
    shutil.copytree(FIXTURE, root / 'src')  # building writes build/ and *.egg-info beside it
    proc = subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps',
                           '--no-build-isolation', '--no-index', '--quiet', '--target',
                           str(root / 'site'), str(root / 'src')],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / 'site'


def train(site, tmp_path, budget, name):
    config = tmp_path / f'{name}.py'
    config.write_text(CONFIG.format(data=str(tmp_path / 'synthetic'), budget=budget))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site),
                                                        os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / 'train.py'), str(config),
                           '--work-dir', str(tmp_path / name)], capture_output=True, text=True,
                          cwd=str(tmp_path), env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout, tmp_path / name


def test_a_config_trains_with_the_plugins_backbone_loop_and_hook(plugin_site, tmp_path):
    out, work = train(plugin_site, tmp_path, budget=3600, name='full')
    assert 'Iter(train) [6/6]' in out  # the plugin's loop (iteration-based) ran every step
    arrays, meta = ckpt_io.load_checkpoint(work / 'iter_6.ckpt')
    assert meta['iter'] == 6 and 'backbone.stages.6.0.block.0.0.weight' in arrays  # MobileNetV2
    assert arrays['head.deconv_layers.0.weight'].shape[0] == 80  # in_channels: 320 x 0.25
    pngs = sorted(p.name for p in (work / 'val_predictions').glob('*.png'))
    assert pngs == ['val_3.png', 'val_6.png']  # one per validation
    image = cv2.imread(str(work / 'val_predictions' / 'val_6.png'))
    assert image.shape[0] == 64 and image.shape[1] % 64 == 0 and 64 <= image.shape[1] <= 4 * 64
    assert 'DrawPredictionsHook: ' in out and 'coco/AP' in out

    out, work = train(plugin_site, tmp_path, budget=0, name='budget')
    assert 'stopping after iteration 1: time budget of 0 s spent' in out
    assert not list(work.glob('val_predictions/*.png'))  # stopped before the first validation
