"""Every recipe loads, uses only keys the runner knows and names only registered plugins; the COCO
recipe trains and evaluates through the runner on the real COCO sample."""
import json
from pathlib import Path

import numpy as np
import pytest

from sbcore.config import Config
from sbcore.registries import (DATASETS, HOOKS, METRICS, MODELS, OPTIMIZERS, SCHEDULERS,
                               TRANSFORMS)
from sbplugins.registries import CODECS

from pipeline_sizes import resize_pipeline

REPO = Path(__file__).resolve().parents[1]
RECIPES = sorted((REPO / 'configs' / 'simple_baseline').rglob('*.py'))


def _types(cfg: dict):
    """(registry, type name) for every buildable dict of a recipe."""
    found = [(MODELS, cfg['model']['type']), (MODELS, cfg['model']['backbone']['type']),
             (MODELS, cfg['model']['head']['type']), (MODELS, cfg['model']['loss']['type']),
             (CODECS, cfg['model']['codec']['type']),
             (OPTIMIZERS, cfg['optim_wrapper']['optimizer']['type'])]
    found += [(SCHEDULERS, s['type']) for s in cfg['param_scheduler']]
    found += [(HOOKS, h['type']) for h in cfg['default_hooks'].values() if h]
    for key in ('train_dataloader', 'val_dataloader'):
        dataset = cfg[key]['dataset']
        found.append((DATASETS, dataset['type']))
        for step in dataset['pipeline']:
            found.append((TRANSFORMS, step['type']))
            if 'encoder' in step:
                found.append((CODECS, step['encoder']['type']))
    found.append((METRICS, cfg['val_evaluator']['type']))
    return found


def test_there_are_recipes_for_every_published_setting():
    names = {p.relative_to(REPO / 'configs' / 'simple_baseline').as_posix() for p in RECIPES}
    for depth in (50, 101, 152):
        for size in ('256x192', '384x288'):
            assert f'coco/res{depth}_{size}.py' in names
    assert {'coco/res50_256x192_mmpose.py', 'coco/res50_256x192_official-weights.py',
            'mpii/res50_256x256.py'} <= names


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: p.stem)
def test_recipe_is_valid(path):
    from sbcore.registries import known_config_keys
    known = known_config_keys()  # the runner's keys + those sbpose declares (detector, tracker)
    cfg = Config.fromfile(path)
    assert set(cfg.keys()) <= known, set(cfg.keys()) - known
    header = path.read_text().split('"""')[1]
    assert any(w in header for w in ('Should reproduce', 'Should approach', 'Expected',
                                     'Target')), header
    for registry, name in _types(cfg.to_dict()):
        assert name in registry, f'{path.name}: {name} not in {registry}'
    c = cfg.to_dict()
    codec = c['model']['codec']
    train_steps = {s['type']: s for s in c['train_dataloader']['dataset']['pipeline']}
    # the codec used for targets is the model's codec, and the crop size matches it
    assert train_steps['GenerateTarget']['encoder'] == codec
    assert tuple(train_steps['TopdownAffine']['input_size']) == tuple(codec['input_size'])


def test_official_recipe_values():
    cfg = Config.fromfile(REPO / 'configs/simple_baseline/coco/res50_256x192.py')
    assert cfg.optim_wrapper.optimizer.type == 'Adam' and cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.train_cfg.max_epochs == 140
    assert list(cfg.param_scheduler[0].milestones) == [90, 120]
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.model.data_preprocessor.bgr_to_rgb is False  # the official colour convention
    mm = Config.fromfile(REPO / 'configs/simple_baseline/coco/res50_256x192_mmpose.py')
    assert mm.model.data_preprocessor.bgr_to_rgb is True and mm.train_cfg.max_epochs == 210


def _sample_config(coco_sample, work_dir, depth=18, input_size=(96, 128), epochs=2):
    """The official COCO recipe pointed at the real sample (GT boxes for training, detections for
    validation), shrunk to a small backbone so it runs in CI."""
    cfg = Config.fromfile(REPO / 'configs/simple_baseline/coco/res50_256x192.py')
    w, h = input_size
    codec = dict(type='MSRAHeatmap', input_size=(w, h), heatmap_size=(w // 4, h // 4), sigma=2.0)
    cfg.merge_from_dict({
        'work_dir': str(work_dir), 'model.pretrained': None, 'model.backbone.depth': depth,
        'model.codec': codec,
        'train_cfg': dict(max_epochs=epochs, val_interval=epochs),
        'default_hooks.logger.interval': 1, 'default_hooks.checkpoint.interval': epochs,
        'optim_wrapper.optimizer.lr': 1e-3,
    })
    for key, bbox in (('train_dataloader', None), ('val_dataloader', coco_sample['det_file'])):
        ds = cfg[key].dataset
        ds.data_root = ''
        ds.ann_file = str(coco_sample['ann_file'])
        ds.data_prefix = dict(img=str(coco_sample['img_dir']) + '/')
        ds.bbox_file = str(bbox) if bbox else None
        cfg[key].batch_size = 4
        cfg[key].num_workers = 2
        resize_pipeline(ds.pipeline, (w, h), codec)
    cfg.val_evaluator.ann_file = str(coco_sample['ann_file'])
    return cfg


def test_coco_recipe_trains_and_evaluates_on_the_real_sample(coco_sample, tmp_path):
    from sbcore.runner import Runner
    runner = Runner(_sample_config(coco_sample, tmp_path))
    runner.train()
    records = [json.loads(l) for l in (tmp_path / 'log.json').read_text().splitlines()]
    losses = [r['loss'] for r in records if r['mode'] == 'train']
    assert len(losses) == 6 and all(np.isfinite(losses))  # 12 persons / batch 4 x 2 epochs
    val = [r for r in records if r['mode'] == 'val'][-1]
    assert 0.0 <= val['coco/AP'] <= 1.0 and 'coco/AR (L)' in val
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert set(metrics) >= {'coco/AP', 'coco/AP .5', 'coco/AP .75', 'coco/AP (M)', 'coco/AP (L)',
                            'coco/AR', 'coco/AR .5', 'coco/AR .75', 'coco/AR (M)', 'coco/AR (L)'}
    results = json.loads((tmp_path / 'keypoints_results.json').read_text())
    assert results and set(results[0]) == {'image_id', 'category_id', 'keypoints', 'score'}
    assert len(results[0]['keypoints']) == 17 * 3
