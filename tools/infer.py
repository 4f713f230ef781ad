"""Run a pose model on an image, a folder of images, a video or a webcam; write keypoint JSON and
pictures; with ``--track``, track the people and write a PoseTrack 2018 JSON and a video.

    python tools/infer.py --config CFG --ckpt CKPT --input photo.jpg --out-dir out/
    python tools/infer.py --config CFG --ckpt CKPT --input val2017/ \
        --bboxes COCO_val2017_detections_AP_H_56_person.json --det-score-thr 0.3
    python tools/infer.py --config CFG --ckpt CKPT --input clip.mp4|frames/|webcam:0 --track

Person boxes come from ``--bboxes`` (a COCO detection JSON), else from ``--detector`` or the
config's ``detector=dict(type=...)``, else the whole image is one person box (with a warning).

Per image: ``<stem>.json`` ({image, width, height, persons: [{bbox, bbox_score, keypoints,
keypoint_scores}]}) and ``<stem>.png`` with the skeletons drawn. Per video without ``--track``:
``<stem>.json`` ({video, fps, width, height, frames: [{frame, persons}]}) and ``<stem>.mp4``
(``.avi`` when no MP4 encoder is available). With ``--track`` (videos, webcams, and folders read
as the frames of one video): ``<stem>.json`` in the PoseTrack 2018 format (``track_id`` per
person) and ``<stem>.mp4`` with each person drawn in its track's colour. Frames that cannot be
decoded are skipped and logged (in the PoseTrack JSON they stay, with no person).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import List

import numpy as np

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)
from sbcore.cli import add_debug_argument, run_tool
from sbcore.config import Config, DictAction
from sbcore.errors import ConfigError, MissingFileError


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Top-down pose inference (and tracking) on images, folders, videos, webcams.',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='Boxes: --bboxes, else --detector or the config\'s "detector", else the whole '
               'image is one person box.')
    p.add_argument('--config', required=True, help='config file')
    p.add_argument('--ckpt', required=True,
                   help='model checkpoint (.ckpt); with --backend onnxruntime/openvino the .onnx '
                        'of tools/export.py --format onnx')
    p.add_argument('--input', required=True,
                   help='an image, a folder of images, a video file, or webcam:N; with --track '
                        'also a folder of videos or of frame folders (one video each)')
    p.add_argument('--bboxes', metavar='DET_JSON',
                   help='person detections in the official COCO detection schema: a JSON list of '
                        '{image_id, bbox [x, y, w, h], score, category_id}. Frames are matched by '
                        'image id through --ann-file, else by the number in a COCO file name '
                        '(000000000785.jpg -> 785); only category_id 1 (person) is used')
    p.add_argument('--ann-file', metavar='ANN_JSON',
                   help='a COCO or PoseTrack 2018 annotation file of the input\'s frames: matches '
                        'frames (by file name, or by order for a video) to its image ids, for '
                        '--bboxes and for the image ids of the PoseTrack output')
    p.add_argument('--det-score-thr', type=float, default=0.3,
                   help='--bboxes: keep detections scoring at least this (default 0.3)')
    p.add_argument('--detector', metavar='NAME',
                   help='a detector plugin (e.g. OpenCVPeopleDetector) with its default '
                        'arguments, instead of the config\'s "detector"')
    p.add_argument('--track', action='store_true',
                   help='track people across frames (video, webcam, or a folder of frames)')
    p.add_argument('--tracker', metavar='NAME',
                   help='a tracker plugin (FlowPoseTracker, OKSTracker, IoUTracker) instead of '
                        'the config\'s "tracker" (default FlowPoseTracker)')
    p.add_argument('--kpt-thr', type=float, default=0.3, help='draw joints scoring at least this')
    p.add_argument('--show-scores', action='store_true',
                   help='write joint and box scores on the pictures (off: crowds stay readable)')
    p.add_argument('--out-dir', default='infer_out', help='output folder (default infer_out)')
    p.add_argument('--device', default='CPU')
    p.add_argument('--backend', default='mindspore',
                   help='inference backend: mindspore (default), onnxruntime, openvino '
                        '(sbplugins.backends; any name registered under sbpose.backends)')
    p.add_argument('--precision', default=None,
                   help="backend precision: fp32; openvino also bf16 (default: the backend's)")
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                   help='override config keys, e.g. model.test_cfg.flip_test=False')
    add_debug_argument(p)
    return p.parse_args(argv)


def persons_to_json(persons: List[dict]) -> List[dict]:
    return [dict(bbox=[round(float(v), 2) for v in p['bbox']],
                 bbox_score=round(float(p['bbox_score']), 5),
                 keypoints=np.round(p['keypoints'].astype(np.float64), 2).tolist(),
                 keypoint_scores=np.round(p['keypoint_scores'].astype(np.float64), 5).tolist())
            for p in persons]


def warn(message: str) -> None:
    print(f'WARNING {message}', file=sys.stderr, flush=True)


def build_detector_from_args(args, bboxes, ann_file):
    """The detector the arguments ask for, or None (the config's, set by ``init_model``)."""
    if bboxes:
        return dict(type='BoxFileDetector', det_file=bboxes, ann_file=ann_file,
                    score_thr=args.det_score_thr)
    if args.detector:
        return dict(type=args.detector)
    return None


def frame_image_ids(ann_file) -> dict:
    """The input's frames -> image ids from --ann-file: by file name and in frame order."""
    if not ann_file:
        return {}
    from sbplugins.detectors.box_file import image_tables
    by_name, in_order = image_tables(ann_file)
    return dict(by_name=by_name, in_order=in_order)


def run_images(model, source, out_dir: Path, kpt_thr: float, show_scores: bool) -> None:
    import cv2
    from sbcore.progress import ProgressBar
    from sbplugins.apis import inference_topdown
    from sbplugins.visualization import draw_poses
    bar = ProgressBar(source.total, desc='images') if source.total > 1 else None
    for frame in source:
        if frame.image is None:
            warn(f'skipped: {frame.error}')
        else:
            img, stem = frame.image, Path(frame.file_name).stem
            persons = inference_topdown(model, img, frame_info=dict(file_name=frame.file_name,
                                                                    frame_index=frame.index))
            record = dict(image=frame.file_name, width=img.shape[1], height=img.shape[0],
                          persons=persons_to_json(persons))
            (out_dir / f'{stem}.json').write_text(json.dumps(record))
            picture = draw_poses(img, persons, model.dataset_meta, kpt_thr=kpt_thr,
                                 show_scores=show_scores)
            if not cv2.imwrite(str(out_dir / f'{stem}.png'), picture):
                raise OSError(f'could not write {out_dir / (stem + ".png")}')
        if bar is not None:
            bar.update()


def run_video(model, source, out_dir: Path, kpt_thr: float, show_scores: bool) -> None:
    from sbcore.progress import ProgressBar
    from sbplugins.apis import inference_topdown
    from sbplugins.video_io import VideoSink
    from sbplugins.visualization import draw_poses
    bar = ProgressBar(source.total, desc='frames', unit='frames')
    frames, size = [], (0, 0)
    with VideoSink(out_dir, source.name, source.fps) as sink:
        for frame in source:
            if frame.image is None:
                warn(f'skipped: {frame.error}')
            else:
                size = (frame.image.shape[1], frame.image.shape[0])
                persons = inference_topdown(model, frame.image,
                                            frame_info=dict(frame_index=frame.index))
                frames.append(dict(frame=frame.index, persons=persons_to_json(persons)))
                sink.write(draw_poses(frame.image, persons, model.dataset_meta, kpt_thr=kpt_thr,
                                      show_scores=show_scores))
            bar.update()
    record = dict(video=Path(source.spec).name, fps=source.fps, width=size[0], height=size[1],
                  frames=frames)
    (out_dir / f'{source.name}.json').write_text(json.dumps(record))
    print(f'{len(frames)} frames -> {sink.path}')


def tracker_config(cfg, name: str = None, cfg_options: dict = None) -> dict:
    """The tracker to build: the config's ``tracker`` (FlowPoseTracker when it has none), or the
    plugin ``name`` (``--tracker``) in its place, with ``--cfg-options tracker.*`` applied to it."""
    if not name:
        tracker = cfg.get('tracker')
        return (tracker.to_dict() if hasattr(tracker, 'to_dict')
                else dict(tracker or dict(type='FlowPoseTracker')))
    chosen = Config(dict(tracker=dict(type=name)))
    chosen.merge_from_dict({k: v for k, v in (cfg_options or {}).items()
                            if k.startswith('tracker.')})
    return chosen.to_dict()['tracker']


def run_tracking(model, tracker, source, out_dir: Path, args, ann_file=None) -> tuple:
    """Track people through ``source``; write ``<name>.json`` (PoseTrack 2018) and the video.
    Returns (frames, seconds spent on them)."""
    from sbcore.progress import ProgressBar
    from sbplugins.apis import inference_topdown
    from sbplugins.tracking.posetrack import person_category, tracked_frame, write_posetrack18
    from sbplugins.video_io import VideoSink
    from sbplugins.visualization import draw_poses
    ids = frame_image_ids(ann_file)
    tracker.reset()
    tracker.set_dataset_meta(model.dataset_meta)
    bar = ProgressBar(source.total, desc='frames', unit='frames')
    frames, skipped, start = [], 0, time.perf_counter()
    with VideoSink(out_dir, source.name, source.fps) as sink:
        for frame in source:
            image_id = ids.get('by_name', {}).get(os.path.basename(frame.file_name))
            if image_id is None and frame.index < len(ids.get('in_order', [])):
                image_id = ids['in_order'][frame.index]
            if image_id is None:
                image_id = frame.index
            info = dict(file_name=frame.file_name, frame_index=frame.index, image_id=image_id
                        if ids else None)
            persons = []
            if frame.image is None:
                skipped += 1
                warn(f'skipped: {frame.error}')
            else:
                if model.detector is not None:
                    boxes, scores = model.detector.detect(frame.image, info)
                else:
                    h, w = frame.image.shape[:2]
                    boxes, scores = np.array([[0, 0, w, h]], np.float32), np.ones(1, np.float32)

                def estimate(image, b, s):
                    return inference_topdown(model, image, b, s)

                persons = tracker.track(frame.image, boxes, scores, estimate)
                sink.write(draw_poses(frame.image, persons, model.dataset_meta,
                                      kpt_thr=args.kpt_thr, show_scores=args.show_scores))
            frames.append(tracked_frame(image_id, frame.file_name, frame_id=image_id,
                                        persons=persons, vid_id=source.name))
            bar.update()
    seconds = time.perf_counter() - start
    out = out_dir / f'{source.name}.json'
    write_posetrack18(str(out), frames, joint_thr=tracker.joint_thr,  # the model's joint names
                      categories=[person_category(model.dataset_meta.get('keypoint_names'))])
    tracks = {p['track_id'] for f in frames for p in f['persons']}
    print(f'{len(frames)} frames ({skipped} skipped), {len(tracks)} tracks, '
          f'{len(frames) / max(seconds, 1e-9):.2f} frames/s -> {out}, {sink.path}')
    return len(frames), seconds


def sequences(args) -> List[tuple]:
    """(source, detector config or None, --ann-file) per video to track. A folder holding
    sub-folders of frames or video files (PoseTrack's ``images/val/``) is one video each; then
    --bboxes and --ann-file may be folders of per-video files named ``<video>.json``."""
    from sbplugins.video_io import IMAGE_EXTS, VIDEO_EXTS, open_source
    root = Path(args.input)
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() or p.suffix.lower() in VIDEO_EXTS) \
        if root.is_dir() and not any(p.suffix.lower() in IMAGE_EXTS for p in root.iterdir()) else []
    if not subdirs:
        return [(open_source(args.input), args.bboxes, args.ann_file)]
    out = []
    for sub in subdirs:
        stem = sub.stem if sub.is_file() else sub.name

        def per_video(option):
            if option and Path(option).is_dir():
                path = Path(option) / f'{stem}.json'
                if not path.is_file():
                    raise MissingFileError(f'{option}: no {stem}.json for the video {sub}')
                return str(path)
            return option
        out.append((open_source(str(sub)), per_video(args.bboxes), per_video(args.ann_file)))
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    from sbplugins.video_io import open_source
    from sbcore.config import Config
    from sbplugins.apis import init_model
    videos = sequences(args) if args.track else [(open_source(args.input), args.bboxes, args.ann_file)]
    source = videos[0][0]
    if args.track and not source.is_sequence:
        raise ConfigError(f'--track needs a video, a webcam or a folder of frames; '
                          f'--input {args.input} is one image')
    cfg = Config.fromfile(args.config)
    model = init_model(cfg, args.ckpt, device=args.device, cfg_options=args.cfg_options,
                       detector=build_detector_from_args(args, videos[0][1], videos[0][2]),
                       backend=args.backend, precision=args.precision)
    if model.detector is None:
        warn('no --bboxes, --detector or config "detector": each frame is one person box')
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.track:
        from sbplugins.detectors import build_detector
        from sbplugins.tracking import build_tracker
        tracker = build_tracker(tracker_config(model.cfg, args.tracker, args.cfg_options))
        num_frames, seconds = 0, 0.0
        for i, (source, bboxes, ann_file) in enumerate(videos):
            if i and bboxes:
                model.detector = build_detector(build_detector_from_args(args, bboxes, ann_file))
            n, s = run_tracking(model, tracker, source, out_dir, args, ann_file)
            num_frames, seconds = num_frames + n, seconds + s
        if len(videos) > 1:
            print(f'{len(videos)} videos, {num_frames} frames, {num_frames / max(seconds, 1e-9):.2f} '
                  f'frames/s (detection, pose, tracking; model loading excluded) -> {out_dir}')
    elif source.kind in ('video', 'webcam'):
        run_video(model, source, out_dir, args.kpt_thr, args.show_scores)
    else:
        run_images(model, source, out_dir, args.kpt_thr, args.show_scores)
        print(f'{source.total} image(s) -> {os.fspath(out_dir)}')
    return 0


if __name__ == '__main__':
    sys.exit(run_tool(main))
