"""Look at what the network is trained on: augmented crops, their keypoints and target heatmaps.

    python tools/browse_dataset.py --config CFG [--split train|val] [--num 8] [--out-dir DIR]

Builds the split's dataset with its own pipeline (same augmentation draws as sample ``idx`` of
``dataset[idx]``), keeps the packed crop ``img``, its crop-space keypoints and (when the pipeline
makes them) the ``heatmaps``, and writes ``<index>.png`` per sample: the crop with the keypoints
drawn (side colours of the dataset info) beside the crop with the target heatmaps overlaid.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict

import numpy as np

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.cli import add_debug_argument, run_tool
from sbcore.config import Config, DictAction
from sbcore.errors import ConfigError

# PackPoseInputs' ``keypoints`` are the image-space ground truth; the crop-space ones (after
# TopdownAffine) are copied to this key before packing so the picture can use them.
CROP_KEYPOINTS = 'crop_keypoints'
CROP_VISIBLE = 'crop_keypoints_visible'
BROWSE_KEYS = ('img', 'heatmaps', 'keypoint_weights', CROP_KEYPOINTS, CROP_VISIBLE, 'img_id', 'id')


def keep_crop_keypoints(results: Dict[str, Any]) -> Dict[str, Any]:
    """Pipeline step placed just before PackPoseInputs."""
    if 'keypoints' in results:
        results[CROP_KEYPOINTS] = np.asarray(results['keypoints'], np.float32)[0]
        results[CROP_VISIBLE] = np.asarray(results['keypoints_visible'], np.float32)[0]
    return results


def browse_pipeline(pipeline: list) -> list:
    """The dataset's pipeline with its PackPoseInputs replaced by one keeping ``BROWSE_KEYS``."""
    steps = [dict(s) for s in pipeline]
    packs = [i for i, s in enumerate(steps) if s.get('type') == 'PackPoseInputs']
    if not packs:
        raise ConfigError(f'the pipeline has no PackPoseInputs step: {[s.get("type") for s in steps]}')
    i = packs[-1]
    return steps[:i] + [keep_crop_keypoints, dict(type='PackPoseInputs', keys=BROWSE_KEYS)] + \
        steps[i + 1:]


def render_sample(sample: Dict[str, np.ndarray], dataset_meta: dict) -> np.ndarray:
    """(H, 2W + gap, 3) BGR: crop with keypoints | crop with target heatmaps."""
    from sbplugins.visualization import draw_heatmaps, draw_poses, side_by_side
    crop = sample['img']
    left = crop
    if CROP_KEYPOINTS in sample:
        visible = sample.get('keypoint_weights', sample[CROP_VISIBLE])
        person = dict(keypoints=sample[CROP_KEYPOINTS], keypoint_scores=visible)
        left = draw_poses(crop, [person], dataset_meta, kpt_thr=0.5, show_scores=False,
                          draw_bbox=False)
    right = draw_heatmaps(crop, sample['heatmaps']) if 'heatmaps' in sample else crop
    return side_by_side([left, right])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Render augmented training crops and targets.')
    p.add_argument('--config', required=True)
    p.add_argument('--split', choices=['train', 'val', 'test'], default='train')
    p.add_argument('--num', type=int, default=8, help='samples to render (default 8)')
    p.add_argument('--out-dir', default='browse_out')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    add_debug_argument(p)
    args = p.parse_args(argv)
    if args.num < 1:
        p.error(f'--num must be >= 1, got {args.num}')
    return args


def main(argv=None) -> int:
    import cv2
    from sbcore.progress import ProgressBar
    from sbcore.registries import DATASETS
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    key = f'{args.split}_dataloader'
    loader = cfg.get(key)
    if not loader or not loader.get('dataset'):
        raise ConfigError(f'config {args.config}: no {key}.dataset')
    ds_cfg = loader['dataset'].to_dict() if hasattr(loader['dataset'], 'to_dict') \
        else dict(loader['dataset'])
    ds_cfg['pipeline'] = browse_pipeline(ds_cfg.get('pipeline') or [])
    dataset = DATASETS.build(ds_cfg)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    num = min(args.num, len(dataset))
    bar = ProgressBar(num, desc=f'{args.split} samples')
    for idx in range(num):
        picture = render_sample(dataset[idx], dataset.metainfo)
        path = out_dir / f'{idx:04d}.png'
        if not cv2.imwrite(str(path), picture):
            raise OSError(f'could not write {path}')
        bar.update()
    print(f'{num} of {len(dataset)} samples -> {out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
