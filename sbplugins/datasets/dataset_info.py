"""Dataset-info files -> the dataset meta of datasets/models/metrics.

The shipped files are package data in ``sbplugins/datasets/metainfo/`` and are named by dataset
(``from_file='coco'``), so a wheel install works from any folder; a user's own file is named by path.

A dataset-info file is a Python module defining ``dataset_info = dict(dataset_name, keypoint_info,
skeleton_info, joint_weights, sigmas)`` where ``keypoint_info`` maps index -> dict(name, id, color,
type ('upper'/'lower'/''), swap (name of the mirrored joint or '')) and ``skeleton_info`` maps
index -> dict(link=(name_a, name_b), id, color).

Optional keys: ``evaluation`` (the dataset's own protocol, used by ``CocoMetric(metainfo=...)``:
``iou_type`` 'keypoints' or 'keypoints_crowd', ``use_area``, ``max_dets``) and
``annotation_rules`` (how ``check_coco_keypoint_file`` fills gaps: ``area='bbox'``,
``keypoints_field``).

The shipped files write their tables with ``keypoint_table`` and ``skeleton_table`` (one row per
joint or link, in the colour convention ``CENTRE``/``LEFT``/``RIGHT``), and a file that reuses
another's layout reads it with ``read_dataset_info('coco')``.
"""
from __future__ import annotations

import os
import runpy
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from sbplugins.utils.geometry.flip import flip_indices_from_pairs
from sbcore.errors import ConfigError, DataError, MissingFileError

_REQUIRED_KEYS = ('dataset_name', 'keypoint_info', 'skeleton_info', 'joint_weights', 'sigmas')
_REQUIRED_JOINT_KEYS = ('name', 'id', 'color', 'type', 'swap')
_EVALUATION_KEYS = ('iou_type', 'use_area', 'max_dets')

# The colour convention of the shipped files (RGB): centre blue, left limbs green, right orange.
CENTRE, LEFT, RIGHT = (51, 153, 255), (0, 255, 0), (255, 128, 0)


def keypoint_table(*joints: Sequence[Any]) -> Dict[int, dict]:
    """``keypoint_info`` from one row per joint, ``(id, name, color, type)`` or
    ``(id, name, color, type, swap)`` (swap: the mirrored joint's name; none -> ``''``).
    Each row gets its own colour list, so no two tables share a mutable value."""
    return {idx: dict(name=name, id=idx, color=list(color), type=part, swap=swap[0] if swap else '')
            for idx, name, color, part, *swap in joints}


def skeleton_table(*links: Tuple[str, str, Sequence[int]], first_id: int = 0) -> Dict[int, dict]:
    """``skeleton_info`` from one row per link, ``(name_a, name_b, color)``, numbered in order
    from ``first_id`` (a table extending another's starts after its last link)."""
    return {i: dict(link=(a, b), id=i, color=list(color))
            for i, (a, b, color) in enumerate(links, start=first_id)}


