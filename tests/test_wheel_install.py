"""Plugins work from a wheel: ``pip install ./core .`` (not editable) into a fresh environment,
the sources removed, then a config written in another folder (dataset info named by dataset:
``metainfo=dict(from_file='coco')``) trains and evaluates with the repository's tools."""
import json
import shutil
import textwrap

from fresh_venv import FreshVenv

CONFIG = '''
_codec = dict(type='MSRAHeatmap', input_size=(64, 64), heatmap_size=(16, 16), sigma=2.0)
_data = dict(type='SyntheticCocoDataset', data_root='synthetic', num_train_images=8,
             num_val_images=4, image_size=(128, 128), seed=0, metainfo=dict(from_file='coco'))
model = dict(type='TopdownPoseEstimator', backbone=dict(type='ResNet', depth=18, base_channels=8),
             head=dict(type='DeconvHead', out_channels=17, num_deconv_filters=(16, 16, 16)),
             loss=dict(type='KeypointMSELoss', use_target_weight=True), codec=_codec)
train_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(**_data, split='train', pipeline=[
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale', aspect_ratio=1.0),
    dict(type='TopdownAffine', input_size=(64, 64)), dict(type='GenerateTarget', encoder=_codec),
    dict(type='PackPoseInputs')]))
val_dataloader = dict(batch_size=8, num_workers=1, dataset=dict(**_data, split='val', pipeline=[
    dict(type='LoadImage'), dict(type='GetBBoxCenterScale', aspect_ratio=1.0),
    dict(type='TopdownAffine', input_size=(64, 64)), dict(type='PackPoseInputs')]))
val_evaluator = dict(type='CocoMetric', ann_file='synthetic/annotations/person_keypoints_val.json')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(max_epochs=2, val_interval=2)
'''
WHERE = 'import sbcore, sbplugins; print(sbcore.__file__); print(sbplugins.__file__)'


def test_wheel_install_trains_and_evaluates_a_config_from_another_folder(tmp_path):
    venv = FreshVenv(tmp_path)
    src = venv.copy_sources()
    venv.pip_install(src / 'core', src)
    tools = tmp_path / 'tools'
    shutil.copytree(src / 'tools', tools)
    shutil.rmtree(src)  # nothing of the repository is left but its scripts

    elsewhere = tmp_path / 'my_project'
    elsewhere.mkdir()
    (elsewhere / 'my_config.py').write_text(textwrap.dedent(CONFIG))
    proc = venv.run(['-c', WHERE], cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert all('site-packages' in line for line in proc.stdout.split()), proc.stdout

    proc = venv.run([str(tools / 'train.py'), 'my_config.py', '--work-dir', 'work'], cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (elsewhere / 'work' / 'epoch_2.ckpt').is_file()
    proc = venv.run([str(tools / 'eval.py'), '--config', 'my_config.py', '--ckpt',
                     'work/epoch_2.ckpt', '--work-dir', 'eval'], cwd=elsewhere)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads((elsewhere / 'eval' / 'metrics.json').read_text())
    assert 0.0 <= metrics['coco/AP'] <= 1.0 and 'coco/AR' in metrics
