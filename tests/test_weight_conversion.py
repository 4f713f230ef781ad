"""PyTorch checkpoint reading (no torch, no code execution) and conversion to MindSpore names.

The files read here are written by real ``torch.save`` (zip and legacy formats) or crafted
opcode by opcode where torch cannot write the case (out-of-bounds strides, big-endian storages,
forbidden globals). The parity test at the end runs converted weights in the MindSpore estimator
on real COCO crops against the PyTorch reference network.
"""
import collections
import io
import os
import pickle
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import sbcore  # noqa: F401  (before mindspore: oneDNN ISA setting)
from sbcore.checkpoint import load_checkpoint

from sbplugins.utils.pth_reader import (PthFormatError, UnsafePickleError, load_state_dict,
                                        read_pth)
from sbplugins.utils.weight_conversion import (UnmappedWeightsError, convert_official,
                                               convert_torchvision, save_mindspore_checkpoint)

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # benchmarks/ is a repo folder, not an installed package
    sys.path.insert(0, str(REPO_ROOT))

torch = pytest.importorskip('torch')
from benchmarks import official_pipeline as official  # noqa: E402
from benchmarks.torch_simplebaseline import build_pose_resnet  # noqa: E402
TOOL = REPO_ROOT / 'tools' / 'convert_weights.py'
BOTH_FORMATS = pytest.mark.parametrize('zip_format', [True, False], ids=['zip', 'legacy'])


def torch_save(obj, path: Path, zip_format: bool) -> Path:
    torch.save(obj, path, _use_new_zipfile_serialization=zip_format)
    return path


# --- crafting pickles torch would not write ------------------------------------------------------
class Global:
    """Written as the pickle GLOBAL ``module.name`` (never resolved when writing)."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's save_reduce insists on a callable
        raise AssertionError('never called')


class Call:
    """Written as REDUCE of ``func`` on ``args``."""

    def __init__(self, func: Global, args: tuple):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class StorageRef:
    """Written as the persistent id torch's zip format uses for a storage."""

    def __init__(self, kind: str, key: str, numel: int):
        self.pid = ('storage', Global('torch', kind), key, 'cpu', numel)


class CraftingPickler(pickle._Pickler):  # the pure-Python pickler lets `save` be overridden
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, StorageRef) else None

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, Global):
            self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode())
            self.memoize(obj)
            return
        super().save(obj, save_persistent_id)


def crafted_pickle(obj) -> bytes:
    stream = io.BytesIO()
    CraftingPickler(stream, protocol=2).dump(obj)
    return stream.getvalue()


def rebuilt_tensor(storage: StorageRef, offset: int, size: tuple, stride: tuple) -> Call:
    return Call(Global('torch._utils', '_rebuild_tensor_v2'),
                (storage, offset, size, stride, False, collections.OrderedDict()))


def write_torch_zip(path: Path, pkl: bytes, storages: dict, byteorder: str = 'little') -> Path:
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('archive/data.pkl', pkl)
        archive.writestr('archive/byteorder', byteorder)
        for key, raw in storages.items():
            archive.writestr(f'archive/data/{key}', raw)
    return path


