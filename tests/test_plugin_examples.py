"""The examples of docs/plugins.md run as they are written there.

Section 5's Python block of every kind (and section 1's hook) is executed as a module and its class
registered in-process; the synthetic main-job recipe, shrunk to a few images, then trains for three
epochs and evaluates with all of them at once, each swapped in through the config line its block
shows. Each test checks what one example does in that run. The doc is the only copy of the code.
"""
import importlib.util
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from sbcore.config import Config
from sbcore.errors import ConfigError
from sbcore.hooks import HOOK_POINTS, Hook
from sbcore.registries import (DATASETS, HOOKS, LOOPS, METRICS, MODELS, OPTIMIZERS, SCHEDULERS,
                               TRANSFORMS, all_registries)
from sbplugins.registries import CODECS

from pipeline_sizes import resize_pipeline

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / 'docs' / 'plugins.md'
RECIPE = REPO / 'configs' / 'simple_baseline' / 'synthetic' / 'res18_128x96.py'
REGISTRY_OF_KIND = dict(Hook=HOOKS, Loop=LOOPS, Backbone=MODELS, Head=MODELS, Codec=CODECS,
                        Dataset=DATASETS, Transform=TRANSFORMS, Metric=METRICS,
                        Optimizer=OPTIMIZERS, Scheduler=SCHEDULERS)
PYTHON_BLOCK = re.compile(r'^```python\n(.*?)^```', re.S | re.M)
CONFIG_LINE = re.compile(r'^# ([_A-Za-z]\w* = .*)$', re.M)  # a commented `key = value` line
EPOCHS = 3
# the loop's schedule in this run: interval 1 for epoch 1, 3 from epoch 2 on (epoch 3 is the last)
LOOP_ARGS = dict(max_epochs=EPOCHS, val_interval=1, dynamic_intervals=[(2, 3)])
VAL_EPOCHS = [1, 3]  # EpochBasedTrainLoop with val_interval=1: [1, 2, 3]
HOOK_FACTOR = 1.0  # LossJumpHook then warns at every step whose loss exceeds the one before


def doc_section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f'\n## {title}')
    end = text.find('\n## ', start + 1)
    return text[start:end if end > 0 else len(text)]


def doc_examples() -> dict:
    """{kind: code}: the first Python block under each bold kind name of section 5; the hook
    points to section 1, whose first block is the hook."""
    section = doc_section('5. A minimal example of every kind')
    parts = re.split(r'^\*\*(\w+)\*\* \(`', section, flags=re.M)  # [intro, kind, text, ...]
    examples = {}
    for kind, text in zip(parts[1::2], parts[2::2]):
        block = PYTHON_BLOCK.search(text)
        if block is not None:
            examples[kind] = block.group(1)
    examples['Hook'] = PYTHON_BLOCK.search(doc_section('1. Write a hook')).group(1)
    return examples


def config_values(code: str) -> dict:
    """The variables of a block's commented config lines, executed in order."""
    return run_config('\n'.join(CONFIG_LINE.findall(code)))


def run_config(text: str) -> dict:
    namespace: dict = {}
    exec(text, namespace)
    return {k: v for k, v in namespace.items() if k != '__builtins__'}


def entry_of_type(items: list, name: str) -> int:
    """The index of the config entry ``dict(type=name, ...)`` in ``items``."""
    return next(i for i, item in enumerate(items)
                if isinstance(item, dict) and item.get('type') == name)


def load_example(kind: str, code: str, folder: Path):
    """Import ``code`` as the module ``folder/plugins_md_<kind>.py`` (MindSpore compiles a cell
    from its source file); its one class (or function) defined there."""
    path = folder / f'plugins_md_{kind.lower()}.py'
    path.write_text(code)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # as an installed plugin module is
    spec.loader.exec_module(module)
    defined = [v for v in vars(module).values()
               if callable(v) and getattr(v, '__module__', None) == path.stem]
    assert len(defined) == 1, (kind, defined)
    return defined[0]


def write_people_json(path: Path, coco_file: str, image_dir: str) -> list:
    """The synthetic training people in the JSON layout of the dataset example."""
    coco = json.loads(Path(coco_file).read_text())
    files = {img['id']: img['file_name'] for img in coco['images']}
    people = [dict(image=os.path.relpath(Path(image_dir) / files[a['image_id']], path.parent),
                   bbox=a['bbox'], keypoints=np.reshape(a['keypoints'], (-1, 3)).tolist())
              for a in coco['annotations'] if not a['iscrowd'] and a['num_keypoints'] > 0]
    path.write_text(json.dumps(people))
    return people


