"""Shared machinery of the top-down keypoint datasets: instance list, dataset meta, pipeline."""
from __future__ import annotations

import copy
import os
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from sbcore.data import Compose
from sbcore.errors import MissingFileError
from sbplugins.transforms.loading import LoadImage

from .dataset_info import build_metainfo


def under_data_root(data_root: str, path: Optional[str]) -> Optional[str]:
    """``path`` (an annotation file, an image folder) under ``data_root``: joined when a root is
    given (an absolute ``path`` stays itself, as ``os.path.join`` keeps it); None stays None."""
    return os.path.join(data_root, path) if data_root and path is not None else path


class BaseTopdownDataset:
    """A map-style dataset of person instances (one sample per person box).

    Subclasses fill ``self.data_list`` in ``load_data_list()`` with per-instance dicts (arrays with a
    leading instance axis of length 1, e.g. ``bbox`` (1, 4), ``keypoints`` (1, K, 2)).

    Args:
        metainfo: ``dict(from_file=NAME_OR_PATH)``: a shipped dataset name (``'coco'``) or a path (relative to the current
            directory or the repository root) or a raw ``dataset_info`` dict.
        pipeline: transform configs or callables, applied in order by ``sbcore.data.Compose``.
        test_mode: evaluation mode (subclasses may load boxes differently).
    """

    default_metainfo_file: Optional[str] = None

    def __init__(self,
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence = (),
                 test_mode: bool = False):
        if metainfo is None and self.default_metainfo_file is not None:
            metainfo = dict(from_file=self.default_metainfo_file)
        self.metainfo: Dict[str, Any] = build_metainfo(metainfo)
        self.test_mode = test_mode
        self.pipeline = Compose(pipeline)
        self.data_list: List[Dict[str, Any]] = self.load_data_list()
        self._check_images_exist()

    def load_data_list(self) -> List[Dict[str, Any]]:
        raise NotImplementedError

    def _check_images_exist(self) -> None:
        """Fail when the dataset is built, not at the first batch of a long run, when the images
        are not where the instances say (a wrong ``data_root`` or ``data_prefix``): every distinct
        image folder and the first instance's file must exist. Only for pipelines that read
        images (``LoadImage``); a missing file further down still fails when read, with its path.
        """
        reads_images = any(isinstance(t, LoadImage) for t in self.pipeline.transforms)
        if not self.data_list or not reads_images:
            return
        folders = sorted({os.path.dirname(d['img_path'])
                          for d in self.data_list if 'img_path' in d})
        missing = [f for f in folders if not os.path.isdir(f or '.')]
        if missing:
            raise MissingFileError(
                f'{type(self).__name__}: image folder(s) {missing[:5]} not found '
                f'(data_root + data_prefix["img"]); {len(self.data_list)} instances read images '
                f'there')
        first = self.data_list[0].get('img_path')
        if first is not None and not os.path.isfile(first):
            raise MissingFileError(f'{type(self).__name__}: image file {first!r} (instance 0) not '
                                   f'found; is data_prefix["img"] right?')

    def __len__(self) -> int:
        return len(self.data_list)

    def get_data_info(self, idx: int) -> Dict[str, Any]:
        """A deep copy of instance ``idx`` plus the dataset meta the transforms need."""
        results = copy.deepcopy(self.data_list[idx])
        results['flip_indices'] = self.metainfo['flip_indices']
        results['upper_body_ids'] = self.metainfo['upper_body_ids']
        results['lower_body_ids'] = self.metainfo['lower_body_ids']
        results['dataset_keypoint_weights'] = self.metainfo['joint_weights'].copy()
        return results

    def get_sample(self, idx: int, rng: np.random.Generator) -> Dict[str, Any]:
        """Instance ``idx`` after the pipeline; random transforms draw from ``rng``."""
        results = self.get_data_info(idx)
        results['rng'] = rng
        return self.pipeline(results)

    def __getitem__(self, idx: int) -> Dict[str, Any]:
        return self.get_sample(idx, np.random.default_rng(idx))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}({self.metainfo["dataset_name"]}, {len(self)} instances, '
                f'test_mode={self.test_mode}, pipeline={self.pipeline!r})')
