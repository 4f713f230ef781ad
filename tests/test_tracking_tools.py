"""Video in, video out: tools/infer.py --track and tools/eval_tracking.py run for real as
subprocesses on a generated clip, with a randomly initialised synthetic-recipe model (its poses
are meaningless, so the assertions are about what the pipeline must do for any weights)."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before mindspore loads)
import mindspore
from sbcore.checkpoint import save_checkpoint

from sbplugins.apis import inference_topdown, init_model
from sbplugins.datasets.synthetic_video import ensure_clips
from sbplugins.visualization import draw_poses, track_color
from tool_helpers import load_tool_module, read_video, run_tool

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = 'configs/simple_baseline/synthetic/res18_128x96_track.py'
# Random weights give joint scores near 0: keep every joint so that persons reach the output.
KEEP_ALL = ['--cfg-options', 'tracker.joint_thr=0.0', 'tracker.min_keypoints=0']


@pytest.fixture(scope='module')
def model():
    mindspore.set_seed(5)
    return init_model(str(REPO_ROOT / CONFIG), jit=False)


@pytest.fixture(scope='module')
def checkpoint(model, tmp_path_factory):
    path = tmp_path_factory.mktemp('track_ckpt') / 'random_r18.ckpt'
    save_checkpoint(path, {n: p.asnumpy() for n, p in model.parameters_and_names()}, {})
    return path


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    root = tmp_path_factory.mktemp('clip')
    (seq, paths), = ensure_clips(str(root), scenarios=('crossing',), num_frames=6).items()
    return dict(root=root, seq=seq, **paths)


def test_infer_track_video_gives_a_posetrack_json_that_eval_tracking_scores(checkpoint, clip, tmp_path):
    out = tmp_path / 'out'
    proc = run_tool('infer.py', '--config', CONFIG, '--ckpt', checkpoint, '--input', clip['video'],
                    '--track', '--bboxes', clip['det'], '--ann-file', clip['ann'], '--out-dir', out,
                    *KEEP_ALL)
    assert 'frames/s' in proc.stdout  # the progress bar reports frames per second
    stem = Path(clip['video']).stem
    pred = json.loads((out / f'{stem}.json').read_text())
    gt = json.loads(Path(clip['ann']).read_text())
    assert [im['id'] for im in pred['images']] == [im['id'] for im in gt['images']]
    assert pred['annotations'] and all(isinstance(a['track_id'], int) for a in pred['annotations'])
    assert all(len(a['keypoints']) == 51 and len(a['scores']) == 17 for a in pred['annotations'])
    per_frame = [[a['track_id'] for a in pred['annotations'] if a['image_id'] == im['id']]
                 for im in pred['images']]
    assert all(len(ids) == len(set(ids)) for ids in per_frame)  # one ID per person in a frame
    rendered = read_video(next(p for p in out.iterdir() if p.suffix in ('.mp4', '.avi')))
    assert len(rendered) == 6 and rendered[0].shape == (256, 320, 3)

    metrics = tmp_path / 'metrics.json'
    proc = run_tool('eval_tracking.py', '--gt', clip['ann'], '--pred', out / f'{stem}.json',
                    '--out', metrics)
    assert '| MOTA |' in proc.stdout and '| ID switches |' in proc.stdout
    result = json.loads(metrics.read_text(), parse_constant=lambda c: pytest.fail(f'{c}: not JSON'))
    total = result['groups']['Total']
    assert set(result['groups']) == {'Head', 'Shou', 'Elb', 'Wri', 'Hip', 'Knee', 'Ankl', 'Total'}
    # MOTA's ground-truth joints: every labelled one but those of the last frame (poseval's rule).
    assert total['num_objects'] == sum(int(np.sum(np.asarray(a['keypoints'][2::3]) > 0))
                                       for a in gt['annotations']
                                       if a['image_id'] != gt['images'][-1]['id'])
    assert total['mota'] <= 1 and 0 <= total['idf1'] <= 1 and len(result['per_joint']) == 17


def test_infer_track_skips_a_corrupt_frame_and_a_detector_that_finds_nobody(checkpoint, clip, tmp_path):
    frames = tmp_path / clip['seq']
    frames.mkdir()
    for path in sorted(Path(clip['images']).iterdir()):
        (frames / path.name).write_bytes(path.read_bytes())
    (frames / '000002.jpg').write_bytes(b'\xff\xd8 not a jpeg at all')
    nobody = tmp_path / 'nobody.json'
    nobody.write_text('[]')
    out = tmp_path / 'out'
    proc = run_tool('infer.py', '--config', CONFIG, '--ckpt', checkpoint, '--input', frames,
                    '--track', '--bboxes', nobody, '--out-dir', out)
    assert 'skipped' in proc.stderr and '000002.jpg' in proc.stderr
    assert '6 frames (1 skipped), 0 tracks' in proc.stdout
    pred = json.loads((out / f'{clip["seq"]}.json').read_text())
    assert len(pred['images']) == 6 and pred['annotations'] == []
    rendered = read_video(next(p for p in out.iterdir() if p.suffix in ('.mp4', '.avi')))
    assert len(rendered) == 5  # the corrupt frame is not in the video


def test_infer_refuses_tracking_a_single_image_in_one_line(checkpoint, clip, tmp_path):
    image = Path(clip['images']) / '000000.jpg'
    proc = run_tool('infer.py', '--config', CONFIG, '--ckpt', checkpoint, '--input', image,
                    '--track', '--out-dir', tmp_path, ok=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert '--track needs a video' in proc.stderr


def test_inference_topdown_uses_the_detector_and_warns_without_one(model, clip):
    image = cv2.imread(str(Path(clip['images']) / '000000.jpg'))
    assert model.detector is not None and type(model.detector).__name__ == 'OpenCVPeopleDetector'
    boxes, _ = model.detector.detect(image)
    assert len(inference_topdown(model, image)) == len(boxes)
    detector, model.detector = model.detector, None
    try:
        with pytest.warns(UserWarning, match='whole image is taken as one person box'):
            persons = inference_topdown(model, image)
        assert len(persons) == 1 and persons[0]['bbox'].tolist() == [0, 0, 320, 256]
    finally:
        model.detector = detector
    from sbplugins.detectors import build_detector
    model.detector = build_detector(dict(type='BoxFileDetector', det_file=clip['det'],
                                         ann_file=clip['ann']))
    try:
        gt = json.loads(Path(clip['det']).read_text())
        first = [d for d in gt if d['image_id'] == json.loads(Path(clip['ann']).read_text())['images'][0]['id']]
        persons = inference_topdown(model, image, frame_info=dict(file_name='000000.jpg'))
        assert len(persons) == len(first) > 0
        np.testing.assert_allclose([p['bbox'] for p in persons], [d['bbox'] for d in first], atol=1e-3)
    finally:
        model.detector = detector


def test_pictures_show_scores_only_on_request_and_each_track_id_once(model):
    rng = np.random.default_rng(0)
    image = np.full((256, 320, 3), 90, np.uint8)
    persons = [dict(keypoints=(rng.uniform((0, 0), (30, 150), (17, 2)) + (20 + 60 * i, 40)).astype(np.float32),
                    keypoint_scores=np.full(17, 0.9, np.float32),
                    bbox=np.array([10 + 60 * i, 20, 50, 200], np.float32), bbox_score=0.8,
                    track_id=i) for i in range(5)]
    meta = model.dataset_meta
    plain = draw_poses(image, persons, meta)
    scored = draw_poses(image, persons, meta, show_scores=True)
    # 85 joint scores and 5 box scores of text: many more pixels differ from the background
    changed = lambda pic: int((pic != image).any(-1).sum())  # noqa: E731
    assert changed(scored) > changed(plain) + 3000
    no_label = draw_poses(image, [dict(p, track_id=None) for p in persons], meta)
    assert changed(plain) > changed(no_label)  # the "ID n" labels
    # each person's box is drawn in its track's colour
    for p in persons:
        x, y = int(p['bbox'][0]), int(p['bbox'][1] + 100)
        assert tuple(int(v) for v in plain[y, x]) == track_color(p['track_id'])
    assert len({track_color(i) for i in range(20)}) == 20


def test_video_source_yields_a_corrupt_frame_as_an_error_and_goes_on(clip, tmp_path):
    from sbplugins.video_io import open_source
    frames = [cv2.imread(str(p)) for p in sorted(Path(clip['images']).iterdir())]
    path = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 10, (320, 256))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
    assert len(starts) == 6  # one JPEG per frame (MJPG)
    data[starts[3] + 2:starts[3] + 600] = bytes(598)  # frame 3 loses its JPEG tables
    path.write_bytes(bytes(data))
    got = list(open_source(str(path)))
    assert [f.index for f in got] == list(range(6))
    assert [f.image is None for f in got] == [False, False, False, True, False, False]
    assert 'frame 3 could not be decoded' in got[3].error


def test_frame_progress_reports_frames_per_second_also_for_open_ended_streams():
    import io
    from sbcore.errors import MissingFileError
    from sbcore.progress import ProgressBar
    from sbplugins.video_io import open_source
    stream = io.StringIO()
    bar = ProgressBar(0, desc='frames', unit='frames', open_every=2, stream=stream)  # a webcam
    for _ in range(5):
        bar.update()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[-1].startswith('frames 4 ') and 'frames/s' in lines[-1]
    stream = io.StringIO()
    bar = ProgressBar(10, desc='frames', unit='frames', stream=stream)
    for _ in range(10):
        bar.update()
    assert 'frames/s' in stream.getvalue() and 'ETA' in stream.getvalue()
    with pytest.raises(MissingFileError, match='expected webcam:N'):
        open_source('webcam:front')
    with pytest.raises(MissingFileError, match='clip.mp4 not found'):
        open_source('/nonexistent/clip.mp4')


def test_a_tracker_chosen_on_the_command_line_keeps_its_cfg_options():
    """``--tracker X --cfg-options tracker.k=v``: the options apply to X (they were lost)."""
    from sbcore.config import Config
    infer = load_tool_module('infer')
    cfg = Config(dict(tracker=dict(type='FlowPoseTracker', flip_tolerant=False, box_thr=0.3)))
    options = {'tracker.flip_tolerant': True, 'model.test_cfg.flip_test': False}
    assert infer.tracker_config(cfg, 'OKSTracker', options) == dict(type='OKSTracker',
                                                                    flip_tolerant=True)
    assert infer.tracker_config(cfg, None, options) == cfg.to_dict()['tracker']
    assert infer.tracker_config(Config({}), None, {}) == dict(type='FlowPoseTracker')


def test_tracking_metrics_are_written_as_strict_json():
    """A joint without a figure is NaN in the result; the file holds null (NaN is not JSON)."""
    strict = load_tool_module('eval_tracking').strict_json
    value = {'groups': {'Head': {'mota': float('nan'), 'ap': 0.5}}, 'per_joint': [float('nan'), 1]}
    assert strict(value) == {'groups': {'Head': {'mota': None, 'ap': 0.5}}, 'per_joint': [None, 1]}
    json.dumps(strict(value), allow_nan=False)


def test_a_truncated_jpeg_in_a_folder_is_a_skipped_frame(clip, tmp_path):
    """cv2.imread returns a truncated JPEG with grey rows; the folder source refuses it (through
    LoadImage's read_image) and goes on with the next frame."""
    from sbplugins.video_io import open_source
    paths = sorted(Path(clip['images']).iterdir())[:3]
    for path in paths:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    whole = paths[1].read_bytes()
    (tmp_path / paths[1].name).write_bytes(whole[:len(whole) // 2])
    assert cv2.imread(str(tmp_path / paths[1].name)) is not None  # what OpenCV alone would give
    got = list(open_source(str(tmp_path)))
    assert [f.image is None for f in got] == [False, True, False]
    assert 'is truncated' in got[1].error and paths[1].name in got[1].error