def shrunk_recipe(root: Path, codec: dict) -> Config:
    """The main-job recipe on a few generated images, at the codec's input size."""
    cfg = Config.fromfile(RECIPE)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].batch_size = 2
        cfg[key].num_workers = 1
        cfg[key].dataset.update(data_root=str(root / 'synthetic'), num_train_images=4,
                                num_val_images=3)
        resize_pipeline(cfg[key].dataset.pipeline, codec['input_size'], codec)
    cfg.val_dataloader.dataset.use_detections = False  # the metric example needs ground truth
    cfg.merge_from_dict({'work_dir': str(root / 'work'), 'default_hooks.logger.interval': 1,
                         'default_hooks.checkpoint.interval': 1})  # the resume check starts at 1
    return cfg


def swap_in_examples(cfg: Config, lines: dict, names: dict, people_file: Path,
                     coco_ann_file: str) -> None:
    """Every example into ``cfg`` through its config line (``lines``: their values by kind)."""
    for kind in ('Backbone', 'Head', 'Codec'):
        cfg.merge_from_dict({'model': lines[kind]['model']})
    cfg.merge_from_dict({'optim_wrapper': lines['Optimizer']['optim_wrapper']})
    cfg.param_scheduler = lines['Scheduler']['param_scheduler']
    loop = lines['Loop']['train_cfg']
    assert set(loop) == {'type', *LOOP_ARGS}, loop
    cfg.train_cfg = dict(loop, **LOOP_ARGS)
    # the transform goes after the step the doc's pipeline puts before it
    doc_pipeline = lines['Transform']['pipeline']
    at = entry_of_type(doc_pipeline, names['Transform'])
    pipeline = cfg.train_dataloader.dataset.pipeline
    pipeline.insert(entry_of_type(pipeline, doc_pipeline[at - 1]['type']) + 1, doc_pipeline[at])
    dataset = dict(lines['Dataset']['train_dataloader']['dataset'])
    assert set(dataset) == {'_delete_', 'type', 'ann_file', 'pipeline'}, dataset
    cfg.merge_from_dict({'train_dataloader.dataset': dict(dataset, ann_file=str(people_file),
                                                          pipeline=list(pipeline))})
    doc_metrics = lines['Metric']['val_evaluator']
    cfg.val_evaluator = [dict(cfg.val_evaluator.to_dict(), ann_file=coco_ann_file),
                         doc_metrics[entry_of_type(doc_metrics, names['Metric'])]]
    hooks = run_config(PYTHON_BLOCK.search(doc_section('4. Name it in a config')).group(1))
    hook = hooks['custom_hooks'][entry_of_type(hooks['custom_hooks'], names['Hook'])]
    cfg.custom_hooks = [dict(hook, factor=HOOK_FACTOR)]


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """Registers every example, trains and evaluates with all of them; what the checks read."""
    from sbcore.runner import Runner
    root = tmp_path_factory.mktemp('plugin_examples')
    codes = doc_examples()
    assert set(codes) == set(REGISTRY_OF_KIND), sorted(codes)
    classes = {kind: load_example(kind, code, root) for kind, code in codes.items()}
    for kind, cls in classes.items():
        REGISTRY_OF_KIND[kind].register(cls)
    lines = {kind: config_values(code) for kind, code in codes.items()}

    cfg = shrunk_recipe(root, lines['Codec']['_codec'])
    synthetic = DATASETS.build(dict(cfg.val_dataloader.dataset.to_dict(), pipeline=[])).paths
    people_file = root / 'people' / 'people.json'
    people_file.parent.mkdir()
    people = write_people_json(people_file, synthetic['train_ann'], synthetic['train_images'])
    swap_in_examples(cfg, lines, {kind: cls.__name__ for kind, cls in classes.items()},
                     people_file, synthetic['val_ann'])
    runner = Runner(cfg)
    initial = {name: p.asnumpy().copy() for name, p in runner.model.parameters_and_names()}
    runner.train()
    work = Path(cfg.work_dir)
    records = [json.loads(line) for line in (work / 'log.json').read_text().splitlines()]
    yield dict(runner=runner, cfg=cfg, classes=classes, lines=lines, people=people,
               people_file=people_file, initial=initial, work=work, records=records,
               metrics=json.loads((work / 'metrics.json').read_text()))
    for kind in codes:
        sys.modules.pop(f'plugins_md_{kind.lower()}', None)


def train_records(run) -> list:
    return [r for r in run['records'] if r['mode'] == 'train']


def test_loop_validates_on_its_schedule(run):
    assert type(run['runner'].train_loop) is run['classes']['Loop']
    assert [r['epoch'] for r in run['records'] if r['mode'] == 'val'] == VAL_EPOCHS
    assert run['runner'].epoch == EPOCHS


