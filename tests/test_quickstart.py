"""The main job's tool runs end to end (generate, train, evaluate, draw) at a tiny size."""
import json
import subprocess
import sys
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parents[1]


def test_quickstart_runs_end_to_end_at_a_tiny_size(tmp_path):
    data = tmp_path / 'synthetic'
    work = tmp_path / 'work'
    options = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
               f'val_evaluator.ann_file={data}/annotations/person_keypoints_val.json',
               'train_dataloader.batch_size=8', 'val_dataloader.batch_size=8']
    for key in ('train_dataloader', 'val_dataloader'):
        options += [f'{key}.dataset.data_root={data}', f'{key}.dataset.num_train_images=12',
                    f'{key}.dataset.num_val_images=3']
    proc = subprocess.run([sys.executable, 'tools/quickstart.py', '--work-dir', str(work),
                           '--num-pictures', '2', '--cfg-options', *options],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'coco/AP' in proc.stdout and 'wall time' in proc.stdout
    metrics = json.loads((work / 'metrics.json').read_text())
    assert 0.0 <= metrics['coco/AP'] <= 1.0
    for picture in ('predictions.png', 'curves.png'):
        image = cv2.imread(str(work / picture))
        assert image is not None and image.shape[0] > 50, picture
    assert (data / 'meta.json').is_file()
