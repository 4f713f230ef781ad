"""Run a pose model on an image, a folder of images or a video; write keypoint JSON and pictures.

    python tools/infer.py --config CFG --ckpt CKPT --input photo.jpg --out-dir out/
    python tools/infer.py --config CFG --ckpt CKPT --input val2017/ \
        --bboxes COCO_val2017_detections_AP_H_56_person.json --det-score-thr 0.3
    python tools/infer.py --config CFG --ckpt CKPT --input clip.mp4

Per image: ``<stem>.json`` ({image, width, height, persons: [{bbox, bbox_score, keypoints,
keypoint_scores}]}) and ``<stem>.png`` with the skeletons drawn. Per video: ``<stem>.json``
({video, fps, width, height, frames: [{frame, persons}]}) and ``<stem>.mp4`` (``.avi`` when no
MP4 encoder is available).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.config import DictAction

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm')


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Top-down pose inference on images, folders or videos.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Without --bboxes each image (or video frame) is one person box.')
    p.add_argument('--config', required=True, help='config file')
    p.add_argument('--ckpt', required=True,
                   help='model checkpoint (.ckpt); with --backend onnxruntime/openvino the .onnx '
                        'of tools/export.py --format onnx')
    p.add_argument('--input', required=True, help='an image, a folder of images, or a video')
    p.add_argument('--bboxes', metavar='DET_JSON',
                   help='person detections in the official COCO detection schema: a JSON list of '
                        '{image_id, bbox [x, y, w, h], score, category_id}. Images are matched by '
                        'COCO file name: image_id is the number in the file name '
                        '(000000000785.jpg -> 785); only category_id 1 (person) is used. Images '
                        'only (not videos)')
    p.add_argument('--det-score-thr', type=float, default=0.3,
                   help='keep detections scoring at least this (default 0.3)')
    p.add_argument('--kpt-thr', type=float, default=0.3, help='draw joints scoring at least this')
    p.add_argument('--out-dir', default='infer_out', help='output folder (default infer_out)')
    p.add_argument('--device', default='CPU')
    p.add_argument('--backend', default='mindspore',
                   help='inference backend: mindspore (default), onnxruntime, openvino '
                        '(sbplugins.backends; any name registered under sbpose.backends)')
    p.add_argument('--precision', default=None,
                   help="backend precision: fp32; openvino also bf16 (default: the backend's)")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='override config keys, e.g. model.test_cfg.flip_test=False')
    return p.parse_args(argv)


def load_detections(path: str, score_thr: float) -> Dict[int, np.ndarray]:
    """image_id -> (N, 5) [x, y, w, h, score] person detections scoring >= ``score_thr``."""
    with open(path) as f:
        try:
            dets = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'--bboxes {path}: not valid JSON: {err}') from err
    if not isinstance(dets, list):
        raise ValueError(f'--bboxes {path}: expected a JSON list of {{image_id, bbox, score, '
                         f'category_id}} (COCO detection results), got {type(dets).__name__}')
    by_image: Dict[int, List[List[float]]] = {}
    for i, det in enumerate(dets):
        missing = [k for k in ('image_id', 'bbox', 'score', 'category_id') if k not in det]
        if missing:
            raise KeyError(f'--bboxes {path}: entry {i} lacks {missing} (has {sorted(det)})')
        if det['category_id'] == 1 and det['score'] >= score_thr:
            by_image.setdefault(int(det['image_id']), []).append([*det['bbox'], det['score']])
    return {k: np.asarray(v, np.float32).reshape(-1, 5) for k, v in by_image.items()}


def coco_image_id(path: Path) -> int:
    """COCO file names are the zero-padded image id (``000000000785.jpg`` -> 785)."""
    try:
        return int(path.stem.split('_')[-1])
    except ValueError:
        raise ValueError(f'--bboxes needs COCO-named images (the file name is the numeric '
                         f'image id), got {path.name}') from None


def persons_to_json(persons: List[dict]) -> List[dict]:
    return [dict(bbox=[round(float(v), 2) for v in p['bbox']],
                 bbox_score=round(float(p['bbox_score']), 5),
                 keypoints=np.round(p['keypoints'].astype(np.float64), 2).tolist(),
                 keypoint_scores=np.round(p['keypoint_scores'].astype(np.float64), 5).tolist())
            for p in persons]


def run_images(model, paths: List[Path], out_dir: Path, detections: Optional[dict],
               kpt_thr: float) -> None:
    import cv2
    from sbcore.progress import ProgressBar
    from sbplugins.apis import inference_topdown
    from sbplugins.transforms.loading import LoadImage
    from sbplugins.visualization import draw_poses
    bar = ProgressBar(len(paths), desc='images') if len(paths) > 1 else None
    for path in paths:
        img = LoadImage()(dict(img_path=str(path)))['img']
        if detections is None:
            persons = inference_topdown(model, img)
        else:
            dets = detections.get(coco_image_id(path), np.zeros((0, 5), np.float32))
            persons = inference_topdown(model, img, dets[:, :4], dets[:, 4])
        record = dict(image=path.name, width=img.shape[1], height=img.shape[0],
                      persons=persons_to_json(persons))
        (out_dir / f'{path.stem}.json').write_text(json.dumps(record))
        picture = draw_poses(img, persons, model.dataset_meta, kpt_thr=kpt_thr)
        if not cv2.imwrite(str(out_dir / f'{path.stem}.png'), picture):
            raise OSError(f'could not write {out_dir / (path.stem + ".png")}')
        if bar is not None:
            bar.update()


def open_video_writer(out_dir: Path, stem: str, fps: float, size) -> tuple:
    """An MP4 writer (mp4v), or MJPG AVI when this OpenCV build has no MP4 encoder."""
    import cv2
    for suffix, fourcc in (('.mp4', 'mp4v'), ('.avi', 'MJPG')):
        path = out_dir / f'{stem}{suffix}'
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if writer.isOpened():
            return writer, path
        writer.release()
    raise OSError(f'OpenCV could not open a video writer (mp4v or MJPG) in {out_dir}')


def run_video(model, path: Path, out_dir: Path, kpt_thr: float) -> None:
    import cv2
    from sbcore.progress import ProgressBar
    from sbplugins.apis import inference_topdown
    from sbplugins.visualization import draw_poses
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise OSError(f'OpenCV could not open the video {path}')
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    writer, video_out = open_video_writer(out_dir, path.stem, fps, (width, height))
    bar = ProgressBar(total, desc='frames') if total > 0 else None
    frames = []
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            persons = inference_topdown(model, frame)
            frames.append(dict(frame=len(frames), persons=persons_to_json(persons)))
            writer.write(draw_poses(frame, persons, model.dataset_meta, kpt_thr=kpt_thr))
            if bar is not None:
                bar.update()
    finally:
        capture.release()
        writer.release()
    record = dict(video=path.name, fps=fps, width=width, height=height, frames=frames)
    (out_dir / f'{path.stem}.json').write_text(json.dumps(record))
    print(f'{len(frames)} frames -> {video_out}')


def main(argv=None) -> int:
    args = parse_args(argv)
    source = Path(args.input)
    if source.is_dir():
        paths = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_EXTS)
        if not paths:
            raise FileNotFoundError(f'--input {source}: no images ({", ".join(IMAGE_EXTS)})')
    elif source.is_file():
        paths = [source]
    else:
        raise FileNotFoundError(f'--input {source} not found')
    is_video = source.is_file() and source.suffix.lower() in VIDEO_EXTS
    if is_video and args.bboxes:
        raise ValueError('--bboxes matches COCO image ids; it cannot be used with a video')
    detections = load_detections(args.bboxes, args.det_score_thr) if args.bboxes else None

    from sbplugins.apis import init_model
    model = init_model(args.config, args.ckpt, device=args.device, cfg_options=args.cfg_options,
                       backend=args.backend, precision=args.precision)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if is_video:
        run_video(model, source, out_dir, args.kpt_thr)
    else:
        run_images(model, paths, out_dir, detections, args.kpt_thr)
        print(f'{len(paths)} image(s) -> {os.fspath(out_dir)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