def test_loop_schedule_survives_a_resume(run, tmp_path):
    """Resumed after epoch 1, the run validates only after epoch 3, as the uninterrupted one."""
    from sbcore.runner import Runner
    cfg = Config(run['cfg'].to_dict())
    cfg.merge_from_dict({'work_dir': str(tmp_path), 'resume': str(run['work'] / 'epoch_1.ckpt')})
    Runner(cfg).train()
    records = [json.loads(line) for line in (tmp_path / 'log.json').read_text().splitlines()]
    assert [r['epoch'] for r in records if r['mode'] == 'train'][0] == 2
    assert [r['epoch'] for r in records if r['mode'] == 'val'] == [e for e in VAL_EPOCHS if e > 1]


def test_backbone_and_head_are_the_model_and_trained(run):
    model = run['runner'].model
    width = run['lines']['Backbone']['model']['backbone']['width']
    assert type(model.backbone) is run['classes']['Backbone']
    assert type(model.head) is run['classes']['Head']
    assert model.backbone.out_channels == (width,)
    assert model.head.conv.weight.shape[1] == width  # in_channels set from the backbone
    for name, param in model.parameters_and_names():  # every parameter took the updates
        assert not np.array_equal(param.asnumpy(), run['initial'][name]), name


def test_optimizer_is_the_one_built(run):
    from mindspore import nn
    runner = run['runner']
    assert isinstance(runner.optimizer, nn.Momentum)
    assert runner.train_step.optimizer is runner.optimizer
    assert float(runner.optimizer.momentum.asnumpy()) == pytest.approx(0.9)  # the builder's default


def test_scheduler_sets_lr_times_gamma_per_epoch(run):
    lr = run['lines']['Optimizer']['optim_wrapper']['optimizer']['lr']
    gamma = run['lines']['Scheduler']['param_scheduler'][0]['gamma']
    records = train_records(run)
    assert {r['epoch'] for r in records} == set(range(1, EPOCHS + 1))
    for r in records:
        assert r['lr'] == pytest.approx(lr * gamma ** (r['epoch'] - 1), rel=1e-6), r


def test_codec_decode_inverts_encode_and_makes_the_targets(run):
    codec = run['runner'].model.codec
    assert type(codec) is run['classes']['Codec']
    target = next(t for t in run['runner'].train_dataloader.dataset.pipeline.transforms
                  if type(t).__name__ == 'GenerateTarget')
    assert type(target.encoder) is run['classes']['Codec']
    sx, sy = codec.stride
    w, h = codec.input_size
    # on the heatmap grid, off it, left of the crop, below it
    keypoints = np.array([[[3 * sx, 5 * sy], [10.4 * sx, 7.6 * sy], [-4.0, h / 2], [w / 2, h + 3]]])
    encoded = codec.encode(keypoints, np.array([[1, 1, 1, 1]]))
    np.testing.assert_array_equal(encoded['keypoint_weights'], [[1, 1, 0, 0]])  # outside: 0
    assert encoded['heatmaps'].shape == (4, codec.heatmap_size[1], codec.heatmap_size[0])
    assert not encoded['heatmaps'][2:].any()
    decoded, scores = codec.decode(encoded['heatmaps'][:2])
    np.testing.assert_array_equal(decoded[0, 0], keypoints[0, 0])  # on the heatmap grid: exact
    np.testing.assert_allclose(decoded[0, 1], [10 * sx, 8 * sy])  # off it: the nearest cell
    assert scores[0, 0] == pytest.approx(1.0)


def test_dataset_reads_its_records(run):
    dataset = run['runner'].train_dataloader.dataset
    people, folder = run['people'], run['people_file'].parent
    assert type(dataset) is run['classes']['Dataset'] and len(dataset) == len(people) >= 4
    for i in (0, len(people) - 1):
        inst, person = dataset.data_list[i], people[i]
        kpts = np.asarray(person['keypoints'], np.float32)
        assert os.path.samefile(inst['img_path'], folder / person['image'])
        np.testing.assert_array_equal(inst['bbox'][0], np.float32(person['bbox']))
        np.testing.assert_array_equal(inst['keypoints'][0], kpts[:, :2])
        np.testing.assert_array_equal(inst['keypoints_visible'][0], kpts[:, 2] > 0)
    steps = len(run['runner'].train_dataloader)
    assert steps == math.ceil(len(people) / 2)
    assert len(train_records(run)) == EPOCHS * steps  # every record trained on, every epoch


