"""ONNX export and the exported-model backends (ONNX Runtime, OpenVINO), for real, on COCO crops.

Model: tests/configs/coco_sample_res18.py with random weights and randomised batch-norm
statistics (so ONNX Runtime's BatchNorm folding is exercised) and a final layer scaled so the
heatmaps are O(1). The references are MindSpore's own heatmaps (``predict_heatmaps``) on crops of
the real COCO sample images cut by the inference pipeline around the annotated people.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before mindspore loads)
import mindspore
from sbcore.checkpoint import save_checkpoint
from sbcore.env import choose_isa, read_cpu

from sbplugins.apis import _inference_pipeline, inference_topdown, init_model
from tool_helpers import run_tool

onnx = pytest.importorskip('onnx', reason='the deploy extra (pip install -e ".[tests]")')
ort = pytest.importorskip('onnxruntime', reason='the deploy extra')
ov = pytest.importorskip('openvino', reason='the deploy extra')

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = 'tests/configs/coco_sample_res18.py'
RELATIVE_TOLERANCE = 1e-4  # of max |heatmap|: ONNX Runtime folds BN and uses other kernels


@pytest.fixture(scope='module')
def checkpoint(coco_sample, tmp_path_factory):
    mindspore.set_seed(5)
    model = init_model(REPO_ROOT / CONFIG, cfg_options=coco_sample['cfg_options'], jit=False)
    rng = np.random.default_rng(5)
    arrays = {}
    for name, param in model.parameters_and_names():
        value = param.asnumpy()
        if 'moving_mean' in name or name.endswith('.beta'):
            value = rng.normal(0, 0.1, value.shape).astype(np.float32)
        elif 'moving_variance' in name or name.endswith('.gamma'):
            value = rng.uniform(0.5, 1.5, value.shape).astype(np.float32)
        elif name.startswith('head.final_layer'):
            value = value * 300.0
        arrays[name] = value
    path = tmp_path_factory.mktemp('backends') / 'random_r18.ckpt'
    save_checkpoint(path, arrays, {})
    return path


@pytest.fixture(scope='module')
def exported(coco_sample, checkpoint, tmp_path_factory):
    """``{flip_test: .onnx path}`` written by tools/export.py (one process per export)."""
    out_dir = tmp_path_factory.mktemp('onnx')
    files = {}
    for flip in (False, True):
        out = out_dir / f'r18{"_flip" if flip else ""}.onnx'
        options = [f'{k}={v}' for k, v in coco_sample['cfg_options'].items()]
        proc = run_tool('export.py', '--config', CONFIG, '--ckpt', checkpoint, '--out', out,
                        *(['--flip-test'] if flip else []), '--cfg-options', *options)
        assert proc.stdout.splitlines()[-1] == 'OK', proc.stdout
        assert 'repaired 1 padded max-pool(s) and 3 deconvolution output_shape(s)' in proc.stdout
        files[flip] = out
    return files


@pytest.fixture(scope='module')
def coco_crops(coco_sample, checkpoint):
    """The MindSpore model and normalised crops (N, 3, 256, 192) of the annotated COCO people."""
    model = init_model(REPO_ROOT / CONFIG, str(checkpoint), cfg_options=coco_sample['cfg_options'])
    ann = json.loads(Path(coco_sample['ann_file']).read_text())
    files = {img['id']: img['file_name'] for img in ann['images']}
    pipeline = _inference_pipeline(model.cfg)
    crops = []
    from sbplugins.transforms.loading import LoadImage
    for person in ann['annotations'][:6]:
        img = LoadImage()(dict(img_path=str(coco_sample['img_dir'] / files[person['image_id']])))
        packed = pipeline(dict(img=img['img'], img_id=person['image_id'],
                               bbox=np.asarray([person['bbox']], np.float32),
                               bbox_score=np.ones(1, np.float32)))
        crops.append(packed['img'])
    return model, model.preprocess(np.stack(crops))


def relative_error(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.abs(got - expected).max() / np.abs(expected).max())


@pytest.mark.parametrize('flip', [False, True])
def test_onnx_runtime_matches_mindspore_heatmaps_on_coco_crops(exported, coco_crops, flip):
    model, inputs = coco_crops
    model.test_cfg = dict(model.test_cfg, flip_test=flip)
    expected = model.predict_heatmaps(inputs)
    assert np.abs(expected).max() > 0.1  # O(1) heatmaps: the tolerance means something
    session = ort.InferenceSession(str(exported[flip]), providers=['CPUExecutionProvider'])
    got = session.run(None, {'input': inputs})[0]  # batch 6: the exported batch was 1
    assert got.shape == expected.shape == (6, 17, 64, 48)
    assert relative_error(got, expected) <= RELATIVE_TOLERANCE
    # the flip-test graph computes something else than the plain one
    other = ort.InferenceSession(str(exported[not flip]), providers=['CPUExecutionProvider'])
    assert relative_error(other.run(None, {'input': inputs})[0], expected) > 1e-2


def test_exported_graph_is_plain_onnx_with_symmetric_pool(exported):
    graph = onnx.load(str(exported[False])).graph
    pools = [n for n in graph.node if n.op_type == 'MaxPool']
    assert len(pools) == 1
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in pools[0].attribute}
    assert attrs['pads'] == [1, 1, 1, 1] and 'auto_pad' not in attrs
    for node in graph.node:
        if node.op_type == 'ConvTranspose':
            assert 'output_shape' not in {a.name for a in node.attribute}
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'N'


@pytest.mark.parametrize('backend', ['onnxruntime', 'openvino'])
def test_init_model_backend_gives_mindspore_keypoints(coco_sample, checkpoint, exported,
                                                      backend):
    """inference_topdown through the backend (flip test around it, as configured) vs MindSpore."""
    reference = init_model(REPO_ROOT / CONFIG, str(checkpoint),
                           cfg_options=coco_sample['cfg_options'])
    model = init_model(REPO_ROOT / CONFIG, str(exported[False]), backend=backend,
                       precision='fp32', cfg_options=coco_sample['cfg_options'])
    assert model.inference_backend.name == backend
    assert model.test_cfg['flip_test']
    image = str(coco_sample['img_dir'] / '000000000785.jpg')
    boxes = np.array([[280, 40, 220, 380], [100, 50, 150, 300], [0, 0, 640, 425]], np.float32)
    expected = inference_topdown(reference, image, boxes)
    got = inference_topdown(model, image, boxes)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g['keypoint_scores'], e['keypoint_scores'], rtol=1e-3,
                                   atol=1e-4)
        np.testing.assert_allclose(g['keypoints'], e['keypoints'], atol=0.05)


def test_openvino_bf16_runs_and_stays_close(exported, coco_crops):
    backend_cls = pytest.importorskip('sbplugins.backends.openvino_backend').OpenVinoBackend
    core = ov.Core()
    if 'BF16' not in core.get_property('CPU', 'OPTIMIZATION_CAPABILITIES'):
        pytest.skip('this CPU has no bf16 (AMX-BF16 / AVX512-BF16) for OpenVINO')
    _, inputs = coco_crops
    fp32 = backend_cls(str(exported[False]), precision='fp32')(inputs)
    bf16 = backend_cls(str(exported[False]), precision='bf16')(inputs)
    error = relative_error(bf16, fp32)
    assert 1e-5 < error < 0.1  # bf16 really computed (not fp32), and near fp32
    assert os.environ['ONEDNN_MAX_CPU_ISA'] == 'AVX2'  # MindSpore's cap is restored


def test_backend_errors_name_the_fix(coco_sample, checkpoint):
    from sbcore.errors import ConfigError
    from sbcore.registry import RegistryError
    with pytest.raises(RegistryError, match="Did you mean 'onnxruntime'"):
        init_model(REPO_ROOT / CONFIG, str(checkpoint), backend='onnxruntim',
                   cfg_options=coco_sample['cfg_options'])
    with pytest.raises(ConfigError, match='tools/export.py'):
        init_model(REPO_ROOT / CONFIG, str(checkpoint), backend='onnxruntime',
                   cfg_options=coco_sample['cfg_options'])


def test_infer_tool_runs_the_onnx_backend(coco_sample, exported, tmp_path):
    options = [f'{k}={v}' for k, v in coco_sample['cfg_options'].items()]
    image = coco_sample['img_dir'] / '000000000785.jpg'
    run_tool('infer.py', '--config', CONFIG, '--ckpt', exported[False], '--backend',
             'onnxruntime', '--input', image, '--out-dir', tmp_path, '--cfg-options', *options)
    record = json.loads((tmp_path / '000000000785.json').read_text())
    assert len(record['persons']) == 1
    assert np.asarray(record['persons'][0]['keypoints']).shape == (17, 2)


def test_cpu_fast_path_follows_the_cpu_and_the_user_wins():
    assert choose_isa(frozenset({'avx2', 'avx512f'}))[0] == 'AVX2'
    assert choose_isa(frozenset({'avx2'}))[0] is None
    assert choose_isa(frozenset({'sse4_2'}))[0] is None
    code = ('import os, sbcore; from sbcore.env import describe_env; '
            'print(os.environ.get("ONEDNN_MAX_CPU_ISA", "<unset>")); print(describe_env())')
    env = {k: v for k, v in os.environ.items() if k not in ('ONEDNN_MAX_CPU_ISA',
                                                            'SBCORE_NUM_THREADS')}
    chosen = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True,
                            text=True, timeout=60, check=True).stdout.splitlines()
    expected = choose_isa(read_cpu()[1])[0] or '<unset>'
    assert chosen[0] == expected and f'ONEDNN_MAX_CPU_ISA={expected}' in chosen[1]
    user = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=60, check=True,
                          env=dict(env, ONEDNN_MAX_CPU_ISA='AVX512_CORE',
                                   SBCORE_NUM_THREADS='1')).stdout.splitlines()
    assert user[0] == 'AVX512_CORE'
    assert 'ONEDNN_MAX_CPU_ISA=AVX512_CORE (set by the user)' in user[1]
    assert 'threads=1 (set by the user' in user[1]
