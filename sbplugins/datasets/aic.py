"""AI Challenger's published keypoint JSON -> the COCO-style dict the loaders check.

The release (``keypoint_{train,validation}_annotations_2017MMDD.json``) is a list of
``{image_id: str, keypoint_annotations: {human1: [x, y, v] * 14}, human_annotations:
{human1: [x1, y1, x2, y2]}}`` with v = 1 visible, 2 labelled but occluded, 3 not labelled, and no
image sizes. ``CocoDataset`` and ``CocoMetric`` accept it as it is (with ``metainfo=dict(
from_file='aic')``): records become images in file order (ids 1, 2, ...), persons annotations
in name order, so both assign the same ids.
"""
from __future__ import annotations

import os
from typing import Any, List, Optional

from sbcore.errors import DataError, MissingFileError

# AI Challenger visibility -> COCO's (2 visible, 1 occluded, 0 not labelled)
AIC_TO_COCO_VISIBILITY = {1: 2, 2: 1, 3: 0}


def is_aic_records(data: Any) -> bool:
    """Whether loaded JSON is AI Challenger's published list of per-image records."""
    return (isinstance(data, list) and len(data) > 0 and isinstance(data[0], dict)
            and 'keypoint_annotations' in data[0])


def _image_size(path: str) -> tuple:
    from PIL import Image  # reads the header only
    if not os.path.isfile(path):
        raise MissingFileError(f'AI Challenger image {path!r} not found (image sizes are not in '
                               f'the annotation file; is data_prefix["img"] right?)')
    with Image.open(path) as img:
        return img.size


def aic_to_coco(records: List[dict], path: str, image_dir: Optional[str] = None) -> dict:
    """Convert the records (see the module docstring) to ``{images, annotations, categories}``.

    Boxes x1, y1, x2, y2 -> x, y, w, h; visibility mapped by ``AIC_TO_COCO_VISIBILITY``;
    ``iscrowd`` 0, ``num_keypoints`` the labelled joints, ``area`` the box's w * h (the dataset
    has no segmentation). Image sizes are read from the image headers in ``image_dir`` when
    given (the dataset needs them to clip boxes), else 0 (the metric does not use them).

    Raises:
        DataError: a record lacking a field, a person without a box, a bad visibility value;
            the message names the file, the record index and the field.
    """
    images, annotations = [], []
    for i, rec in enumerate(records):
        where = f'{path}: record {i}'
        for key in ('image_id', 'keypoint_annotations', 'human_annotations'):
            if key not in rec:
                raise DataError(f'{where} lacks field(s) [{key!r}] (AI Challenger layout)')
        file_name = f'{rec["image_id"]}.jpg'
        width = height = 0
        if image_dir is not None:
            width, height = _image_size(os.path.join(image_dir, file_name))
        images.append(dict(id=i + 1, file_name=file_name, width=width, height=height))
        for name in sorted(rec['keypoint_annotations']):
            kpts = list(rec['keypoint_annotations'][name])
            if name not in rec['human_annotations']:
                raise DataError(f'{where} ({rec["image_id"]}): person {name!r} has keypoints '
                                f'but no box in human_annotations')
            x1, y1, x2, y2 = (float(v) for v in rec['human_annotations'][name])
            vis = kpts[2::3]
            bad = sorted({v for v in vis if v not in AIC_TO_COCO_VISIBILITY})
            if bad:
                raise DataError(f'{where} ({rec["image_id"]}), person {name!r}: visibility '
                                f'values {bad}, expected 1 (visible), 2 (occluded) or 3 (none)')
            for j, v in enumerate(vis):
                kpts[3 * j + 2] = AIC_TO_COCO_VISIBILITY[v]
                if v == 3:
                    kpts[3 * j] = kpts[3 * j + 1] = 0
            annotations.append(dict(
                id=len(annotations) + 1, image_id=i + 1, category_id=1, iscrowd=0,
                bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1), keypoints=kpts,
                num_keypoints=sum(1 for v in vis if v != 3)))
    return dict(images=images, annotations=annotations,
                categories=[dict(id=1, name='person', supercategory='person')])
