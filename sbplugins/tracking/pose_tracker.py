"""Top-down pose tracking: joint propagation, pose similarity, greedy matching (paper, section 3).

Per frame ``PoseTracker.track(image, boxes, scores, estimate)``:

1. boxes scoring below ``bbox_thr`` (0.5 in the paper) are dropped;
2. *joint propagation* (``propagate=True``): the previous frame's joints are moved by the dense
   optical flow, and the box of each moved pose's confident joints, enlarged by
   ``propagate_enlarge`` (15 %), joins the detector's boxes with the pose's box score times
   ``propagate_decay``; box NMS (``nms_thr``) unifies them, so a person the detector misses for a
   frame keeps a box, and a person who has left loses it once the decayed score is below
   ``bbox_thr``;
3. ``estimate(image, boxes, scores)`` (the pose network) gives a pose per box; joints scoring
   below ``joint_thr`` (0.4 in the paper) are not used, poses with fewer than ``min_keypoints``
   confident joints are dropped;
4. similarity between each pose and each track's most recent pose among the last ``queue_len``
   frames (the paper's L_Q queue, so a person hidden for a few frames keeps the ID):
   ``'flow_oks'`` (OKS with the tracked poses warped along the flow: the flow-based similarity),
   ``'oks'`` (OKS with the unwarped poses) or ``'iou'`` (box IoU);
5. greedy matching, highest similarity first, above ``match_thr``; unmatched poses start new IDs.
"""
from __future__ import annotations

from collections import deque
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from sbcore.errors import ConfigError
from sbplugins.utils.geometry.boxes import bbox_iou_xywh, keypoints_bbox_xywh, nms_boxes

from .flow import DenseFlow, warp_points
from .matching import greedy_match
from .similarity import masked_oks

SIMILARITIES = ('flow_oks', 'oks', 'iou')
# COCO OKS falloffs (sbplugins/datasets/metainfo/coco.py); used when no dataset meta is given.
COCO_SIGMAS = np.array([.026, .025, .025, .035, .035, .079, .079, .072, .072, .062, .062, .107,
                        .107, .087, .087, .089, .089])

COCO_FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]

Estimator = Callable[[np.ndarray, np.ndarray, np.ndarray], List[Dict[str, Any]]]


