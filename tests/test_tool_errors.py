"""Every tool under tools/ (and ``python -m sbcore``) run as a real process on a user's mistake:
stderr is exactly one line ``<tool>: error: <message naming the culprit>``, exit code 2, no
traceback; ``--debug`` or ``SBCORE_DEBUG=1`` shows the traceback; a bug keeps its traceback.

Also the evaluation workflow of a fresh clone: the official recipe evaluates from a checkpoint
without its ImageNet ``pretrained`` file, and training without that file stops with one line
naming it and the command that makes it.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore import checkpoint as ckpt_io
from test_tools import CONFIG as COCO_RES18, checkpoint, cli_options  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[1]
TOY = REPO / 'tests' / 'configs' / 'dist_toy.py'
RECIPE = REPO / 'configs' / 'simple_baseline' / 'coco' / 'res50_256x192.py'
TIMEOUT = 300


def run(tool, *args, cwd=None, env=None, timeout=TIMEOUT) -> subprocess.CompletedProcess:
    cmd = [sys.executable, *(['-m', tool] if tool == 'sbcore' else [str(REPO / 'tools' / tool)]),
           *map(str, args)]
    environ = dict(os.environ)
    environ.pop('SBCORE_DEBUG', None)
    environ.update(env or {})
    return subprocess.run(cmd, cwd=cwd or REPO, env=environ, capture_output=True, text=True,
                          timeout=timeout)


def assert_one_line(proc, prefix: str, *fragments: str) -> str:
    """Exit code 2 and stderr of one line: ``prefix: error: ...`` holding every fragment."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, f'exit {proc.returncode}\n{proc.stderr[-3000:]}'
    assert len(lines) == 1 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    assert lines[0].startswith(f'{prefix}: error: '), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope='module')
def recipe_checkpoint(tmp_path_factory):
    """A checkpoint of every weight of the official recipe's model, randomly initialised."""
    from sbcore.config import Config
    from sbcore.registries import MODELS
    model_cfg = Config.fromfile(RECIPE).model.to_dict()
    model_cfg['pretrained'] = None
    model = MODELS.build(model_cfg)
    path = tmp_path_factory.mktemp('res50') / 'random_res50.ckpt'
    ckpt_io.save_checkpoint(path, {n: p.asnumpy() for n, p in model.parameters_and_names()}, {})
    return path


@pytest.fixture(scope='module')
def toy_checkpoint(tmp_path_factory):
    """A checkpoint of the toy model of tests/configs/dist_toy.py."""
    import toy_components
    path = tmp_path_factory.mktemp('toy') / 'toy.ckpt'
    model = toy_components.ToyRegressor()
    ckpt_io.save_checkpoint(path, {n: p.asnumpy() for n, p in model.parameters_and_names()}, {})
    return path


def test_train_unknown_plugin_debug_flag_and_bugs(tmp_path):
    args = [TOY, '--work-dir', tmp_path / 'wd', '--cfg-options', 'model.type=ToyRegresor']
    assert_one_line(run('train.py', *args), 'train.py',
                    "models registry: no plugin named 'ToyRegresor'", "'ToyRegressor'")
    # --debug and SBCORE_DEBUG=1 show the traceback instead (exit code 1, as any exception)
    for proc in (run('train.py', *args, '--debug'), run('train.py', *args, env={'SBCORE_DEBUG': '1'})):
        assert proc.returncode == 1 and 'Traceback (most recent call last)' in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith('sbcore.errors.RegistryError: ')
    # a bug (not a user error) keeps its traceback
    bug = tmp_path / 'bug.py'
    bug.write_text(f'_base_ = {str(TOY)!r}\n'
                   'from sbcore.hooks import Hook as _Hook\n'
                   'from sbcore.registries import HOOKS as _HOOKS\n'
                   '@_HOOKS.register(force=True)\n'
                   'class BuggyHook(_Hook):\n'
                   '    def before_run(self, runner):\n'
                   '        raise ZeroDivisionError("a bug in a hook")\n'
                   'custom_hooks = [dict(type="BuggyHook")]\n')
    proc = run('train.py', bug, '--work-dir', tmp_path / 'bug_wd')
    assert proc.returncode == 1 and 'Traceback (most recent call last)' in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == 'ZeroDivisionError: a bug in a hook'


def test_train_bad_config_key_and_missing_config(tmp_path):
    assert_one_line(run('train.py', TOY, '--work-dir', tmp_path, '--cfg-options',
                        'train_cgf.max_epochs=1'),
                    'train.py', "config: unknown key(s) 'train_cgf' (did you mean 'train_cfg'?)")
    assert_one_line(run('train.py', tmp_path / 'nope.py'), 'train.py',
                    f'config {tmp_path}/nope.py not found')


