"""Shared fixtures. Real sample data comes from ../shared/data (override: $SBPOSE_SHARED_DATA).

Where the data is absent the tests that need it skip, unless $SBPOSE_REQUIRE_DATA=1 (set by
.ci/run), which turns that skip into a failure.
"""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    return Path(os.environ.get('SBPOSE_SHARED_DATA', REPO_ROOT.parent / 'shared' / 'data'))


@pytest.fixture(scope='session')
def shared_data() -> Path:
    """The folder holding coco_sample/ and mpii_sample/."""
    root = _shared_data_dir()
    if not (root / 'coco_sample').is_dir():
        msg = f'real sample data not found at {root} (set SBPOSE_SHARED_DATA)'
        if os.environ.get('SBPOSE_REQUIRE_DATA') == '1':
            pytest.fail(msg + '; SBPOSE_REQUIRE_DATA=1 requires it')
        pytest.skip(msg)
    return root


@pytest.fixture(scope='session')
def coco_sample(shared_data) -> dict:
    """Paths of the real COCO sample: images/, annotation file, detection file."""
    root = shared_data / 'coco_sample'
    ann_file = root / 'annotations' / 'person_keypoints_sample.json'
    # cfg_options pointing tests/configs/coco_sample_res18.py at this sample
    cfg_options = {f'{key}.dataset.data_root': str(root) + '/'
                   for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    cfg_options.update({'val_evaluator.ann_file': str(ann_file),
                        'test_evaluator.ann_file': str(ann_file)})
    return dict(root=root, img_dir=root / 'images', ann_file=ann_file,
                det_file=root / 'person_detection_results' / 'sample_detections_AP_H_56_person.json',
                cfg_options=cfg_options)


@pytest.fixture(scope='session')
def mpii_sample(shared_data) -> dict:
    root = shared_data / 'mpii_sample'
    return dict(root=root, img_dir=root / 'images', ann_file=root / 'annot' / 'sample.json')


@pytest.fixture
def truncated_coco_image(tmp_path, coco_sample) -> dict:
    """The COCO sample's images in ``tmp_path/images/`` (links), one of them cut to half its bytes
    (a partial download): 000000040083.jpg, the image of instances 1 and 2 (not instance 0's, which
    a dataset checks when it is built). ``first_sample``: the first instance that reads it."""
    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    for image in coco_sample['img_dir'].iterdir():
        os.symlink(image, img_dir / image.name)
    path = img_dir / '000000040083.jpg'
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data[:len(data) // 2])
    return dict(img_dir=img_dir, path=path, full_size=len(data), first_sample=1)
