"""The built-in synthetic person dataset as a ``CocoDataset`` that generates its files on first use."""
from __future__ import annotations

from typing import Optional, Tuple

from .coco import CocoDataset
from .synthetic_people import ensure_dataset
from sbcore.errors import ConfigError


class SyntheticCocoDataset(CocoDataset):
    """``CocoDataset`` over the generated files of ``synthetic_people`` under ``data_root``.

    The dataset is (re)generated only when ``data_root/meta.json`` is missing or records other
    sizes / seed / image size (see ``ensure_dataset``), so every process building it with the same
    arguments reads the same files. Samples, keys and shapes are exactly those of ``CocoDataset``.

    Args:
        data_root: folder of the generated dataset (relative paths are relative to the current
            directory).
        split: ``'train'`` or ``'val'``.
        num_train_images, num_val_images, seed, image_size (width, height), max_people_per_image,
            difficulty (0..1, the rate of hard cases): generator arguments (``generate_dataset``).
        use_detections: ``split='val'`` only: person boxes from the generated detection file
            (jittered ground-truth boxes plus low-score false positives) instead of the ground truth.
        **coco_kwargs: the remaining ``CocoDataset`` arguments (``pipeline``, ``test_mode``,
            ``det_score_thr``, ``metainfo``). ``ann_file``, ``data_prefix`` and ``bbox_file`` are
            set from the split.
    """

    def __init__(self, data_root: str = 'data/synthetic', split: str = 'train',
                 num_train_images: int = 1500, num_val_images: int = 200, seed: int = 0,
                 use_detections: bool = False, image_size: Tuple[int, int] = (320, 256),
                 max_people_per_image: int = 2, difficulty: float = 1.0, **coco_kwargs):
        if split not in ('train', 'val'):
            raise ConfigError(f'SyntheticCocoDataset split must be "train" or "val", got {split!r}')
        if use_detections and split != 'val':
            raise ConfigError('SyntheticCocoDataset: use_detections=True needs split="val" '
                              '(detection boxes are generated for the validation images only)')
        fixed = sorted({'ann_file', 'data_prefix', 'bbox_file'} & set(coco_kwargs))
        if fixed:
            raise ConfigError(f'SyntheticCocoDataset sets {fixed} itself from split={split!r}')
        self.split = split
        self.paths = ensure_dataset(data_root, num_train_images=num_train_images,
                                    num_val_images=num_val_images, image_size=image_size,
                                    max_people_per_image=max_people_per_image, seed=seed,
                                    difficulty=difficulty)
        bbox_file: Optional[str] = self.paths['val_det'] if use_detections else None
        super().__init__(ann_file=self.paths[f'{split}_ann'], data_root='',
                         data_prefix=dict(img=self.paths[f'{split}_images']), bbox_file=bbox_file,
                         **coco_kwargs)