class WritesMarker:
    """Unpickling this runs a shell command creating ``marker``: the attack to refuse."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


# --- reader: real torch.save files ---------------------------------------------------------------
@BOTH_FORMATS
def test_reader_dtypes_views_and_offsets_match_torch(tmp_path, zip_format):
    gen = torch.Generator().manual_seed(0)
    base = torch.randn(5, 7, generator=gen)
    tensors = collections.OrderedDict(
        f32=torch.randn(2, 3, 4, generator=gen),
        f64=torch.randn(3, generator=gen, dtype=torch.float64),
        f16=torch.randn(4, 2, generator=gen).half(),
        bf16=torch.randn(6, generator=gen).bfloat16(),
        i64=torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4),
        i32=torch.arange(10, dtype=torch.int32),
        u8=torch.arange(250, 256, dtype=torch.uint8),
        i8=torch.tensor([-128, 0, 127], dtype=torch.int8),
        boolean=torch.tensor([True, False, True]),
        sliced=base[1:4, 2:6],           # storage offset + non-contiguous rows
        transposed=base.t(),             # permuted strides
        strided=base[::2, ::3],          # steps > 1
        scalar=torch.tensor(3.5),
        empty=torch.zeros(0, 4),
        param=torch.nn.Parameter(torch.randn(3, 3, generator=gen)),
    )
    path = torch_save(tensors, tmp_path / 'tensors.pth', zip_format)
    loaded = read_pth(path)
    assert list(loaded) == list(tensors)
    for name, tensor in tensors.items():
        expected = tensor.detach()
        expected = (expected.float() if expected.dtype == torch.bfloat16 else expected).numpy()
        got = loaded[name]
        assert got.dtype == expected.dtype, name
        assert got.shape == expected.shape, name
        assert got.flags['C_CONTIGUOUS'], name
        np.testing.assert_array_equal(got, expected, err_msg=name)


@BOTH_FORMATS
def test_reader_shared_storage_and_nested_containers(tmp_path, zip_format):
    weight = torch.randn(4, 4)
    obj = {'epoch': 7, 'perf': np.float64(0.704), 'name': 'r50', 'flags': [True, None],
           'pair': (weight, weight[2:]), 'nested': {'w': weight.t()}}
    loaded = read_pth(torch_save(obj, tmp_path / 'ckpt.pth', zip_format))
    assert loaded['epoch'] == 7 and loaded['name'] == 'r50' and loaded['flags'] == [True, None]
    assert loaded['perf'] == np.float64(0.704)
    np.testing.assert_array_equal(loaded['pair'][0], weight.numpy())
    np.testing.assert_array_equal(loaded['pair'][1], weight[2:].numpy())
    np.testing.assert_array_equal(loaded['nested']['w'], weight.t().numpy())


@BOTH_FORMATS
@pytest.mark.parametrize('wrapper', ['plain', 'module', 'state_dict', 'model'])
def test_load_state_dict_unwraps_and_strips_module_prefix(tmp_path, zip_format, wrapper):
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    state = net.state_dict()
    if wrapper == 'module':
        obj = torch.nn.DataParallel(net).state_dict()
        assert all(k.startswith('module.') for k in obj)
    elif wrapper == 'plain':
        obj = state
    else:
        obj = {wrapper: torch.nn.DataParallel(net).state_dict(), 'epoch': 3,
               'optimizer': {'state': {}, 'param_groups': [{'lr': 1e-3}]}}
    loaded = load_state_dict(torch_save(obj, tmp_path / 'sd.pth', zip_format))
    assert list(loaded) == list(state)
    for name in state:
        np.testing.assert_array_equal(loaded[name], state[name].numpy())


def test_reader_never_imports_torch(tmp_path):
    path = torch_save({'w': torch.ones(2)}, tmp_path / 'w.pth', True)
    code = ('import sys; from sbplugins.utils.pth_reader import load_state_dict; '
            f'assert load_state_dict({str(path)!r})["w"].sum() == 2; '
            'assert "torch" not in sys.modules, "torch was imported"')
    subprocess.run([sys.executable, '-c', code], check=True)


# --- reader: crafted files -----------------------------------------------------------------------
def test_reader_big_endian_zip_storage(tmp_path):
    values = np.arange(6, dtype=np.float32) * 1.5
    storage = StorageRef('FloatStorage', '0', 6)
    pkl = crafted_pickle({'w': rebuilt_tensor(storage, 1, (2, 2), (1, 3))})
    path = write_torch_zip(tmp_path / 'be.pth', pkl, {'0': values.astype('>f4').tobytes()}, 'big')
    # element [i, j] = values[1 + i*1 + j*3]
    np.testing.assert_array_equal(read_pth(path)['w'], np.array([[1, 4], [2, 5]]) * 1.5)


@pytest.mark.parametrize('offset, size, stride', [(0, (3, 3), (3, 1)), (5, (2,), (1,)),
                                                   (0, (2, 2), (1, 5))])
def test_reader_rejects_views_outside_their_storage(tmp_path, offset, size, stride):
    pkl = crafted_pickle({'w': rebuilt_tensor(StorageRef('FloatStorage', '0', 6), offset, size,
                                              stride)})
    path = write_torch_zip(tmp_path / 'oob.pth', pkl, {'0': np.zeros(6, np.float32).tobytes()})
    with pytest.raises(PthFormatError, match='storage of 6 elements'):
        read_pth(path)


def test_reader_rejects_missing_storage_and_non_checkpoints(tmp_path):
    pkl = crafted_pickle({'w': rebuilt_tensor(StorageRef('FloatStorage', '0', 2), 0, (2,), (1,))})
    with pytest.raises(PthFormatError, match='archive/data/0 is missing'):
        read_pth(write_torch_zip(tmp_path / 'missing.pth', pkl, {}))
    plain = tmp_path / 'plain.pkl'
    plain.write_bytes(pickle.dumps({'w': [1.0, 2.0]}))
    with pytest.raises(PthFormatError, match='not a PyTorch checkpoint'):
        read_pth(plain)
    with pytest.raises(PthFormatError, match='expected a state dict'):
        load_state_dict(torch_save([torch.ones(1)], tmp_path / 'list.pth', True))


# --- reader: malicious files ---------------------------------------------------------------------
@pytest.mark.parametrize('packing', ['torch_zip', 'torch_legacy', 'plain_pickle', 'crafted_zip'])
def test_malicious_pickle_is_refused_without_running(tmp_path, packing):
    marker = tmp_path / 'pwned'
    evil = WritesMarker(marker)
    path = tmp_path / f'evil_{packing}.pth'
    if packing == 'torch_zip':
        torch_save({'w': torch.ones(2), 'x': evil}, path, True)
    elif packing == 'torch_legacy':
        torch_save({'w': torch.ones(2), 'x': evil}, path, False)
    elif packing == 'plain_pickle':
        path.write_bytes(pickle.dumps(evil))
    else:
        write_torch_zip(path, pickle.dumps({'x': evil}, protocol=2), {})
    # the attack is real: an unrestricted unpickler would create the marker
    forbidden = f'{os.system.__module__}.system'
    with pytest.raises(UnsafePickleError) as info:
        read_pth(path)
    assert str(path) in str(info.value) and forbidden in str(info.value)
    assert not marker.exists()
    with pytest.raises(UnsafePickleError):
        load_state_dict(path)
    assert not marker.exists()


def test_the_malicious_payload_does_run_under_plain_pickle(tmp_path):
    """Guards the test above: its payload really executes when unpickled without restriction."""
    marker = tmp_path / 'pwned'
    pickle.loads(pickle.dumps(WritesMarker(marker)))
    assert marker.exists()


@pytest.mark.parametrize('module, name', [('builtins', 'eval'), ('builtins', 'getattr'),
                                          ('torch', 'load'), ('torch._utils', '_rebuild_qtensor'),
                                          ('numpy', 'load'), ('subprocess', 'Popen')])
def test_reader_refuses_any_global_outside_the_allowlist(tmp_path, module, name):
    pkl = crafted_pickle({'x': Call(Global(module, name), ('1',))})
    with pytest.raises(UnsafePickleError, match=re.escape(f'{module}.{name}')):
        read_pth(write_torch_zip(tmp_path / 'g.pth', pkl, {}))


def test_storage_types_cannot_be_called(tmp_path):
    pkl = crafted_pickle({'x': Call(Global('torch', 'FloatStorage'), (4,))})
    with pytest.raises(TypeError):
        read_pth(write_torch_zip(tmp_path / 's.pth', pkl, {}))


# --- conversion ----------------------------------------------------------------------------------
# Independent statement of the official layout: which torch modules are BatchNorms.
OFFICIAL_BN = re.compile(r'(^bn1|\.bn\d|\.downsample\.1|^deconv_layers\.[147])$')
MS_BN_LEAF = {'weight': 'gamma', 'bias': 'beta', 'running_mean': 'moving_mean',
              'running_var': 'moving_variance'}


def expected_mindspore_name(torch_name: str, prefix_for) -> str:
    module, leaf = torch_name.rsplit('.', 1)
    leaf = MS_BN_LEAF[leaf] if OFFICIAL_BN.search(module) else leaf
    return f'{prefix_for(module)}{module}.{leaf}'


def numpy_state(net) -> dict:
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


@pytest.mark.parametrize('depth', [18, 50])
def test_convert_official_names_values_and_layout(depth):
    state = numpy_state(build_pose_resnet(depth, num_joints=17))
    params = convert_official(state)

    def prefix_for(module):
        return 'head.' if module.startswith(('deconv_layers', 'final_layer')) else 'backbone.'

    kept = [k for k in state if not k.endswith('num_batches_tracked')]
    assert len(kept) < len(state)
    assert sorted(params) == sorted(expected_mindspore_name(k, prefix_for) for k in kept)
    for name in kept:
        got = params[expected_mindspore_name(name, prefix_for)]
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, state[name])  # layout kept, incl. (in,out,kh,kw)
    assert params['head.deconv_layers.0.weight'].shape == (512 * (4 if depth == 50 else 1),
                                                            256, 4, 4)
    assert params['head.deconv_layers.1.moving_variance'].shape == (256,)
    assert params['backbone.layer2.0.downsample.1.gamma'].shape[0] == (512 if depth == 50 else 128)


def test_convert_torchvision_drops_fc_and_head_is_unmapped():
    state = {k: v for k, v in numpy_state(build_pose_resnet(18)).items()
             if not k.startswith(('deconv_layers', 'final_layer'))}
    state['fc.weight'] = np.zeros((1000, 512), np.float32)
    state['fc.bias'] = np.zeros(1000, np.float32)
    params = convert_torchvision(state)
    kept = [k for k in state if not k.endswith('num_batches_tracked') and not k.startswith('fc.')]
    assert sorted(params) == sorted(expected_mindspore_name(k, lambda m: '') for k in kept)
    assert 'conv1.weight' in params and 'layer4.1.bn2.moving_mean' in params
    with pytest.raises(UnmappedWeightsError) as info:  # a pose checkpoint is not a torchvision one
        convert_torchvision(numpy_state(build_pose_resnet(18)))
    assert 'final_layer.weight' in info.value.names and 'deconv_layers.0.weight' in info.value.names


def test_convert_torchvision_fits_the_mindspore_backbone(tmp_path):
    """Names and shapes of a converted ImageNet ResNet are exactly the backbone's parameters,
    and the estimator's ``pretrained=`` loader takes the checkpoint."""
    from sbcore.registries import MODELS
    from sbplugins.estimators.topdown import load_backbone_checkpoint
    state = {k: v for k, v in numpy_state(build_pose_resnet(18)).items()
             if not k.startswith(('deconv_layers', 'final_layer'))}
    state['fc.weight'] = np.zeros((1000, 512), np.float32)
    params = convert_torchvision(state)
    backbone = MODELS.build(dict(type='ResNet', depth=18))
    shapes = {name: tuple(p.shape) for name, p in backbone.parameters_and_names()}
    assert {name: a.shape for name, a in params.items()} == shapes
    save_mindspore_checkpoint(params, tmp_path / 'r18_imagenet.ckpt')
    load_backbone_checkpoint(backbone, str(tmp_path / 'r18_imagenet.ckpt'))
    loaded = dict(backbone.parameters_and_names())
    for name, value in params.items():
        np.testing.assert_array_equal(loaded[name].asnumpy(), value, err_msg=name)


