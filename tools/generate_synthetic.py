"""Generate the synthetic COCO-format person keypoint dataset, or preview it as a contact sheet.

    python tools/generate_synthetic.py --out data/synthetic [--num-train 1500] [--num-val 200] [--seed 0]
    python tools/generate_synthetic.py --out data/synthetic --preview sheet.png [--split val]
    python tools/generate_synthetic.py --clips --out data/synthetic_video [--num-frames 40] [--seed 0]
        [--ignore-occluders]

``--clips`` renders the tracking clips instead (``sbplugins.datasets.synthetic_video``: walking,
turning, crossing, occluding, entering, leaving, crowd; PoseTrack 2018 annotations with track IDs,
jittered detection boxes, frames and an MP4 per clip). ``--ignore-occluders`` also writes the
clips' occluders (the ``occluding`` clip's pillar) as PoseTrack 2018 ignore regions.

``--preview`` draws the labelled joints of the first images of a split (generating the dataset first
if needed): left joints green, right joints orange, centre blue (the colours of the COCO dataset
info); hidden joints (v = 1) as hollow circles.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from sbplugins.datasets.synthetic_people import COCO_SKELETON, ensure_dataset  # noqa: E402
from sbcore.cli import add_debug_argument, run_tool  # noqa: E402

# BGR; the COCO dataset info's RGB left green, right orange, centre blue
_LEFT, _RIGHT, _CENTRE = (0, 255, 0), (0, 128, 255), (255, 153, 51)
_JOINT_COLOURS = [_CENTRE] + [_LEFT, _RIGHT] * 8


def contact_sheet(ann_file: str, img_dir: str, num: int = 12, cols: int = 4) -> np.ndarray:
    """The first ``num`` images of an annotation file with their joints and boxes drawn, in a grid.

    Returns:
        (rows * h, cols * w, 3) uint8 BGR.
    """
    with open(ann_file) as f:
        coco = json.load(f)
    by_image = {}
    for ann in coco['annotations']:
        by_image.setdefault(ann['image_id'], []).append(ann)
    tiles = []
    for img in coco['images'][:num]:
        tile = cv2.imread(os.path.join(img_dir, img['file_name']))
        for ann in by_image.get(img['id'], []):
            k = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
            x, y, w, h = (int(round(v)) for v in ann['bbox'])
            cv2.rectangle(tile, (x, y), (x + w, y + h), (255, 255, 255), 1)
            for a, b in COCO_SKELETON:
                if k[a - 1, 2] > 0 and k[b - 1, 2] > 0:
                    cv2.line(tile, tuple(int(v) for v in k[a - 1, :2]), tuple(int(v) for v in k[b - 1, :2]),
                             _JOINT_COLOURS[b - 1], 1, cv2.LINE_AA)
            for j, (jx, jy, v) in enumerate(k):
                if v > 0:
                    cv2.circle(tile, (int(round(jx)), int(round(jy))), 3, _JOINT_COLOURS[j],
                               -1 if v == 2 else 1, cv2.LINE_AA)
        tiles.append(tile)
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i:i + cols], axis=1) for i in range(0, len(tiles), cols)]
    return np.concatenate(rows, axis=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', required=True,
                        help='dataset folder (regenerated only if its meta.json differs)')
    parser.add_argument('--num-train', type=int, default=1500, help='training images')
    parser.add_argument('--num-val', type=int, default=200, help='validation images')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--width', type=int, default=320, help='image width in pixels')
    parser.add_argument('--height', type=int, default=256, help='image height in pixels')
    parser.add_argument('--max-people', type=int, default=2, help='people per image at most')
    parser.add_argument('--difficulty', type=float, default=1.0,
                        help='0..1: rate of back-facing, occluded, truncated, tilted figures and clutter')
    parser.add_argument('--clips', action='store_true',
                        help='render the tracking video clips (PoseTrack 2018 format) instead')
    parser.add_argument('--num-frames', type=int, default=40, help='--clips: frames per clip')
    parser.add_argument('--ignore-occluders', action='store_true',
                        help='--clips: write the occluders as ignore regions (ignore_regions_x/y)')
    parser.add_argument('--preview', help='also write a PNG contact sheet of labelled images here')
    parser.add_argument('--split', default='val', choices=('train', 'val'), help='split to preview')
    parser.add_argument('--num-preview', type=int, default=12, help='images on the contact sheet')
    add_debug_argument(parser)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.clips:
        from sbplugins.datasets.synthetic_video import ensure_clips
        clips = ensure_clips(args.out, num_frames=args.num_frames, seed=args.seed,
                             image_size=(args.width, args.height),
                             ignore_occluders=args.ignore_occluders)
        for seq, clip in clips.items():
            print(f'{seq}: {clip["images"]}, {clip["video"]}, {clip["ann"]}, {clip["det"]}')
        print(f'{len(clips)} clips ready in {time.perf_counter() - start:.1f} s (seed {args.seed})')
        return 0
    paths = ensure_dataset(args.out, num_train_images=args.num_train, num_val_images=args.num_val,
                           image_size=(args.width, args.height), max_people_per_image=args.max_people,
                           seed=args.seed, difficulty=args.difficulty)
    seconds = time.perf_counter() - start
    for split in ('train', 'val'):
        with open(paths[f'{split}_ann']) as f:
            coco = json.load(f)
        print(f'{split}: {len(coco["images"])} images in {paths[f"{split}_images"]}, '
              f'{len(coco["annotations"])} people in {paths[f"{split}_ann"]}')
    with open(paths['val_det']) as f:
        print(f'val detections: {len(json.load(f))} boxes in {paths["val_det"]}')
    print(f'dataset ready in {seconds:.1f} s (seed {args.seed})')
    if args.preview:
        sheet = contact_sheet(paths[f'{args.split}_ann'], paths[f'{args.split}_images'], args.num_preview)
        if not cv2.imwrite(args.preview, sheet):
            raise OSError(f'could not write the preview PNG {args.preview!r}')
        print(f'preview of {args.split}: {args.preview}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
