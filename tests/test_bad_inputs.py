"""Bad input gets a clear error naming the file, key or value and what was expected, before long
work starts. Cases already covered elsewhere are not repeated: unknown top-level and train_cfg keys
(test_runner.py), a missing or syntactically broken annotation file, an annotation without
``keypoints``, a wrong keypoint count and detection image ids absent from the annotations
(test_datasets.py::test_coco_errors_name_the_file and the MPII-as-COCO test), bad head-box files
(test_datasets.py), malicious ``.pth`` pickles (test_weight_conversion.py).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import sbcore  # noqa: F401  (sets the oneDNN ISA before mindspore loads)

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from toy_components import toy_config  # noqa: F401  (registers the toy components)
from sbcore import checkpoint as ckpt_io
from sbcore.data import Compose
from sbcore.errors import ConfigError, MissingFileError
from sbcore.registry import RegistryError
from sbcore.runner import Runner
from sbplugins.datasets.coco import CocoDataset
from sbplugins.datasets.dataset_info import build_metainfo
from sbplugins.datasets.mpii import MpiiDataset
from sbplugins.utils.geometry.boxes import clip_bbox_xywh

REPO = Path(__file__).resolve().parents[1]
TOY_DATA = dict(dataset=dict(type='ToyDataset', num_samples=16))
PIPELINE = [dict(type='LoadImage'), dict(type='GetBBoxCenterScale', aspect_ratio=192 / 256),
            dict(type='TopdownAffine', input_size=(192, 256)), dict(type='PackPoseInputs')]


def _fails_before_training(tmp_path, exc_type, pattern, **overrides):
    with pytest.raises(exc_type, match=pattern):
        Runner(toy_config(tmp_path, **overrides)).train()
    assert not list(tmp_path.glob('*.ckpt')), 'the error came after training had started'


# --- config keys, constructor arguments, types --------------------------------------------------

@pytest.mark.parametrize('overrides, exc_type, pattern', [
    (dict(env_cfg=dict(jitt=True)),
     KeyError, r"env_cfg: unknown key\(s\) 'jitt' \(did you mean 'jit'\?\)"),
    (dict(optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.1), clip=dict(max_norm=1))),
     KeyError, r"optim_wrapper: unknown key\(s\) 'clip' \(did you mean 'clip_grad'\?\)"),
    (dict(train_dataloader=dict(TOY_DATA, batch_size=8, shufle=True)),
     ConfigError, r"train_dataloader: unknown key\(s\) 'shufle' \(did you mean 'shuffle'\?\); "
     r'known keys: batch_size, dataset, drop_last, num_workers, shuffle'),
    (dict(model=dict(type='ToyRegressor', hiden=8)),
     RegistryError,
     r"ToyRegressor does not take argument\(s\) 'hiden' \(did you mean 'hidden'\?\); it takes: "
     r'in_dim, out_dim, hidden'),
    (dict(train_dataloader=dict(dataset=dict(type='ToyDataset', num_sample=8), batch_size=8)),
     RegistryError, r"ToyDataset does not take argument\(s\) 'num_sample' \(did you mean 'num_samples'\?\)"),
    (dict(custom_hooks=[dict(type='CrashHook', at_epok=1)]),
     RegistryError, r"CrashHook does not take argument\(s\) 'at_epok' \(did you mean 'at_epoch'\?\)"),
    (dict(optim_wrapper=dict(optimizer=dict(type='Adamm', lr=0.1))),
     RegistryError, r"no plugin named 'Adamm' .* Did you mean 'Adam', 'AdamW'\?"),
    (dict(custom_hooks=[dict(type='CrashHook')]),
     RegistryError, r'CrashHook needs argument\(s\) at_epoch'),
])
def test_unknown_keys_and_arguments(tmp_path, overrides, exc_type, pattern):
    _fails_before_training(tmp_path, exc_type, pattern, **overrides)


@pytest.mark.parametrize('overrides, pattern', [
    (dict(train_dataloader=dict(TOY_DATA, batch_size='x')),
     r"config: train_dataloader.batch_size must be an integer, got 'x' \(str\)"),
    (dict(train_dataloader=dict(TOY_DATA, batch_size=2.5)),
     r'config: train_dataloader.batch_size must be an integer, got 2.5 \(float\)'),
    (dict(val_dataloader=dict(TOY_DATA, batch_size=4, num_workers='two')),
     r"config: val_dataloader.num_workers must be an integer, got 'two'"),
    # a component's argument that does not fit its annotation (core/arguments.py)
    (dict(train_cfg=dict(max_epochs='4')),
     r"loops registry: EpochBasedTrainLoop: argument max_epochs='4' \(str\) does not fit its "
     r"annotation int"),
    (dict(train_cfg=dict(max_epochs=2, val_interval=None)),
     r'EpochBasedTrainLoop: argument val_interval=None \(NoneType\) does not fit its annotation int'),
    (dict(optim_wrapper=dict(optimizer=dict(type='Adam', lr='1e-3'))),
     r"config: optim_wrapper.optimizer.lr must be a number, got '1e-3' \(str\)"),
    (dict(optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.1), clip_grad=dict(max_norm='x'))),
     r"config: optim_wrapper.clip_grad.max_norm must be a number, got 'x'"),
    (dict(seed='x'), r"config: seed must be an integer, got 'x'"),
    (dict(default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval='5'))),
     r"hooks registry: CheckpointHook: argument interval='5' \(str\) does not fit its annotation int"),
    (dict(param_scheduler=[dict(type='MultiStepLR', milestones=[2], gamma='0.1')]),
     r"schedulers registry: MultiStepLR: argument gamma='0.1' \(str\) does not fit its annotation "
     r"float"),
    (dict(model=dict(type='ToyRegressor', in_dim='4')),
     r"models registry: ToyRegressor: argument in_dim='4' \(str\) does not fit its annotation int"),
])
def test_wrong_types_name_key_and_value(tmp_path, overrides, pattern):
    _fails_before_training(tmp_path, TypeError, pattern, **overrides)


def test_wrong_value_from_the_command_line_fails_before_training(tmp_path):
    """End to end: what a user of tools/train.py sees: one line, exit code 2 (tools/cli.py)."""
    config = tmp_path / 'toy.py'
    config.write_text(f'import sys\nsys.path.insert(0, {str(REPO / "tests")!r})\n'
                      'import toy_components\n'
                      f'globals().update(toy_components.toy_config({str(tmp_path / "wd")!r}))\n')
    proc = subprocess.run([sys.executable, 'tools/train.py', str(config),
                           '--cfg-options', 'train_dataloader.batch_size=eight'],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "train.py: error: config: train_dataloader.batch_size must be an integer, got 'eight' "
        "(str)"]
    assert not list((tmp_path / 'wd').glob('*.ckpt'))
    proc = subprocess.run([sys.executable, 'tools/train.py', str(tmp_path / 'nope.py')],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stderr.strip() == (
        f'train.py: error: config {tmp_path}/nope.py not found')


# --- checkpoints that do not match the model ----------------------------------------------------

def test_mismatched_checkpoint_lists_missing_unexpected_and_misshaped(tmp_path):
    one_epoch = dict(max_epochs=1, val_interval=0)
    Runner(toy_config(tmp_path / 'a', train_cfg=one_epoch)).train()
    arrays, meta = ckpt_io.load_checkpoint(tmp_path / 'a' / 'epoch_1.ckpt')
    del arrays['fc2.bias']
    arrays['fc3.weight'] = np.zeros((2, 2), np.float32)
    edited = tmp_path / 'edited.ckpt'
    ckpt_io.save_checkpoint(edited, arrays, meta)
    runner = Runner(toy_config(tmp_path / 'b', model=dict(type='ToyRegressor', hidden=8),
                               load_from=str(edited), train_cfg=one_epoch))
    before = {n: p.asnumpy().copy() for n, p in runner.model.parameters_and_names()}
    with pytest.raises(ckpt_io.CheckpointError) as info:
        runner.train()
    msg = str(info.value)
    assert msg.startswith(f'checkpoint {edited} does not match the model:')
    assert 'missing in checkpoint (1): fc2.bias' in msg
    assert 'unexpected in checkpoint (1): fc3.weight' in msg
    assert 'mis-shaped (3): fc1.bias: checkpoint (16,) vs model (8,), ' \
           'fc1.weight: checkpoint (16, 3) vs model (8, 3), ' \
           'fc2.weight: checkpoint (2, 16) vs model (2, 8)' in msg
    after = {n: p.asnumpy() for n, p in runner.model.parameters_and_names()}
    assert all(np.array_equal(before[n], after[n]) for n in before)  # nothing half-loaded
    # a weights-only file (no epoch/iteration) cannot be resumed from
    weights = {k: v for k, v in ckpt_io.load_checkpoint(tmp_path / 'a' / 'epoch_1.ckpt')[0].items()
               if not k.startswith('optimizer.')}
    ckpt_io.save_checkpoint(tmp_path / 'plain.ckpt', weights, {})
    with pytest.raises(ckpt_io.CheckpointError,
                       match=f'checkpoint {tmp_path}/plain.ckpt has no run state to resume from'):
        Runner(toy_config(tmp_path / 'c', resume=str(tmp_path / 'plain.ckpt'),
                          train_cfg=one_epoch)).train()
    with pytest.raises(ckpt_io.CheckpointError,
                       match=f'checkpoint not found: {tmp_path}/nope.ckpt'):
        Runner(toy_config(tmp_path / 'd', load_from=str(tmp_path / 'nope.ckpt'),
                          train_cfg=one_epoch)).train()


# --- data roots, image files --------------------------------------------------------------------

def test_missing_data_root_names_the_annotation_path(tmp_path):
    with pytest.raises(FileNotFoundError,
                       match=f"COCO annotation file '{tmp_path}/no_root/annotations/a.json' "
                             "not found"):
        CocoDataset('annotations/a.json', data_root=str(tmp_path / 'no_root'))
    with pytest.raises(FileNotFoundError, match=f"MPII annotation file '{tmp_path}/m/a.json'"):
        MpiiDataset('a.json', data_root=str(tmp_path / 'm'))


def test_missing_image_folder_fails_when_the_dataset_is_built(coco_sample, mpii_sample):
    with pytest.raises(FileNotFoundError,
                       match=r"CocoDataset: image folder\(s\) \['.*/coco_sample/imgs'\] not found"):
        CocoDataset(str(coco_sample['ann_file']), data_root=str(coco_sample['root']),
                    data_prefix=dict(img='imgs/'), pipeline=PIPELINE)
    with pytest.raises(FileNotFoundError, match=r"MpiiDataset: image folder\(s\) .* not found"):
        MpiiDataset(str(mpii_sample['ann_file']), data_root=str(mpii_sample['root']),
                    data_prefix=dict(img='pictures/'), pipeline=PIPELINE)
    # without a step that reads images, no images are needed (annotation-only use)
    assert len(CocoDataset(str(coco_sample['ann_file']), data_prefix=dict(img='imgs/'))) == 12


def test_missing_image_file_names_its_path(tmp_path, coco_sample):
    from sbcore.data import DataLoader
    images = sorted(coco_sample['img_dir'].iterdir())
    (tmp_path / 'images').mkdir()
    for image in images[:-1]:  # the last one is missing
        os.symlink(image, tmp_path / 'images' / image.name)
    ds = CocoDataset(str(coco_sample['ann_file']), data_root=str(tmp_path), pipeline=PIPELINE)
    # raised as itself from MindSpore's data pipeline, naming the first sample that reads it
    with pytest.raises(MissingFileError,
                       match=f'^CocoDataset sample 7: LoadImage: image file not found: '
                             f'{tmp_path}/images/{images[-1].name}$'):
        for _ in DataLoader(ds, batch_size=4, shuffle=False, num_workers=1):
            pass
    (tmp_path / 'images' / images[0].name).unlink()  # now instance 0's file: caught at build
    with pytest.raises(FileNotFoundError, match=r'image file .*\(instance 0\) not found'):
        CocoDataset(str(coco_sample['ann_file']), data_root=str(tmp_path), pipeline=PIPELINE)
    (tmp_path / 'images' / images[0].name).write_bytes(b'not a jpeg')
    ds = CocoDataset(str(coco_sample['ann_file']), data_root=str(tmp_path), pipeline=PIPELINE)
    with pytest.raises(OSError, match=f'could not decode the image file .*{images[0].name} '
                                      r'\(10 bytes\)'):
        ds[0]


# --- malformed annotations ----------------------------------------------------------------------

def _coco_file(tmp_path, coco_sample, edit, name='edited.json'):
    data = json.loads(coco_sample['ann_file'].read_text())
    edit(data)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.parametrize('edit, exc_type, pattern', [
    (lambda d: d.pop('images'), KeyError, r"edited.json' lacks field\(s\) \['images'\]"),
    (lambda d: d['images'][2].pop('height'), KeyError,
     r"edited.json: images\[2\] lacks field\(s\) \['height'\]"),
    (lambda d: d['annotations'][1].pop('bbox'), KeyError,
     r"edited.json: annotations\[1\] \(id \d+\) lacks field\(s\) \['bbox'\]"),
    (lambda d: d['annotations'][4].update(image_id=7), KeyError,
     r'annotations\[4\] \(id \d+\) refers to image_id 7 absent from "images"'),
    (lambda d: d['annotations'][0].update(keypoints=[1, 2, 2] * 16), ValueError,
     r'annotations\[0\] .* has 48 keypoint values, expected 3 x 17'),
])
def test_malformed_coco_annotations(tmp_path, coco_sample, edit, exc_type, pattern):
    with pytest.raises(exc_type, match=pattern):
        CocoDataset(_coco_file(tmp_path, coco_sample, edit))


def test_coco_file_that_is_not_an_object(tmp_path):
    path = tmp_path / 'list.json'
    path.write_text('[]')
    with pytest.raises(ValueError, match=f"COCO annotation file '{path}' must hold a JSON object"):
        CocoDataset(str(path))


def test_zero_and_negative_gt_boxes_follow_the_reference_rule(tmp_path, coco_sample):
    """Reference clipping: x2 = x1 + max(0, w - 1), so a zero or negative side is kept as 0 (the
    aspect fix then sizes the crop from the other side); only area <= 0 or a box starting outside
    the image drops the instance."""
    data = json.loads(coco_sample['ann_file'].read_text())
    full = {d['id'] for d in CocoDataset(str(coco_sample['ann_file'])).data_list}
    ids = [a['id'] for a in data['annotations'] if a['id'] in full][:3]

    def edit(d):
        by_id = {a['id']: a for a in d['annotations']}
        by_id[ids[0]]['bbox'][2] = 0.0   # zero width
        by_id[ids[1]]['bbox'][3] = -5.0  # negative height
        by_id[ids[2]]['area'] = 0.0      # dropped
    ds = CocoDataset(_coco_file(tmp_path, coco_sample, edit), data_root=str(coco_sample['root']),
                     data_prefix=dict(img=str(coco_sample['img_dir']) + '/'), pipeline=PIPELINE)
    by_id = {d['id']: i for i, d in enumerate(ds.data_list)}
    assert set(by_id) == full - {ids[2]}
    assert ds.data_list[by_id[ids[0]]]['bbox'][0, 2] == 0
    assert ds.data_list[by_id[ids[1]]]['bbox'][0, 3] == 0
    for i in (by_id[ids[0]], by_id[ids[1]]):
        sample = ds[i]
        assert (sample['bbox_scale'] > 0).all() and np.isfinite(sample['keypoints']).all()


def test_malformed_detection_files(tmp_path, coco_sample):
    ann = str(coco_sample['ann_file'])
    dets = json.loads(coco_sample['det_file'].read_text())
    path = tmp_path / 'dets.json'
    path.write_text(json.dumps({'detections': dets}))
    with pytest.raises(ValueError, match=f"detection file '{path}' must hold a JSON list"):
        CocoDataset(ann, bbox_file=str(path))
    del dets[2]['score']
    path.write_text(json.dumps(dets))
    with pytest.raises(KeyError, match=rf"dets.json: \[2\] lacks field\(s\) \['score'\]"):
        CocoDataset(ann, bbox_file=str(path))


def test_degenerate_detection_boxes_do_not_crash(tmp_path, coco_sample):
    """Detection boxes are kept as given (reference); a zero or negative size gives a degenerate
    but finite crop instead of an error."""
    image_id = json.loads(coco_sample['ann_file'].read_text())['images'][0]['id']
    path = tmp_path / 'dets.json'
    dets = [dict(image_id=image_id, category_id=1, bbox=bbox, score=1)
            for bbox in ([10, 10, 0, 0], [10, 10, -5, 20])]
    path.write_text(json.dumps(dets))
    ds = CocoDataset(str(coco_sample['ann_file']), data_root=str(coco_sample['root']),
                     bbox_file=str(path), pipeline=PIPELINE, test_mode=True)
    for i in range(len(ds)):
        sample = ds[i]
        assert sample['img'].shape == (256, 192, 3)
        assert np.isfinite(sample['bbox_scale']).all() and np.isfinite(sample['bbox_center']).all()


@pytest.mark.parametrize('edit, exc_type, pattern', [
    (lambda a: a[1].pop('scale'), KeyError, r"sample.json: entry 1 lacks field\(s\) \['scale'\]"),
    (lambda a: a[0].update(joints=a[0]['joints'][:15]), ValueError,
     r'entry 0 has joints of shape \(15, 2\) / 16 visibilities, expected \(16, 2\) / 16'),
])
def test_malformed_mpii_annotations(tmp_path, mpii_sample, edit, exc_type, pattern):
    anns = json.loads(mpii_sample['ann_file'].read_text())
    edit(anns)
    path = tmp_path / 'sample.json'
    path.write_text(json.dumps(anns))
    with pytest.raises(exc_type, match=pattern):
        MpiiDataset(str(path))


# --- random inputs through the whole training pipeline ------------------------------------------
# tests/test_properties.py covers the crop (TopdownAffine) on random boxes, rotations, scales and
# keypoints, the round trip into the crop and back, and flipping twice. Missing there, added here:
# the full augmentation chain (incl. half-body) on any box, even empty or outside the image, and
# the reference's ground-truth box clipping on any box.

COCO_META = build_metainfo(dict(from_file='coco'))
TRAIN_PIPELINE = Compose([
    dict(type='GetBBoxCenterScale', aspect_ratio=192 / 256),
    dict(type='RandomHalfBody', prob=1.0),
    dict(type='RandomBBoxTransform', scale_factor=0.3, rotate_factor=40.0, rotate_prob=0.6),
    dict(type='RandomFlip', prob=0.5),
    dict(type='TopdownAffine', input_size=(192, 256)),
    dict(type='GenerateTarget', encoder=dict(type='MSRAHeatmap', input_size=(192, 256),
                                             heatmap_size=(48, 64), sigma=2.0)),
    dict(type='PackPoseInputs'),
])
IMAGE = np.random.default_rng(1).integers(0, 255, (60, 80, 3), dtype=np.uint8)
any_box = st.tuples(st.floats(-200, 300), st.floats(-200, 300), st.floats(-50, 400),
                    st.floats(-50, 400))


@settings(max_examples=60, deadline=None)
@given(box=any_box, seed=st.integers(0, 2**32 - 1),
       kp=arrays(np.float32, (1, 17, 2), elements=st.floats(-300, 400, width=32)),
       vis=arrays(np.float32, (1, 17), elements=st.sampled_from([0.0, 1.0])))
def test_training_pipeline_never_crashes_on_any_box(box, seed, kp, vis):
    results = dict(img=IMAGE.copy(), img_shape=IMAGE.shape[:2],
                   bbox=np.array([box], np.float32), keypoints=kp, keypoints_visible=vis,
                   flip_indices=COCO_META['flip_indices'],
                   upper_body_ids=COCO_META['upper_body_ids'],
                   lower_body_ids=COCO_META['lower_body_ids'],
                   dataset_keypoint_weights=COCO_META['joint_weights'].copy(),
                   rng=np.random.default_rng(seed))
    out = TRAIN_PIPELINE(results)
    assert out['img'].shape == (256, 192, 3) and out['img'].dtype == np.uint8
    assert out['heatmaps'].shape == (17, 64, 48) and np.isfinite(out['heatmaps']).all()
    assert np.isfinite(out['keypoint_weights']).all()
    # augmentation may drop joints (out of the crop) and permute them (flip), never add one
    assert out['keypoint_weights'].sum() <= vis.sum()


def test_empty_box_with_half_body_gives_a_finite_sample():
    results = dict(img=IMAGE.copy(), img_shape=IMAGE.shape[:2], bbox=np.zeros((1, 4), np.float32),
                   keypoints=np.zeros((1, 17, 2), np.float32),
                   keypoints_visible=np.ones((1, 17), np.float32),
                   flip_indices=COCO_META['flip_indices'],
                   upper_body_ids=COCO_META['upper_body_ids'],
                   lower_body_ids=COCO_META['lower_body_ids'],
                   dataset_keypoint_weights=COCO_META['joint_weights'].copy(),
                   rng=np.random.default_rng(0))
    out = TRAIN_PIPELINE(results)
    assert np.isfinite(out['heatmaps']).all()


@settings(max_examples=100, deadline=None)
@given(box=any_box, img_w=st.integers(1, 500), img_h=st.integers(1, 500))
def test_gt_box_clipping_stays_inside_the_image(box, img_w, img_h):
    clipped = clip_bbox_xywh(np.array(box), img_w, img_h, area=1.0)
    if clipped is None:  # dropped: the box starts right of or below the image
        assert max(0, box[0]) > img_w - 1 or max(0, box[1]) > img_h - 1
        return
    x, y, w, h = clipped
    assert 0 <= x and 0 <= y and w >= 0 and h >= 0
    assert x + w <= img_w - 1 and y + h <= img_h - 1


@pytest.mark.parametrize('dataset', ['CocoDataset', 'MpiiDataset', 'PoseTrack18Dataset'])
def test_a_pipeline_given_as_one_step_is_named_before_any_file_is_read(dataset):
    """``pipeline=dict(...)`` instead of a list of steps: the argument check names it (the
    annotation file, which does not exist, is never opened)."""
    from sbcore.registries import DATASETS
    with pytest.raises(ConfigError, match=rf"datasets registry: {dataset}: argument "
                                          rf"pipeline={{'type': 'LoadImage'}} \(dict\) does not fit "
                                          rf"its annotation Sequence"):
        DATASETS.build(dict(type=dataset, ann_file='missing.json',
                            pipeline=dict(type='LoadImage')))
