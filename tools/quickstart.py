"""The main job: train SimpleBaseline on the built-in synthetic data and evaluate it.

    python tools/quickstart.py [--config CFG] [--work-dir DIR] [--cfg-options k=v ...]

Generates the synthetic COCO-format person dataset if missing, trains the recipe, evaluates on
the validation split with detection boxes and flip test (COCO metric through pycocotools), prints
the AP table, and draws predictions on a few validation images and the training curves to PNGs.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.cli import add_debug_argument, run_tool
from sbcore.config import Config, DictAction

DEFAULT_CONFIG = 'configs/simple_baseline/synthetic/res18_128x96.py'


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default=DEFAULT_CONFIG)
    p.add_argument('--work-dir', default='work_dirs/quickstart')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    p.add_argument('--num-pictures', type=int, default=4, help='validation images to draw')
    add_debug_argument(p)
    return p.parse_args(argv)


def draw_predictions(runner, out: Path, num_images: int) -> None:
    """Predictions of the trained model on the first validation images, detection boxes above
    0.5, side by side in one PNG."""
    import cv2
    import numpy as np
    from sbplugins.apis import inference_topdown
    from sbplugins.visualization import draw_poses, side_by_side

    dataset = runner.val_dataloader.dataset
    model = runner.model
    model.cfg = runner.cfg
    model.set_train(False)
    by_image = {}
    for info in dataset.data_list:
        by_image.setdefault(info['img_path'], []).append(info)
    tiles = []
    for img_path, infos in list(by_image.items())[:num_images]:
        boxes = np.array([i['bbox'][0] for i in infos if float(i['bbox_score'][0]) >= 0.5])
        scores = np.array([float(i['bbox_score'][0]) for i in infos if float(i['bbox_score'][0]) >= 0.5])
        image = cv2.imread(img_path)
        people = inference_topdown(model, image, boxes if len(boxes) else None,
                                   scores if len(boxes) else None)
        tiles.append(draw_poses(image, people, dataset.metainfo))
    cv2.imwrite(str(out), side_by_side(tiles))


def describe_recipe(cfg: Config, config: str) -> str:
    """What the main job trains and why this size (the recipe's docstring has the measurements)."""
    backbone, head = cfg.model.backbone, cfg.model.head
    width, height = cfg.model.codec.input_size
    loader = cfg.train_dataloader
    schedulers = ', '.join(s['type'] for s in cfg.param_scheduler)
    return (f'main job: {Path(config).name}: ResNet-{backbone.depth} of base width '
            f'{backbone.get("base_channels", 64)}, deconvolution filters '
            f'{tuple(head.num_deconv_filters)}, input {height}x{width} (HxW), '
            f'{cfg.train_cfg.max_epochs} epochs of batch {loader.batch_size}, '
            f'{cfg.optim_wrapper.optimizer.type} lr {cfg.optim_wrapper.optimizer.lr:g} '
            f'({schedulers}); sized to train and evaluate within 10 minutes on both 2-core CPUs '
            f'of the project machine kind (measured times and AP in the config docstring and '
            f'docs/benchmarks.md)')


def main(argv=None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir
    print(describe_recipe(cfg, args.config), flush=True)
    from sbcore.evaluator import format_metrics
    from log_plot import plot_curve  # tools/log_plot.py, beside this script
    from sbcore.runner import Runner

    runner = Runner(cfg)
    runner.train()  # validates after the last epoch: detection boxes, flip test, COCO metric
    work_dir = Path(runner.work_dir)
    metrics = json.loads((work_dir / 'metrics.json').read_text())
    draw_predictions(runner, work_dir / 'predictions.png', args.num_pictures)
    plot_curve([str(work_dir / 'log.json')], ['loss', 'lr', 'coco/AP'], str(work_dir / 'curves.png'),
               title=Path(args.config).stem)
    elapsed = time.perf_counter() - start
    print(f'\nCOCO keypoint metrics on the synthetic validation split ({Path(args.config).name}):')
    print(format_metrics(metrics))
    print(f'wall time {elapsed / 60:.1f} min; work dir {work_dir}: metrics.json, '
          f'keypoints_results.json, predictions.png, curves.png, log.json, checkpoints')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