def parse_dataset_info(info: dict, source: str = '<dict>') -> dict:
    """Turn a raw ``dataset_info`` dict into the flat dataset meta.

    Args:
        info: the ``dataset_info`` dict of a dataset-info file.
        source: where it came from, used in error messages.

    Returns:
        dict with ``dataset_name``, ``num_keypoints`` K, ``keypoint_names`` (K,) list,
        ``keypoint_id2name`` / ``keypoint_name2id``, ``flip_pairs`` list of (i, j) with i < j,
        ``flip_indices`` (K,) list, ``upper_body_ids`` / ``lower_body_ids`` lists,
        ``skeleton_links`` list of (i, j), ``skeleton_link_colors`` (L, 3) uint8,
        ``keypoint_colors`` (K, 3) uint8, ``joint_weights`` (K,) float32, ``sigmas`` (K,) float32,
        ``evaluation`` dict and ``annotation_rules`` dict (empty when the file has none).
    """
    if not isinstance(info, dict):
        raise ConfigError(f'{source}: dataset_info must be a dict, got {type(info).__name__}')
    for key in _REQUIRED_KEYS:
        if key not in info:
            raise DataError(
                f'{source}: dataset_info has no key {key!r} (required: {_REQUIRED_KEYS})')

    kp_info = info['keypoint_info']
    num_keypoints = len(kp_info)
    if sorted(kp_info) != list(range(num_keypoints)):
        raise DataError(
            f'{source}: keypoint_info keys must be 0..{num_keypoints - 1}, got {sorted(kp_info)}')
    names: List[str] = []
    for idx in range(num_keypoints):
        joint = kp_info[idx]
        for key in _REQUIRED_JOINT_KEYS:
            if key not in joint:
                raise DataError(f'{source}: keypoint_info[{idx}] has no key {key!r} '
                                f'(required: {_REQUIRED_JOINT_KEYS})')
        if joint['id'] != idx:
            raise DataError(f'{source}: keypoint_info[{idx}] has id {joint["id"]}, expected {idx}')
        names.append(joint['name'])
    name2id = {name: i for i, name in enumerate(names)}
    if len(name2id) != num_keypoints:
        raise DataError(f'{source}: keypoint names are not unique: {names}')

    flip_pairs: List[Tuple[int, int]] = []
    for idx, name in enumerate(names):
        swap = kp_info[idx]['swap']
        if not swap:
            continue
        if swap not in name2id:
            raise DataError(
                f'{source}: keypoint_info[{idx}] ({name}) swaps with unknown joint {swap!r}')
        other = name2id[swap]
        if kp_info[other]['swap'] != name:
            raise DataError(f'{source}: swap of {name!r} is {swap!r} but swap of {swap!r} is '
                            f'{kp_info[other]["swap"]!r} (must be mutual)')
        if idx < other:
            flip_pairs.append((idx, other))

    skeleton_links: List[Tuple[int, int]] = []
    link_colors = []
    for sk_idx in sorted(info['skeleton_info']):
        link = info['skeleton_info'][sk_idx]
        a, b = link['link']
        for end in (a, b):
            if end not in name2id:
                raise DataError(f'{source}: skeleton_info[{sk_idx}] links unknown joint {end!r}')
        skeleton_links.append((name2id[a], name2id[b]))
        link_colors.append(link.get('color', [255, 255, 255]))

    joint_weights = np.asarray(info['joint_weights'], dtype=np.float32)
    sigmas = np.asarray(info['sigmas'], dtype=np.float32)
    for key, arr in (('joint_weights', joint_weights), ('sigmas', sigmas)):
        if arr.shape != (num_keypoints, ):
            raise DataError(f'{source}: {key} has shape {arr.shape}, expected ({num_keypoints},) '
                            f'(one per keypoint)')

    evaluation = dict(info.get('evaluation') or {})
    unknown = sorted(set(evaluation) - set(_EVALUATION_KEYS))
    if unknown:
        raise KeyError(f'{source}: evaluation has unknown key(s) {unknown} '
                       f'(known: {_EVALUATION_KEYS})')

    return dict(
        evaluation=evaluation,
        annotation_rules=dict(info.get('annotation_rules') or {}),
        dataset_name=info['dataset_name'],
        num_keypoints=num_keypoints,
        keypoint_names=names,
        keypoint_id2name=dict(enumerate(names)),
        keypoint_name2id=name2id,
        flip_pairs=flip_pairs,
        flip_indices=list(flip_indices_from_pairs(num_keypoints, flip_pairs)),
        upper_body_ids=[i for i in range(num_keypoints) if kp_info[i]['type'] == 'upper'],
        lower_body_ids=[i for i in range(num_keypoints) if kp_info[i]['type'] == 'lower'],
        skeleton_links=skeleton_links,
        skeleton_link_colors=np.asarray(link_colors, dtype=np.uint8).reshape(-1, 3),
        keypoint_colors=np.asarray([kp_info[i]['color'] for i in range(num_keypoints)],
                                   dtype=np.uint8).reshape(-1, 3),
        joint_weights=joint_weights,
        sigmas=sigmas,
    )


METAINFO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'metainfo')


def shipped_dataset_names() -> List[str]:
    """Names of the dataset-info files shipped as package data (``'coco'``, ``'mpii'``, ...)."""
    return sorted(f[:-3] for f in os.listdir(METAINFO_DIR) if f.endswith('.py') and f[0] != '_')


def resolve_info_path(name_or_path: str) -> str:
    """A shipped dataset name (``'coco'``) -> its package-data file; else an existing path."""
    shipped = os.path.join(METAINFO_DIR, f'{name_or_path}.py')
    if os.sep not in name_or_path and '/' not in name_or_path and os.path.isfile(shipped):
        return shipped
    if os.path.isfile(name_or_path):
        return name_or_path
    raise MissingFileError(
        f'dataset-info {name_or_path!r}: neither a shipped dataset name '
        f'({", ".join(shipped_dataset_names())}) nor an existing file (cwd {os.getcwd()})')


def read_dataset_info(name_or_path: str) -> dict:
    """The raw ``dataset_info`` dict of a dataset-info file (a shipped name or a path), executed
    afresh on every call, so a caller may change what it gets."""
    path = resolve_info_path(name_or_path)
    namespace = runpy.run_path(path)
    if 'dataset_info' not in namespace:
        raise DataError(f'dataset-info file {path} defines no variable "dataset_info"')
    return namespace['dataset_info']


def load_dataset_info(path: str) -> dict:
    """Execute a dataset-info Python file and parse its ``dataset_info`` (``parse_dataset_info``)."""
    path = resolve_info_path(path)
    return parse_dataset_info(read_dataset_info(path), source=path)


def build_metainfo(metainfo: Dict) -> dict:
    """Dataset meta from a ``metainfo`` argument: ``dict(from_file=path)`` or a raw info dict."""
    if metainfo is None:
        raise DataError(
            'metainfo is required: dict(from_file="coco") (a shipped dataset name) or a path')
    if 'from_file' in metainfo:
        return load_dataset_info(metainfo['from_file'])
    return parse_dataset_info(metainfo)
