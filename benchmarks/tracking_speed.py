"""The trackers' own cost per frame, side by side in one run, on the synthetic clips.

    python benchmarks/tracking_speed.py [--root data/synthetic_video] [--repeat 3]

Each tracker runs over every clip with the clips' jittered boxes; the pose network is replaced by
the ground-truth poses of the boxed persons (looked up, not timed), so the time is the tracker's:
optical flow, joint propagation, pose NMS, similarity and greedy matching. Also times
``OpenCVPeopleDetector`` per frame. Prints milliseconds per frame (median over repeats).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from sbplugins.datasets.synthetic_video import ensure_clips  # noqa: E402
from sbplugins.detectors import build_detector  # noqa: E402
from sbplugins.detectors.box_file import BoxFileDetector  # noqa: E402
from sbplugins.tracking import build_tracker  # noqa: E402
from sbplugins.tracking.posetrack import read_posetrack18  # noqa: E402
from sbplugins.utils.geometry.boxes import bbox_iou_xywh  # noqa: E402


def load_clips(root: str):
    clips = []
    for paths in ensure_clips(root).values():
        gt = read_posetrack18(paths['ann'])
        det = BoxFileDetector(paths['det'])
        frames = []
        for im in gt['images']:
            image = cv2.imread(os.path.join(root, im['file_name']))
            boxes, scores = det.detect(image, dict(image_id=im['id']))
            frames.append((image, boxes, scores, gt['persons'][im['id']]))
        clips.append(frames)
    return clips


def truth_poses(people, boxes, scores):
    gt_boxes = np.array([p['bbox'] for p in people], np.float64).reshape(-1, 4)
    iou = bbox_iou_xywh(boxes, gt_boxes)
    out = []
    for i, box in enumerate(boxes):
        k = people[int(iou[i].argmax())]['keypoints'] if iou.shape[1] else np.zeros((17, 3))
        out.append(dict(keypoints=k[:, :2].astype(np.float32),
                        keypoint_scores=np.where(k[:, 2] > 0, 0.9, 0.1).astype(np.float32),
                        bbox=box, bbox_score=float(scores[i])))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--root', default='data/synthetic_video')
    p.add_argument('--repeat', type=int, default=3)
    args = p.parse_args(argv)
    clips = load_clips(args.root)
    num_frames = sum(len(c) for c in clips)
    print(f'{len(clips)} clips, {num_frames} frames, {clips[0][0][0].shape[1]}x{clips[0][0][0].shape[0]}')
    for name in ('IoUTracker', 'OKSTracker', 'FlowPoseTracker'):
        times = []
        for _ in range(args.repeat):
            tracker = build_tracker(dict(type=name))
            spent = 0.0
            for frames in clips:
                tracker.reset()
                for image, boxes, scores, people in frames:
                    lookup = [0.0]

                    def estimate(img, b, s, people=people, lookup=lookup):
                        t0 = time.perf_counter()
                        out = truth_poses(people, b, s)
                        lookup[0] += time.perf_counter() - t0
                        return out
                    t0 = time.perf_counter()
                    tracker.track(image, boxes, scores, estimate)
                    spent += time.perf_counter() - t0 - lookup[0]
            times.append(spent / num_frames * 1000)
        print(f'{name:16s} {np.median(times):7.2f} ms/frame  ({1000 / np.median(times):.0f} frames/s)')
    hog = build_detector(dict(type='OpenCVPeopleDetector', win_stride=(4, 4)))
    images = [f[0] for c in clips for f in c][::4]
    t0 = time.perf_counter()
    for image in images:
        hog.detect(image)
    print(f'{"HOG detector":16s} {(time.perf_counter() - t0) / len(images) * 1000:7.2f} ms/frame')
    return 0


if __name__ == '__main__':
    sys.exit(main())