def test_transform_changes_the_pixels(run):
    dataset = run['runner'].train_dataloader.dataset
    transforms = dataset.pipeline.transforms
    at = next(i for i, t in enumerate(transforms) if type(t) is run['classes']['Transform'])
    seed = 3
    changed = dataset.get_sample(0, np.random.default_rng(seed))['img'].astype(int)
    brightness = transforms.pop(at)
    try:
        plain = dataset.get_sample(0, np.random.default_rng(seed))['img'].astype(int)
    finally:
        transforms.insert(at, brightness)
    # its draw comes after every other random step: the crop is the same, shifted by floor(delta)
    unclipped = (changed > 0) & (changed < 255)
    shifts = np.unique((changed - plain)[unclipped])
    assert len(shifts) == 1 and shifts[0] != 0 and abs(shifts[0]) <= brightness.max_delta, shifts


def test_metric_value_is_the_mean_error_of_the_labelled_keypoints(run):
    runner, metrics = run['runner'], run['metrics']
    assert 'coco/AP' in metrics and 'joints/mean_error' in metrics
    assert [r for r in run['records'] if r['mode'] == 'val'][-1]['joints/mean_error'] == \
        metrics['joints/mean_error']
    # restated from the dataset's instances (image-space ground truth), not the packed batches
    loader = runner.val_dataloader
    errors = []
    for batch in loader:
        predicted = runner.model.predict(batch)['keypoints']
        for row, idx in enumerate(batch['sample_idx']):
            if batch['is_pad'][row]:
                continue
            inst = loader.dataset.data_list[idx]
            labelled = inst['keypoints_visible'][0] > 0
            errors += list(np.hypot(*(predicted[row] - inst['keypoints'][0])[labelled].T))
    assert len(errors) > 0
    assert metrics['joints/mean_error'] == pytest.approx(np.mean(errors), rel=1e-5)
    # an unlabelled keypoint and a detection box (id -1) count for nothing
    metric = run['classes']['Metric']()
    truth = np.array([[[10.0, 20.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    metric.process(dict(keypoints=truth, keypoints_visible=np.array([[1, 0], [1, 1]]),
                        id=np.array([7, -1])), dict(keypoints=truth + [[[3.0, 4.0]], [[9.0, 9.0]]]))
    assert metric.compute_metrics(metric.results) == {'joints/mean_error': 5.0}


def test_hook_warns_at_every_loss_jump(run):
    losses = {r['iter']: r['loss'] for r in train_records(run)}
    expected = [i for i in sorted(losses) if i - 1 in losses
                and losses[i] > HOOK_FACTOR * losses[i - 1]]
    log = (run['work'] / 'run.log').read_text()
    warned = [int(n) for n in re.findall(r'loss jumped from \S+ to \S+ at iteration (\d+)', log)]
    assert warned == expected and expected, (warned, losses)


def test_sections_1_and_2_name_the_engine_s_points_errors_and_groups():
    section1 = doc_section('1. Write a hook')
    # the errors quoted for a misspelled point and a wrong signature are the engine's
    quoted = section1[section1.index('### Misspelled'):].split('```')[1]
    messages = [' '.join(m.split()) for m in quoted.split('sbcore.errors.ConfigError: ')[1:]]
    bodies = ['def after_train_iteration(self, runner): pass',
              'def after_train_iter(self, runner, batch_idx, batch, outputs): pass']
    for message, body in zip(messages, bodies):
        with pytest.raises(ConfigError) as error:
            exec(f'class LossJumpHook(Hook):\n    __module__ = "mypkg.hooks"\n    {body}',
                 dict(Hook=Hook))
        assert isinstance(error.value, TypeError)
        assert str(error.value).startswith(message.rstrip('.').rstrip()), (str(error.value), message)
    assert len(messages) == len(bodies)
    start = section1.index('| point |')
    table = section1[start:section1.index('\n\n', start)]
    points = set(re.findall(r'`((?:before|after)_\w+)', table))
    assert points == set(HOOK_POINTS)
    section2 = doc_section('2. Declare it as an entry point')
    groups = dict(re.findall(r'^\| `(\w+)`(?: \(`[\w.]+`\))? \| `([\w.]+)` \|', section2, re.M))
    by_name = {'CODECS': CODECS, 'HOOKS': HOOKS, 'LOOPS': LOOPS, 'MODELS': MODELS,
               'DATASETS': DATASETS, 'TRANSFORMS': TRANSFORMS, 'METRICS': METRICS,
               'OPTIMIZERS': OPTIMIZERS, 'SCHEDULERS': SCHEDULERS}
    assert set(groups) == set(by_name)
    for name, group in groups.items():
        assert by_name[name].group == group and by_name[name] in all_registries(), name