class PoseTracker:
    """Assigns track IDs to top-down poses, frame by frame (see the module docstring).

    Args:
        similarity: ``'flow_oks'``, ``'oks'`` or ``'iou'``.
        propagate: joint propagation along the flow (adds boxes for missed persons).
        bbox_thr: boxes scoring below this are dropped (paper: 0.5).
        joint_thr: joints scoring below this are not used (paper: 0.4).
        min_keypoints: poses with fewer confident joints are dropped.
        queue_len: L_Q, frames a track can go unmatched and still be matched again.
        match_thr: the similarity a match must exceed.
        nms_thr: box IoU above which detected and propagated boxes are merged.
        propagate_enlarge: growth of the propagated joints' box on each side (paper: 15 %).
        propagate_decay: propagated boxes score the pose's box score times this.
        pose_nms_thr: a pose whose OKS with a kept pose exceeds this is a repeat and is dropped.
        flow: ``DenseFlow`` arguments (``method``, ``preset``, ``downscale``).
        sigmas: (K,) OKS falloffs; None: from ``set_dataset_meta``, else COCO's.
        flip_tolerant: OKS similarities also try the tracked pose with left and right swapped and
            take the larger (a person turning round swaps sides in the image; not in the paper).
        flip_indices: the left/right swap; None: from ``set_dataset_meta``, else COCO's.
    """

    def __init__(self, similarity: str = 'flow_oks', propagate: bool = True, bbox_thr: float = 0.5,
                 joint_thr: float = 0.4, min_keypoints: int = 3, queue_len: int = 5,
                 match_thr: float = 0.2, nms_thr: float = 0.5, propagate_enlarge: float = 0.15,
                 propagate_decay: float = 0.9, pose_nms_thr: float = 0.5,
                 flow: Optional[dict] = None, sigmas: Optional[Sequence[float]] = None,
                 flip_tolerant: bool = False, flip_indices: Optional[Sequence[int]] = None):
        if similarity not in SIMILARITIES:
            raise ConfigError(f'{type(self).__name__}: similarity must be one of {SIMILARITIES}, '
                              f'got {similarity!r}')
        if queue_len < 1:
            raise ConfigError(f'{type(self).__name__}: queue_len must be >= 1, got {queue_len}')
        self.similarity, self.propagate = similarity, bool(propagate)
        self.bbox_thr, self.joint_thr = float(bbox_thr), float(joint_thr)
        self.min_keypoints, self.queue_len = int(min_keypoints), int(queue_len)
        self.match_thr, self.nms_thr = float(match_thr), float(nms_thr)
        self.propagate_enlarge, self.propagate_decay = float(propagate_enlarge), float(propagate_decay)
        self.pose_nms_thr = float(pose_nms_thr)
        self.sigmas = None if sigmas is None else np.asarray(sigmas, np.float64)
        self.flip_tolerant = bool(flip_tolerant)
        self.flip_indices = None if flip_indices is None else [int(i) for i in flip_indices]
        self.flow = DenseFlow(**(flow or {})) if self.uses_flow else None
        self.reset()

    @property
    def uses_flow(self) -> bool:
        return self.propagate or self.similarity == 'flow_oks'

    def reset(self) -> None:
        """Forget every track (a new video)."""
        self.queue: deque = deque(maxlen=self.queue_len)  # per frame: list of tracked persons
        self.prev_gray: Optional[np.ndarray] = None
        self.next_id = 0
        self.frame_index = -1

    def set_dataset_meta(self, dataset_meta: dict) -> None:
        if self.sigmas is None and dataset_meta.get('sigmas') is not None:
            self.sigmas = np.asarray(dataset_meta['sigmas'], np.float64)
        if self.flip_indices is None and dataset_meta.get('flip_indices') is not None:
            self.flip_indices = [int(i) for i in dataset_meta['flip_indices']]

    # --- one frame ----------------------------------------------------------------------------
    def track(self, image: np.ndarray, boxes: np.ndarray, scores: np.ndarray,
              estimate: Estimator) -> List[Dict[str, Any]]:
        """Poses with track IDs for one frame.

        Args:
            image: (H, W, 3) uint8 BGR frame.
            boxes: (N, 4) xywh detector boxes; scores: (N,).
            estimate: ``estimate(image, boxes (M, 4), scores (M,))`` -> one person dict per box
                (``keypoints`` (K, 2), ``keypoint_scores`` (K,), ``bbox``, ``bbox_score``), e.g.
                ``functools.partial(inference_topdown, model)`` wrapped to take boxes and scores.

        Returns:
            One dict per tracked person: the estimate's keys plus ``track_id`` (int) and
            ``propagated`` (True when its box came from joint propagation, not the detector).
        """
        self.frame_index += 1
        gray = DenseFlow.to_gray(image) if self.uses_flow else None
        if self.flow is not None and self.prev_gray is not None and self.queue:
            self._warp_queue(self.flow(self.prev_gray, gray))
        self.prev_gray = gray

        boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
        scores = np.asarray(scores, np.float32).reshape(-1)
        keep = scores >= self.bbox_thr
        boxes, scores = boxes[keep], scores[keep]
        from_detector = np.ones(len(boxes), bool)
        if self.propagate and self.queue:
            prop_boxes, prop_scores = self._propagated_boxes(image.shape)
            if len(prop_boxes):
                boxes = np.concatenate([boxes, prop_boxes])
                scores = np.concatenate([scores, prop_scores])
                from_detector = np.r_[from_detector, np.zeros(len(prop_boxes), bool)]
                kept = nms_boxes(boxes, scores, self.nms_thr)
                boxes, scores, from_detector = boxes[kept], scores[kept], from_detector[kept]
        persons = estimate(image, boxes, scores) if len(boxes) else []
        for person, detected in zip(persons, from_detector):
            person['propagated'] = not bool(detected)
        persons = [p for p in persons
                   if int((np.asarray(p['keypoint_scores']) >= self.joint_thr).sum()) >= self.min_keypoints]
        persons = self._pose_nms(persons)
        self._assign_ids(persons)
        self.queue.append([dict(track_id=p['track_id'], bbox=np.asarray(p['bbox'], np.float32),
                                bbox_score=float(p['bbox_score']),
                                keypoints=np.asarray(p['keypoints'], np.float32),
                                warped=np.asarray(p['keypoints'], np.float32).copy(),
                                valid=np.asarray(p['keypoint_scores']) >= self.joint_thr)
                           for p in persons])
        return persons

    def _warp_queue(self, flow: np.ndarray) -> None:
        """Move the previous frame's poses (persons seen there) to the current frame along the
        flow at their joints. Older poses (persons not seen since: hidden or missed) stay where
        they were last seen: the flow at a hidden person's joints is the occluder's motion, and
        moving them with it carries them away with the occluder."""
        for person in self.queue[-1]:
            person['warped'] = warp_points(person['warped'], flow)

    def _pose_nms(self, persons: List[dict]) -> List[dict]:
        """Drop a pose that repeats a kept one (OKS > ``pose_nms_thr`` over confident joints):
        a detected and a propagated box on the same person give two poses. Detected poses are
        kept first, then by box score."""
        if len(persons) < 2 or self.pose_nms_thr >= 1:
            return persons
        order = sorted(range(len(persons)),
                       key=lambda i: (persons[i]['propagated'], -float(persons[i]['bbox_score'])))
        kpts = np.stack([np.asarray(persons[i]['keypoints'], np.float64) for i in order])
        valid = np.stack([np.asarray(persons[i]['keypoint_scores']) >= self.joint_thr for i in order])
        areas = np.array([float(np.prod(keypoints_bbox_xywh(k, v)[2:])) for k, v in zip(kpts, valid)])
        oks = masked_oks(kpts, valid, kpts, valid, areas, self._sigmas(kpts.shape[1]))
        kept: List[int] = []
        for i in range(len(order)):
            if all(oks[i, j] <= self.pose_nms_thr for j in kept):
                kept.append(i)
        return [persons[order[i]] for i in sorted(kept, key=lambda i: order[i])]

    def _sigmas(self, num_keypoints: int) -> np.ndarray:
        if self.sigmas is None:
            self.sigmas = COCO_SIGMAS
        if len(self.sigmas) != num_keypoints:
            raise ConfigError(f'{type(self).__name__}: {len(self.sigmas)} OKS sigmas but poses of '
                              f'{num_keypoints} joints; set "sigmas" or the dataset meta')
        return self.sigmas

    def _propagated_boxes(self, image_shape) -> tuple:
        """Boxes of the previous frame's poses moved along the flow, enlarged, decayed scores."""
        h, w = image_shape[:2]
        boxes, scores = [], []
        for person in self.queue[-1]:
            box = keypoints_bbox_xywh(person['warped'], person['valid'], self.propagate_enlarge)
            x0, y0 = max(0.0, box[0]), max(0.0, box[1])
            x1, y1 = min(float(w), box[0] + box[2]), min(float(h), box[1] + box[3])
            if x1 - x0 < 2 or y1 - y0 < 2:  # left the image
                continue
            boxes.append([x0, y0, x1 - x0, y1 - y0])
            scores.append(person['bbox_score'] * self.propagate_decay)
        return np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(scores, np.float32)

    def _tracks(self) -> List[dict]:
        """Each track's most recent entry in the queue (newest frame first)."""
        seen, tracks = set(), []
        for frame in reversed(self.queue):
            for person in frame:
                if person['track_id'] not in seen:
                    seen.add(person['track_id'])
                    tracks.append(person)
        return tracks

    def similarity_matrix(self, persons: List[dict], tracks: List[dict]) -> np.ndarray:
        """(N, M) similarity of the current poses to the tracks (``self.similarity``)."""
        if not persons or not tracks:
            return np.zeros((len(persons), len(tracks)))
        if self.similarity == 'iou':
            return bbox_iou_xywh(np.stack([p['bbox'] for p in persons]),
                                 np.stack([t['bbox'] for t in tracks]))
        kpts = np.stack([np.asarray(p['keypoints'], np.float64) for p in persons])
        valid = np.stack([np.asarray(p['keypoint_scores']) >= self.joint_thr for p in persons])
        key = 'warped' if self.similarity == 'flow_oks' else 'keypoints'
        t_kpts = np.stack([t[key] for t in tracks])
        t_valid = np.stack([t['valid'] for t in tracks])
        areas = np.array([float(np.prod(keypoints_bbox_xywh(t[key], t['valid'])[2:])) for t in tracks])
        sigmas = self._sigmas(kpts.shape[1])
        sim = masked_oks(kpts, valid, t_kpts, t_valid, areas, sigmas)
        if self.flip_tolerant:
            flip = self.flip_indices if self.flip_indices is not None else COCO_FLIP_INDICES
            sim = np.maximum(sim, masked_oks(kpts, valid, t_kpts[:, flip], t_valid[:, flip], areas, sigmas))
        return sim

    def _assign_ids(self, persons: List[dict]) -> None:
        tracks = self._tracks()
        sim = self.similarity_matrix(persons, tracks)
        for r, c in greedy_match(sim, self.match_thr):
            persons[r]['track_id'] = int(tracks[c]['track_id'])
        for person in persons:
            if 'track_id' not in person:
                person['track_id'] = self.next_id
                self.next_id += 1