def test_convert_official_lists_every_unmapped_name():
    state = numpy_state(build_pose_resnet(18))
    state.update({'fc.weight': np.zeros(2), 'layer5.0.conv1.weight': np.zeros(2),
                  'final_layer.scale': np.zeros(2), 'bn1.momentum_buffer': np.zeros(2)})
    with pytest.raises(UnmappedWeightsError) as info:
        convert_official(state)
    assert info.value.names == sorted(['fc.weight', 'layer5.0.conv1.weight', 'final_layer.scale',
                                       'bn1.momentum_buffer'])
    assert 'layer5.0.conv1.weight' in str(info.value)


def test_save_mindspore_checkpoint_round_trip_atomic(tmp_path):
    import mindspore
    params = {'backbone.conv1.weight': np.random.default_rng(0).normal(size=(4, 3, 7, 7))
              .astype(np.float32), 'head.final_layer.bias': np.arange(17, dtype=np.float32)}
    dst = tmp_path / 'out' / 'weights.ckpt'
    save_mindspore_checkpoint(params, dst)
    assert sorted(os.listdir(dst.parent)) == ['weights.ckpt']  # no temporary file left
    loaded, meta = load_checkpoint(dst)  # checksums verified
    assert sorted(loaded) == sorted(params) and meta == dict(num_arrays=2)
    for name, value in params.items():
        np.testing.assert_array_equal(loaded[name], value)
    with pytest.raises(ValueError, match=r'weights\.bin.*must end with \.ckpt'):
        save_mindspore_checkpoint(params, tmp_path / 'weights.bin')


