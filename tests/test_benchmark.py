"""tools/benchmark.py runs for real with tiny settings and writes the documented JSON keys.

ResNet-18 with 64-filter deconvolutions at 64x64 (heatmaps 16x16), 2 timed iterations; the data
mode reads the real COCO sample; the eval mode scores a small synthetic set. No timing
assertions: only that every figure exists, is finite and positive, and the synthetic set is sane.
"""
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before mindspore loads)

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.synthetic_coco import make_val_scale_set  # noqa: E402

# 64x64: ResNet's stride 32 divides it (a 48-pixel side would give 2 features, not 1.5)
TINY_MODEL = ['model.codec.input_size=(64,64)', 'model.codec.heatmap_size=(16,16)']
POSITIVE_KEYS = ('train_img_per_s', 'infer_img_per_s', 'infer_flip_img_per_s',
                 'data_samples_per_s', 'data_samples_per_s_per_worker',
                 'data_samples_per_s_one_process', 'data_samples_per_s_one_process_no_decode',
                 'data_official_samples_per_s', 'data_vs_official',
                 'heatmap_encode_ms', 'eval_s', 'cocoeval_s',
                 'peak_rss_mb')


def test_benchmark_tool_writes_every_figure(tmp_path, coco_sample):
    out = tmp_path / 'bench.json'
    cmd = [sys.executable, 'tools/benchmark.py', '--config', 'tests/configs/coco_sample_res18.py',
           '--mode', 'all', '--batch-size', '2', '--iters', '2', '--warmup', '1',
           '--data-root', str(coco_sample['root']), '--data-samples', '12', '--num-workers', '1',
           '--eval-images', '40', '--eval-persons', '400', '--json', str(out),
           '--cfg-options', *TINY_MODEL]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    for key in POSITIVE_KEYS:
        assert key in results, f'{key} missing from {sorted(results)}'
        assert math.isfinite(results[key]) and results[key] > 0, (key, results[key])
    assert results['train_variant'] in ('pynative', 'jit', 'jit-fused')
    assert len(results['train_times']) == 2
    assert results['data_workers'] == 1
    assert results['eval_persons'] == 400
    # every transform of the configured training pipeline was timed
    assert list(results['data_transform_ms']) == [
        'LoadImage', 'GetBBoxCenterScale', 'RandomBBoxTransform', 'RandomFlip', 'TopdownAffine',
        'GenerateTarget', 'PackPoseInputs']
    assert 0.0 <= results['eval_ap'] <= 1.0
    assert 'train_img_per_s' in proc.stdout  # the printed table


def test_synthetic_val_set_matches_its_request(tmp_path):
    ann_file, batch, preds = make_val_scale_set(tmp_path, images=30, persons=600, seed=1)
    gt = json.loads(ann_file.read_text())
    assert len(gt['images']) == 30
    assert 30 <= len(gt['annotations']) <= 90  # 1-3 people per image
    assert batch['img_id'].shape == (600,) and preds['keypoints'].shape == (600, 17, 2)
    assert np.array_equal(np.bincount(batch['img_id'])[1:], np.full(30, 20))
    # most detections are noisy copies of a person: close to some ground-truth keypoints
    gt_kpts = {}
    for ann in gt['annotations']:
        gt_kpts.setdefault(ann['image_id'], []).append(
            np.asarray(ann['keypoints'], float).reshape(17, 3))
    near = 0
    for img_id, kpts in zip(batch['img_id'], preds['keypoints']):
        dists = [np.abs(kpts - g[:, :2])[g[:, 2] > 0].mean() for g in gt_kpts[int(img_id)]]
        near += min(dists) < 30
    assert near / len(batch['img_id']) > 0.6


def test_official_baseline_sample_has_the_official_shapes(coco_sample):
    """The timing baseline of --mode data really builds the official sample: normalised input,
    per-joint targets with their peaks at the warped joints."""
    from benchmarks import official_pipeline as official
    from sbcore.registries import DATASETS
    from sbcore.config import Config
    cfg = Config.fromfile(str(REPO_ROOT / 'tests/configs/coco_sample_res18.py'))
    cfg.merge_from_dict(coco_sample['cfg_options'])
    dataset = DATASETS.build(cfg.train_dataloader.dataset.to_dict())
    flip_pairs = [(i, j) for i, j in enumerate(dataset.metainfo['flip_indices']) if i < j]
    records = official.records_from_samples([dataset.get_data_info(i) for i in range(3)], 0.75)
    np.random.seed(0)  # the official draws come from the global generators
    random.seed(0)
    for record in records:
        tensor, target, weight = official.official_train_sample(record, flip_pairs)
        assert tensor.shape == (3, 256, 192) and tensor.dtype == np.float32
        assert target.shape == (17, 64, 48) and weight.shape == (17, 1)
        assert abs(float(tensor.mean())) < 3.0  # normalised, not 0..255
        labelled = int((record['joints_3d_vis'][:, 0] > 0).sum())  # flips permute, not add
        assert 0 < int((weight > 0).sum()) <= labelled
        peaks = target[weight[:, 0] > 0].max(axis=(1, 2))
        # 1 where the joint's window centre is on the heatmap; a joint just outside keeps weight 1
        # with a cut-off window (the official quirk), so its peak is below 1
        assert (peaks > 0).all() and (peaks <= 1).all() and np.isclose(peaks, 1.0).mean() > 0.5