class FlowPoseTracker(PoseTracker):
    """The paper's tracker: joint propagation + flow-based pose similarity + greedy matching."""

    def __init__(self, **kwargs):
        kwargs.setdefault('similarity', 'flow_oks')
        kwargs.setdefault('propagate', True)
        super().__init__(**kwargs)


class OKSTracker(PoseTracker):
    """Ablation: OKS between unwarped poses of consecutive frames, no joint propagation."""

    def __init__(self, **kwargs):
        kwargs.setdefault('similarity', 'oks')
        kwargs.setdefault('propagate', False)
        super().__init__(**kwargs)


class IoUTracker(PoseTracker):
    """Ablation: box IoU between consecutive frames, no joint propagation."""

    def __init__(self, **kwargs):
        kwargs.setdefault('similarity', 'iou')
        kwargs.setdefault('propagate', False)
        super().__init__(**kwargs)


def build_tracker(cfg: Any) -> PoseTracker:
    """A tracker from ``dict(type=..., ...)`` (the config's ``tracker``) or a tracker itself."""
    from sbplugins.registries import TRACKERS
    if hasattr(cfg, 'track'):
        return cfg
    cfg = dict(cfg)
    if 'type' not in cfg:
        raise ConfigError(f'tracker config needs a "type" (one of {TRACKERS.names()}), got {cfg}')
    return TRACKERS.build(cfg)