def run_tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True,
                          cwd=REPO_ROOT)


def test_tool_refuses_malicious_and_mismatched_files(tmp_path):
    marker = tmp_path / 'pwned'
    evil = torch_save({'conv1.weight': torch.ones(1), 'x': WritesMarker(marker)},
                      tmp_path / 'evil.pth', True)
    result = run_tool('--src', str(evil), '--dst', str(tmp_path / 'evil.ckpt'))
    assert result.returncode == 2 and 'refusing to unpickle global' in result.stderr
    assert not marker.exists() and not (tmp_path / 'evil.ckpt').exists()

    src = torch_save(build_pose_resnet(18, num_joints=16).state_dict(), tmp_path / 'r18.pth', True)
    result = run_tool('--src', str(src), '--dst', str(tmp_path / 'r18.ckpt'))
    assert result.returncode == 2 and '16 output channels, --num-joints is 17' in result.stderr
    assert not (tmp_path / 'r18.ckpt').exists()


# --- parity: converted official weights in the MindSpore estimator vs the PyTorch network --------
INPUT_W, INPUT_H = 192, 256
HEATMAP_W, HEATMAP_H = 48, 64
# The official input (reference doc, "Colour trap"): cv2 BGR, /255, ImageNet mean/std on B, G, R.
OFFICIAL_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
OFFICIAL_STD = np.array([0.229, 0.224, 0.225], np.float32)
MAX_PARITY_CROPS = 8
RELATIVE_TOLERANCE = 1e-4  # max |ms - torch| / max |torch| over all heatmaps