def test_eval_corrupt_checkpoint(tmp_path, toy_checkpoint):
    bad = tmp_path / 'flipped.ckpt'
    data = bytearray(toy_checkpoint.read_bytes())
    arrays, _ = ckpt_io.load_checkpoint(toy_checkpoint)
    at = data.find(arrays['fc1.weight'].tobytes())
    data[at + 8] ^= 0x01
    bad.write_bytes(bytes(data))
    assert_one_line(run('eval.py', TOY, bad, '--work-dir', tmp_path / 'ev'), 'eval.py',
                    f"checkpoint {bad}: array 'fc1.weight' fails its CRC-32 checksum")


def test_infer_export_and_convert_missing_files(tmp_path, toy_checkpoint):
    assert_one_line(run('infer.py', '--config', TOY, '--ckpt', toy_checkpoint, '--input',
                        tmp_path / 'me.jpg'), 'infer.py', f'--input {tmp_path}/me.jpg not found')
    # the official recipe: the missing checkpoint is named, not the absent ImageNet file
    assert_one_line(run('export.py', '--config', RECIPE, '--ckpt', tmp_path / 'x.ckpt', '--out',
                        tmp_path / 'x.mindir', cwd=tmp_path), 'export.py',
                    f'checkpoint not found: {tmp_path}/x.ckpt')
    assert_one_line(run('convert_weights.py', '--src', tmp_path / 'r50.pth', '--dst',
                        tmp_path / 'r50.ckpt'), 'convert_weights.py',
                    f'--src {tmp_path}/r50.pth not found')


def test_dataset_field_log_and_generator_values(tmp_path, coco_sample):
    ann = json.loads(coco_sample['ann_file'].read_text())
    del ann['images']
    edited = tmp_path / 'no_images.json'
    edited.write_text(json.dumps(ann))
    cfg = tmp_path / 'coco.py'
    cfg.write_text(f'_base_ = {str(RECIPE)!r}\n'
                   f'train_dataloader = dict(dataset=dict(data_root="", ann_file={str(edited)!r},'
                   f' data_prefix=dict(img={str(coco_sample["img_dir"]) + "/"!r})))\n')
    assert_one_line(run('browse_dataset.py', '--config', cfg, '--out-dir', tmp_path / 'b'),
                    'browse_dataset.py', f"{edited}' lacks field(s) ['images']")
    log = tmp_path / 'log.json'
    log.write_text('{"mode": "train", "iter": 1, "loss": 1.0}\n{oops\n{"mode": "train"}\n')
    assert_one_line(run('analyze_logs.py', 'plot_curve', log, '--out', tmp_path / 'c.png'),
                    'analyze_logs.py', f'{log}:2: not a JSON object')
    assert_one_line(run('generate_synthetic.py', '--out', tmp_path / 'syn', '--num-train', '-1'),
                    'generate_synthetic.py', 'image counts >= 0')


def test_quickstart_benchmark_and_plugins_bad_values(tmp_path):
    assert_one_line(run('quickstart.py', '--config', tmp_path / 'nope.py'), 'quickstart.py',
                    f'config {tmp_path}/nope.py not found')
    assert_one_line(run('benchmark.py', '--config', RECIPE, '--mode', 'train', '--cfg-options',
                        'model.backbone.depth=7'), 'benchmark.py',
                    'ResNet: depth=7 is not supported; expected one of [18, 34, 50, 101, 152]')
    proc = run('sbcore', 'plugins', '--group', 'sbcore.hooks')
    assert proc.returncode == 0 and 'CheckpointHook' in proc.stdout


