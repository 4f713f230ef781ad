"""The official top-down pipelines, written once: the recipes in configs/ build theirs here.

A config file cannot read its bases' values, and a list is replaced whole when configs merge
(``core/config_loader.py``), so a recipe that changes only the input size or the codec would
restate every step. A recipe calls these with what differs instead: the codec (its ``input_size``
(w, h) is the crop, and w / h the box aspect ratio), the augmentation ranges, UDP. What they
return is the plain list of step dicts a config would spell out; the merged config that every
run dumps into its work directory shows it.
"""
from __future__ import annotations

from typing import Any, Dict, List


def _affine(codec: Dict[str, Any], use_udp: bool) -> Dict[str, Any]:
    """``TopdownAffine`` at the codec's input size; ``use_udp`` named only when set."""
    step = dict(type='TopdownAffine', input_size=tuple(codec['input_size']))
    if use_udp:
        step['use_udp'] = True
    return step


def _box(codec: Dict[str, Any]) -> Dict[str, Any]:
    """``GetBBoxCenterScale`` at the crop's aspect ratio w / h."""
    w, h = codec['input_size']
    return dict(type='GetBBoxCenterScale', aspect_ratio=w / h)


def topdown_train_pipeline(codec: Dict[str, Any], scale_factor: float = 0.3,
                           rotate_factor: float = 40.0, use_udp: bool = False) -> List[dict]:
    """The official training pipeline for ``codec`` (a codec config dict).

    Steps: load; box -> center/scale at the crop's aspect ratio; random scale (``scale_factor``)
    and rotation (``rotate_factor`` degrees, probability 0.6), then flip (probability 0.5), in the
    official draw order; the affine crop to ``codec['input_size']`` (UDP's with ``use_udp``); the
    target from ``codec``; pack. The defaults are the official COCO ranges (MPII's: 0.25, 30).
    """
    return [
        dict(type='LoadImage'),
        _box(codec),
        dict(type='RandomBBoxTransform', scale_factor=scale_factor, rotate_factor=rotate_factor,
             rotate_prob=0.6),
        dict(type='RandomFlip', prob=0.5),
        _affine(codec, use_udp),
        dict(type='GenerateTarget', encoder=codec),
        dict(type='PackPoseInputs'),
    ]


def topdown_val_pipeline(codec: Dict[str, Any], use_udp: bool = False) -> List[dict]:
    """The evaluation pipeline matching :func:`topdown_train_pipeline`: load; box -> center/scale;
    the affine crop to ``codec['input_size']``; pack (no target: evaluation decodes)."""
    return [dict(type='LoadImage'), _box(codec), _affine(codec, use_udp),
            dict(type='PackPoseInputs')]