def official_center_scale(bbox, aspect_ratio: float = INPUT_W / INPUT_H):
    """Reference doc "Boxes": box centre, aspect fixed to 0.75, /200, x1.25."""
    x, y, w, h = bbox
    center = np.array([x + w * 0.5, y + h * 0.5], np.float32)
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    elif w < aspect_ratio * h:
        w = h * aspect_ratio
    return center, np.array([w / 200.0, h / 200.0], np.float32) * 1.25


def official_affine(center, scale, output_size=(INPUT_W, INPUT_H)) -> np.ndarray:
    """The official ``get_affine_transform`` without rotation: three float32 points."""
    src_w, (dst_w, dst_h) = scale[0] * 200.0, output_size
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0], src[1] = center, center + np.array([0, src_w * -0.5], np.float32)
    dst[0] = [dst_w * 0.5, dst_h * 0.5]
    dst[1] = dst[0] + np.array([0, dst_w * -0.5], np.float32)
    for pts in (src, dst):  # third point: the second rotated 90 degrees about the first
        direct = pts[0] - pts[1]
        pts[2] = pts[1] + np.array([-direct[1], direct[0]], np.float32)
    import cv2
    return cv2.getAffineTransform(src, dst)


def real_coco_crops(coco_sample) -> np.ndarray:
    """(N, 256, 192, 3) uint8 BGR crops of the annotated persons with keypoints."""
    import json
    import cv2
    with open(coco_sample['ann_file']) as f:
        coco = json.load(f)
    files = {img['id']: img['file_name'] for img in coco['images']}
    crops = []
    for ann in coco['annotations']:
        if ann['num_keypoints'] == 0 or len(crops) == MAX_PARITY_CROPS:
            continue
        img = cv2.imread(str(coco_sample['img_dir'] / files[ann['image_id']]), cv2.IMREAD_COLOR)
        assert img is not None, f'cannot read image {ann["image_id"]}'
        center, scale = official_center_scale(ann['bbox'])
        crops.append(cv2.warpAffine(img, official_affine(center, scale), (INPUT_W, INPUT_H),
                                    flags=cv2.INTER_LINEAR))
    assert len(crops) >= 4, 'expected at least 4 annotated persons in the COCO sample'
    return np.stack(crops)