@pytest.mark.parametrize('tool, num_workers', [('train.py', 1), ('train.py', 2), ('eval.py', 2)])
def test_a_truncated_image_read_by_the_data_pipeline_is_one_line_naming_it(
        tmp_path, coco_sample, truncated_coco_image, checkpoint, tool, num_workers):
    """The image is read inside MindSpore's data pipeline, by a worker thread (1) or process (2),
    at the first batch (ground-truth boxes, no shuffling). A bug there keeps its traceback."""
    loader = 'train_dataloader' if tool == 'train.py' else 'test_dataloader'
    options = cli_options(coco_sample, **{
        f'{loader}.dataset.data_prefix.img': f'{truncated_coco_image["img_dir"]}/',
        f'{loader}.dataset.bbox_file': None, f'{loader}.shuffle': False,
        f'{loader}.num_workers': num_workers})
    args = [COCO_RES18, *([checkpoint] if tool == 'eval.py' else []), '--work-dir', tmp_path / 'wd',
            *options]
    path, sample = truncated_coco_image['path'], truncated_coco_image['first_sample']
    assert_one_line(run(tool, *args), tool,
                    f'CocoDataset sample {sample}: LoadImage: image file {path} is truncated',
                    'expected a complete JPEG')
    assert not list((tmp_path / 'wd').glob('*.ckpt'))
    if tool == 'train.py' and num_workers == 2:
        proc = run(tool, *args, '--debug')  # the worker's traceback, then the main process's
        assert proc.returncode == 1 and 'in read_image' in proc.stderr
        assert 'The above exception was the direct cause' in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith(
            f'sbplugins.transforms.loading.ImageFileError: CocoDataset sample {sample}: ')
        bug = tmp_path / 'bug.py'  # a bug in a transform, met in a worker process
        bug.write_text(f'_base_ = {str(REPO / COCO_RES18)!r}\n'
                       'from sbcore.config import Config as _Config\n'
                       'from sbcore.registries import TRANSFORMS as _TRANSFORMS\n'
                       '@_TRANSFORMS.register(force=True)\n'
                       'class BuggyTransform:\n'
                       '    def __call__(self, results):\n'
                       f'        if results["img_path"].endswith("{path.name}"):\n'
                       '            raise TypeError("a bug in a transform")\n'
                       '        return results\n'
                       '_pipeline = _Config.fromfile(_base_).to_dict()["train_dataloader"]'
                       '["dataset"]["pipeline"]\n'
                       'train_dataloader = dict(dataset=dict(pipeline=[dict(type="BuggyTransform")]'
                       ' + _pipeline))\n')
        proc = run(tool, bug, *args[1:])
        assert proc.returncode == 1 and 'Traceback (most recent call last)' in proc.stderr
        assert 'TypeError: a bug in a transform' in proc.stderr, proc.stderr[-3000:]
        assert f'File "{bug}", line 8, in __call__' in proc.stderr  # the bug's own line


# --- evaluation needs only the checkpoint; training needs the pretrained file ----------------

def test_official_recipe_evaluates_from_a_checkpoint_without_the_pretrained_file(
        tmp_path, coco_sample, recipe_checkpoint):
    """A fresh clone has no data/pretrained/resnet50_imagenet.ckpt: tools/eval.py with the
    official recipe and a checkpoint (here of a randomly initialised model) evaluates on the COCO
    sample, and never reads that file."""
    ckpt = recipe_checkpoint
    # the 8 best-scoring detections and eager inference (no compilation) keep the test short
    # (ResNet-50 with flip test on 2 cores)
    dets = json.loads(coco_sample['det_file'].read_text())
    dets = sorted(dets, key=lambda d: -d['score'])[:8]
    det_file = tmp_path / 'dets.json'
    det_file.write_text(json.dumps(dets))
    options = [f'test_dataloader.dataset.data_root={coco_sample["root"]}/',
               'test_dataloader.dataset.ann_file=annotations/person_keypoints_sample.json',
               'test_dataloader.dataset.data_prefix.img=images/',
               f'test_dataloader.dataset.bbox_file={det_file}',
               'test_dataloader.batch_size=8', 'test_dataloader.num_workers=1',
               'env_cfg.jit_inference=False',
               f'test_evaluator.ann_file={coco_sample["ann_file"]}']
    assert not (tmp_path / 'data').exists()
    proc = run('eval.py', '--config', RECIPE, '--ckpt', ckpt, '--work-dir', tmp_path / 'eval',
               '--cfg-options', *options, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert 'coco/AP' in proc.stdout and 'metrics written to' in proc.stdout
    metrics = json.loads((tmp_path / 'eval' / 'metrics.json').read_text())
    assert 0.0 <= metrics['coco/AP'] <= 1.0
    run_log = (tmp_path / 'eval' / 'run.log').read_text()
    assert f'weights come from {ckpt}' in run_log and 'resnet50_imagenet' not in run_log
    results = json.loads((tmp_path / 'eval' / 'keypoints_results.json').read_text())
    assert len({r['image_id'] for r in results}) <= 4 and len(results[0]['keypoints']) == 51


def test_training_without_the_pretrained_file_stops_first_naming_it(tmp_path, recipe_checkpoint):
    """Before any data is read (data/coco is absent too, and is not what the error names)."""
    line = assert_one_line(
        run('train.py', '--config', RECIPE, '--work-dir', tmp_path / 'wd', cwd=tmp_path),
        'train.py', 'pretrained backbone checkpoint data/pretrained/resnet50_imagenet.ckpt not '
        'found', 'python tools/convert_weights.py --kind torchvision --src resnet50-19c8e357.pth '
        '--dst data/pretrained/resnet50_imagenet.ckpt')
    assert 'data/coco' not in line
    assert not list((tmp_path / 'wd').glob('*.ckpt'))
    # with --load-from supplying every weight, the pretrained file is not required either: the
    # run gets past weight loading and stops at the next missing thing, the COCO data
    line = assert_one_line(run('train.py', '--config', RECIPE, '--work-dir', tmp_path / 'wd2',
                               '--load-from', recipe_checkpoint, cwd=tmp_path), 'train.py',
                           "COCO annotation file 'data/coco/annotations/person_keypoints_train2017"
                           ".json' not found")
    assert 'pretrained' not in line
