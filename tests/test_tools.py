"""The user tools run for real as subprocesses on the shared COCO sample.

Model: a randomly initialised ResNet-18 SimpleBaseline (tests/configs/coco_sample_res18.py) saved
with ``sbcore.checkpoint.save_checkpoint``; the curves come from a real two-epoch training run.
"""
import json
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before mindspore loads)
import mindspore
from mindspore import nn
from sbcore.checkpoint import save_checkpoint

from sbplugins.apis import init_model
from sbplugins.utils.geometry.flip import flip_heatmaps
from tool_helpers import load_tool_module, read_video, run_tool

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = 'tests/configs/coco_sample_res18.py'
COCO_FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def cli_options(coco_sample, **extra) -> list:
    return ['--cfg-options'] + [f'{k}={v}' for k, v in {**coco_sample['cfg_options'],
                                                          **extra}.items()]


@pytest.fixture(scope='module')
def checkpoint(coco_sample, tmp_path_factory):
    mindspore.set_seed(3)
    model = init_model(REPO_ROOT / CONFIG, cfg_options=coco_sample['cfg_options'])
    path = tmp_path_factory.mktemp('tools_ckpt') / 'random_r18.ckpt'
    save_checkpoint(path, {n: p.asnumpy() for n, p in model.parameters_and_names()}, {})
    return path


def test_infer_folder_with_coco_detections(coco_sample, checkpoint, tmp_path):
    thr = 0.9
    proc = run_tool('infer.py', '--config', CONFIG, '--ckpt', checkpoint,
                    '--input', coco_sample['img_dir'], '--bboxes', coco_sample['det_file'],
                    '--det-score-thr', thr, '--kpt-thr', 0, '--out-dir', tmp_path,
                    *cli_options(coco_sample))
    assert 'images [' in proc.stdout  # the progress bar
    detections = json.loads(Path(coco_sample['det_file']).read_text())
    images = sorted(coco_sample['img_dir'].glob('*.jpg'))
    assert len(images) == 4
    for image in images:
        expected = [d for d in detections if d['image_id'] == int(image.stem)
                    and d['category_id'] == 1 and d['score'] >= thr]
        record = json.loads((tmp_path / f'{image.stem}.json').read_text())
        pixels = cv2.imread(str(image))
        assert record['image'] == image.name
        assert (record['height'], record['width']) == pixels.shape[:2]
        assert len(record['persons']) == len(expected) > 0
        for person, det in zip(record['persons'], expected):
            assert set(person) == {'bbox', 'bbox_score', 'keypoints', 'keypoint_scores'}
            np.testing.assert_allclose(person['bbox'], det['bbox'], atol=0.006)
            assert person['bbox_score'] == pytest.approx(det['score'], abs=1e-5)
            assert np.asarray(person['keypoints']).shape == (17, 2)
            assert np.asarray(person['keypoint_scores']).shape == (17,)
        picture = cv2.imread(str(tmp_path / f'{image.stem}.png'))
        assert picture is not None and picture.shape == pixels.shape
        assert (picture != pixels).any()  # something was drawn


def test_infer_video(coco_sample, checkpoint, tmp_path):
    frame = cv2.resize(cv2.imread(str(coco_sample['img_dir'] / '000000000785.jpg')), (160, 120))
    video = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*'MJPG'), 5, (160, 120))
    assert writer.isOpened()
    for shift in range(3):
        writer.write(np.roll(frame, 4 * shift, axis=1))
    writer.release()
    out = tmp_path / 'out'
    run_tool('infer.py', '--config', CONFIG, '--ckpt', checkpoint, '--input', video,
             '--out-dir', out, *cli_options(coco_sample))
    record = json.loads((out / 'clip.json').read_text())
    assert record['video'] == 'clip.avi' and (record['width'], record['height']) == (160, 120)
    assert [f['frame'] for f in record['frames']] == [0, 1, 2]
    for f in record['frames']:
        assert len(f['persons']) == 1 and f['persons'][0]['bbox'] == [0, 0, 160, 120]
    rendered = [p for p in out.iterdir() if p.suffix in ('.mp4', '.avi')]
    assert len(rendered) == 1
    frames = read_video(rendered[0])
    assert len(frames) == 3 and frames[0].shape == (120, 160, 3)