def official_normalise(crops: np.ndarray) -> np.ndarray:
    """ToTensor + Normalize on the BGR crops: (N,H,W,3) uint8 -> (N,3,H,W) float32."""
    x = (crops.astype(np.float32) / 255.0 - OFFICIAL_MEAN) / OFFICIAL_STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def randomise_pose_resnet(net, images: np.ndarray, seed: int = 0) -> None:
    """Random weights everywhere and random, non-identity BN statistics that keep activations
    in a sane range: draw all weights, measure BN statistics on ``images``, then perturb them."""
    gen = torch.Generator().manual_seed(seed)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0, (2.0 / fan_in) ** 0.5, generator=gen)
                if module.bias is not None:
                    module.bias.normal_(0, 0.1, generator=gen)
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5, generator=gen)
            bn.bias.normal_(0, 0.2, generator=gen)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average: one pass gives the batch statistics
        net.train()
        net(torch.from_numpy(images))
        for bn in bns:
            bn.running_mean.add_(torch.randn(bn.num_features, generator=gen)
                                 * bn.running_var.sqrt() * 0.2)
            bn.running_var.mul_(torch.empty(bn.num_features).uniform_(0.5, 2.0, generator=gen))
            bn.momentum = 0.1
    net.eval()


def build_estimator():
    from sbcore.registries import MODELS
    cfg = dict(type='TopdownPoseEstimator',
               backbone=dict(type='ResNet', depth=50),
               head=dict(type='DeconvHead', in_channels=2048, out_channels=17),
               loss=dict(type='KeypointMSELoss', use_target_weight=True),
               codec=dict(type='MSRAHeatmap', input_size=(INPUT_W, INPUT_H),
                          heatmap_size=(HEATMAP_W, HEATMAP_H), sigma=2),
               # converted official weights: BGR input, ImageNet statistics in 0..255 units
               data_preprocessor=dict(mean=tuple(OFFICIAL_MEAN * 255),
                                      std=tuple(OFFICIAL_STD * 255), bgr_to_rgb=False),
               test_cfg=dict(flip_test=False))
    return MODELS.build(cfg)


def load_converted_checkpoint(net, ckpt_path: Path) -> None:
    """Load with names and shapes checked here: ``load_param_into_net``'s strict flag cannot be
    trusted (docs/mindspore-notes.md), so compare first and verify every value afterwards."""
    import mindspore
    checkpoint, _ = load_checkpoint(ckpt_path)  # checksums verified
    params = dict(net.parameters_and_names())
    missing = sorted(set(params) - set(checkpoint))
    unexpected = sorted(set(checkpoint) - set(params))
    misshaped = sorted(f'{name}: ckpt {tuple(checkpoint[name].shape)} vs net {tuple(p.shape)}'
                       for name, p in params.items()
                       if name in checkpoint and tuple(checkpoint[name].shape) != tuple(p.shape))
    assert not (missing or unexpected or misshaped), (
        f'converted checkpoint does not fit the estimator: missing {missing}, '
        f'unexpected {unexpected}, mis-shaped {misshaped}')
    mindspore.load_param_into_net(net, {k: mindspore.Parameter(mindspore.Tensor(v), name=k)
                                         for k, v in checkpoint.items()})
    not_loaded = [name for name, p in params.items()
                  if not np.array_equal(p.asnumpy(), checkpoint[name])]
    assert not not_loaded, (f'load_param_into_net left {len(not_loaded)} parameters unloaded: '
                            f'{not_loaded[:5]}')


@pytest.fixture(scope='module')
def parity_run(coco_sample, tmp_path_factory):
    """Random PoseResNet-50 -> torch.save -> tools/convert_weights.py -> MindSpore estimator;
    both networks run on the same real COCO crops."""
    try:
        estimator = build_estimator()
    except Exception as exc:  # loud: the parity test must not pass or vanish silently
        pytest.fail(f'cannot build the MindSpore TopdownPoseEstimator for the parity test: '
                    f'{type(exc).__name__}: {exc}')
    crops = real_coco_crops(coco_sample)
    torch_inputs = official_normalise(crops)
    net = build_pose_resnet(50, num_joints=17)
    randomise_pose_resnet(net, torch_inputs)
    work = tmp_path_factory.mktemp('parity')
    src, dst = work / 'pose_resnet_50_random.pth', work / 'pose_resnet_50_random.ckpt'
    torch.save(net.state_dict(), src)
    result = run_tool('--src', str(src), '--dst', str(dst), '--kind', 'official',
                      '--num-joints', '17')
    assert result.returncode == 0, f'convert_weights.py failed:\n{result.stdout}\n{result.stderr}'
    load_converted_checkpoint(estimator, dst)
    with torch.no_grad():
        torch_heatmaps = net(torch.from_numpy(torch_inputs)).numpy()
    ms_inputs = estimator.preprocess(crops)
    ms_heatmaps = estimator.predict_heatmaps(ms_inputs)
    return dict(estimator=estimator, torch_inputs=torch_inputs, ms_inputs=ms_inputs,
                torch_heatmaps=torch_heatmaps, ms_heatmaps=ms_heatmaps, tool_output=result.stdout)


def test_parity_preprocessing_matches_official_normalisation(parity_run):
    # same formula in 0..255 units: float32 rounding only
    np.testing.assert_allclose(parity_run['ms_inputs'], parity_run['torch_inputs'], rtol=0,
                               atol=1e-5)


def test_parity_heatmaps_on_real_coco_crops(parity_run):
    ms, ref = parity_run['ms_heatmaps'], parity_run['torch_heatmaps']
    assert ms.shape == ref.shape == (len(ref), 17, HEATMAP_H, HEATMAP_W)
    scale = float(np.abs(ref).max())
    assert scale > 1e-3 and float(ref.std()) > 1e-3 * scale, 'degenerate reference heatmaps'
    max_abs = float(np.abs(ms - ref).max())
    print(f'\nparity: {len(ref)} crops, max |torch| {scale:.4g}, max abs diff {max_abs:.3g}, '
          f'relative {max_abs / scale:.3g}')
    assert max_abs / scale < RELATIVE_TOLERANCE, (
        f'MindSpore vs PyTorch heatmaps: max abs diff {max_abs:.3g} is {max_abs / scale:.3g} of '
        f'the heatmap scale {scale:.3g}; tolerance {RELATIVE_TOLERANCE}')


def test_parity_decoded_keypoints(parity_run):
    codec = parity_run['estimator'].codec
    # the official decoding, restated once in benchmarks/official_pipeline.py
    ref_coords, ref_scores = official.get_final_preds(parity_run['torch_heatmaps'])
    # batch_decode answers in input-crop pixels: heatmap pixels x stride 4
    ref_coords = ref_coords * np.array([INPUT_W / HEATMAP_W, INPUT_H / HEATMAP_H])
    # the codec restates the reference rule exactly on identical heatmaps
    coords, scores = codec.batch_decode(parity_run['torch_heatmaps'])
    np.testing.assert_allclose(coords, ref_coords, rtol=0, atol=1e-5)
    np.testing.assert_allclose(scores, ref_scores, rtol=1e-6, atol=1e-7)
    # and the MindSpore heatmaps decode to the same keypoints as the PyTorch ones
    ms_coords, ms_scores = codec.batch_decode(parity_run['ms_heatmaps'])
    np.testing.assert_allclose(ms_coords, ref_coords, rtol=0, atol=1e-5)
    scale = float(np.abs(parity_run['torch_heatmaps']).max())
    np.testing.assert_allclose(ms_scores, ref_scores, rtol=0, atol=RELATIVE_TOLERANCE * scale)