def test_export_flip_test_mindir_loads_and_matches(coco_sample, checkpoint, tmp_path):
    out = tmp_path / 'sb_r18_flip.mindir'
    proc = run_tool('export.py', '--config', CONFIG, '--ckpt', checkpoint, '--out', out,
                    '--flip-test', '--batch-size', 2, *cli_options(coco_sample))
    assert 'OK' in proc.stdout.splitlines()[-1]
    assert re.search(r'max abs diff [0-9.e+-]+', proc.stdout)
    # Independently of the tool's own check: load the file here and compare on another input.
    graph = nn.GraphCell(mindspore.load(str(out)))
    model = init_model(REPO_ROOT / CONFIG, str(checkpoint), cfg_options=coco_sample['cfg_options'])
    pixels = np.random.default_rng(7).integers(0, 256, (2, 256, 192, 3), dtype=np.uint8)
    inputs = model.preprocess(pixels)
    exported = graph(mindspore.Tensor(inputs)).asnumpy()
    expected = model.predict_heatmaps(inputs)  # flip_test on: the config's default
    assert exported.shape == (2, 17, 64, 48)
    assert np.abs(exported - expected).max() <= 1e-5 * np.abs(expected).max()


@pytest.mark.parametrize('shift', [True, False])
def test_export_flip_cell_equals_numpy_flip_heatmaps(shift):
    """The MindSpore flip-test cell of tools/export.py against geometry.flip_heatmaps, on a net
    whose heatmaps are far from zero and not mirror-symmetric."""
    export = load_tool_module('export')
    mindspore.set_seed(5)
    net = nn.Conv2d(3, 17, 3, pad_mode='pad', padding=1, has_bias=True, weight_init='normal')
    net.set_train(False)
    x = np.random.default_rng(1).normal(size=(2, 3, 8, 6)).astype(np.float32)
    cell = export.FlipTestHeatmaps(net, COCO_FLIP_INDICES, shift=shift)
    got = cell(mindspore.Tensor(x)).asnumpy()
    plain = net(mindspore.Tensor(x)).asnumpy()
    mirrored = net(mindspore.Tensor(np.ascontiguousarray(x[..., ::-1]))).asnumpy()
    expected = (plain + flip_heatmaps(mirrored, COCO_FLIP_INDICES, shift=shift)) * 0.5
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert np.abs(expected - plain).max() > 1e-2  # the flip branch matters here


def test_analyze_logs_plots_a_real_training_log(coco_sample, tmp_path):
    work_dir = tmp_path / 'run'
    run_tool('train.py', '--config', CONFIG, '--work-dir', work_dir,
             *cli_options(coco_sample, **{'train_cfg.max_epochs': 2, 'env_cfg.jit': False,
                                          'val_dataloader.dataset.bbox_file': None}))
    log = work_dir / 'log.json'
    records = [json.loads(line) for line in log.read_text().splitlines()]
    n_train = sum(r['mode'] == 'train' for r in records)
    n_val = sum('coco/AP' in r for r in records)
    assert n_train == 6 and n_val == 2  # 12 sample instances / batch 4, two epochs
    out = tmp_path / 'curves.png'
    proc = run_tool('analyze_logs.py', 'plot_curve', log, '--keys', 'loss', 'lr', 'coco/AP',
                    '--out', out)
    assert f'loss: {n_train} point(s)' in proc.stdout
    assert f'lr: {n_train} point(s)' in proc.stdout
    assert f'coco/AP: {n_val} point(s)' in proc.stdout
    picture = cv2.imread(str(out))
    assert picture is not None and picture.shape == (780, 800, 3)  # 3 panels of 8x2.6 in, 100 dpi
    missing = run_tool('analyze_logs.py', 'plot_curve', log, '--keys', 'coco/APX',
                       '--out', tmp_path / 'x.png', ok=False, timeout=120)
    assert missing.returncode != 0 and 'logged keys' in missing.stderr
    # A runner checkpoint (weights + optimizer state) loads for inference.
    model = init_model(REPO_ROOT / CONFIG, str(work_dir / 'epoch_2.ckpt'),
                       cfg_options=coco_sample['cfg_options'])
    assert not model.training


def test_browse_dataset_renders_crops_and_targets(coco_sample, tmp_path):
    proc = run_tool('browse_dataset.py', '--config', CONFIG, '--split', 'train', '--num', 3,
                    '--out-dir', tmp_path, *cli_options(coco_sample))
    assert '3 of 12 samples' in proc.stdout
    pictures = sorted(tmp_path.glob('*.png'))
    assert [p.name for p in pictures] == ['0000.png', '0001.png', '0002.png']
    for path in pictures:
        picture = cv2.imread(str(path))
        assert picture.shape == (256, 192 * 2 + 4, 3)
        left, right = picture[:, :192].astype(int), picture[:, 196:].astype(int)
        # The heatmap half is the crop with colour blended in around the joints only.
        changed = np.abs(left - right).sum(axis=2) > 30
        assert 0.005 < changed.mean() < 0.6
