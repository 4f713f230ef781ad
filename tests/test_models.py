"""Network cells (ResNet, DeconvHead, KeypointMSELoss, TopdownPoseEstimator) against PyTorch and
numpy re-statements.

The PyTorch model below is written from the official SimpleBaseline layout (torchvision ResNet +
PoseResNet head), independently of sbplugins; weights are copied into the MindSpore cells by the
BN rename rule only, so a matching output also proves the names and weight layouts.
"""
import sbcore  # noqa: F401  (before mindspore: ONEDNN_MAX_CPU_ISA)

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as F

import mindspore
from mindspore import Tensor
from sbcore.registries import MODELS

from sbplugins.backbones.resnet import ResNet, symmetric_max_pool
from sbplugins.heads.deconv_head import DeconvHead
from sbplugins.losses.mse_loss import KeypointMSELoss

torch.set_num_threads(2)

MS_TO_TORCH_BN = {'gamma': 'weight', 'beta': 'bias', 'moving_mean': 'running_mean',
                  'moving_variance': 'running_var'}
STAGE_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3), 50: (3, 4, 6, 3), 101: (3, 4, 23, 3),
                152: (3, 8, 36, 3)}


# ---- independent re-statements --------------------------------------------------------------
def official_simplebaseline_names(depth=50, num_joints=17):
    """PyTorch state-dict names -> shapes of the official PoseResNet (torchvision layout)."""
    bottleneck = depth >= 50
    names = {}

    def bn(prefix, c):
        for suffix in ('weight', 'bias', 'running_mean', 'running_var'):
            names[f'{prefix}.{suffix}'] = (c,)

    names['conv1.weight'] = (64, 3, 7, 7)
    bn('bn1', 64)
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), STAGE_BLOCKS[depth])):
        out = planes * (4 if bottleneck else 1)
        for b in range(blocks):
            p = f'layer{stage + 1}.{b}'
            cin = inplanes if b == 0 else out
            if bottleneck:
                names[f'{p}.conv1.weight'] = (planes, cin, 1, 1)
                names[f'{p}.conv2.weight'] = (planes, planes, 3, 3)
                names[f'{p}.conv3.weight'] = (out, planes, 1, 1)
                bn(f'{p}.bn1', planes), bn(f'{p}.bn2', planes), bn(f'{p}.bn3', out)
            else:
                names[f'{p}.conv1.weight'] = (planes, cin, 3, 3)
                names[f'{p}.conv2.weight'] = (planes, planes, 3, 3)
                bn(f'{p}.bn1', planes), bn(f'{p}.bn2', planes)
            if b == 0 and (stage > 0 or cin != out):
                names[f'{p}.downsample.0.weight'] = (out, cin, 1, 1)
                bn(f'{p}.downsample.1', out)
        inplanes = out
    cin = inplanes
    for i in range(3):
        names[f'deconv_layers.{3 * i}.weight'] = (cin, 256, 4, 4)  # ConvTranspose: (in, out, k, k)
        bn(f'deconv_layers.{3 * i + 1}', 256)
        cin = 256
    names['final_layer.weight'] = (num_joints, 256, 1, 1)
    names['final_layer.bias'] = (num_joints,)
    return names


class TorchBlock(tnn.Module):
    def __init__(self, cin, planes, stride, bottleneck):
        super().__init__()
        out = planes * (4 if bottleneck else 1)
        self.bottleneck = bottleneck
        if bottleneck:
            self.conv1 = tnn.Conv2d(cin, planes, 1, bias=False)
            self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.conv3 = tnn.Conv2d(planes, out, 1, bias=False)
            self.bn3 = tnn.BatchNorm2d(out)
        else:
            self.conv1 = tnn.Conv2d(cin, planes, 3, stride, 1, bias=False)
            self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn1, self.bn2 = tnn.BatchNorm2d(planes), tnn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != out:
            self.downsample = tnn.Sequential(tnn.Conv2d(cin, out, 1, stride, bias=False),
                                             tnn.BatchNorm2d(out))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        if self.bottleneck:
            y = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(y)))))
        else:
            y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class TorchPoseResNet(tnn.Module):
    def __init__(self, depth, num_joints):
        super().__init__()
        bottleneck = depth >= 50
        self.conv1 = tnn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        cin = 64
        for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), STAGE_BLOCKS[depth])):
            layers = []
            for b in range(blocks):
                layers.append(TorchBlock(cin, planes, 2 if (b == 0 and stage > 0) else 1,
                                         bottleneck))
                cin = planes * (4 if bottleneck else 1)
            setattr(self, f'layer{stage + 1}', tnn.Sequential(*layers))
        deconv = []
        for _ in range(3):
            deconv += [tnn.ConvTranspose2d(cin, 256, 4, 2, 1, 0, bias=False),
                       tnn.BatchNorm2d(256), tnn.ReLU()]
            cin = 256
        self.deconv_layers = tnn.Sequential(*deconv)
        self.final_layer = tnn.Conv2d(256, num_joints, 1, 1, 0)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.final_layer(self.deconv_layers(x))


def torch_name(ms_name):
    """MindSpore name -> PyTorch name by the BN rename rule."""
    head, _, last = ms_name.rpartition('.')
    return f'{head}.{MS_TO_TORCH_BN.get(last, last)}'


def randomise_bn(module, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, tnn.BatchNorm2d):
            c = m.num_features
            m.weight.data = torch.rand(c, generator=g) + 0.5
            m.bias.data = torch.randn(c, generator=g) * 0.1
            m.running_mean.data = torch.randn(c, generator=g) * 0.1
            m.running_var.data = torch.rand(c, generator=g) + 0.5


def ms_params(cells):
    """Parameters of several top-level cells in one flat, unprefixed (PyTorch-style) namespace."""
    out = {}
    for cell in cells:
        out.update(dict(cell.parameters_and_names()))
    return out


def copy_torch_weights(torch_model, cells):
    state = torch_model.state_dict()
    for name, param in ms_params(cells).items():
        param.set_data(Tensor(state[torch_name(name)].detach().numpy().copy()))


def assert_close_rel(actual, expected, rel):
    err = np.abs(actual - expected).max()
    assert err <= rel * np.abs(expected).max(), (err, np.abs(expected).max())


def simplebaseline(depth, joints=17, **backbone_kwargs):
    backbone = ResNet(depth, **backbone_kwargs)
    return backbone, DeconvHead(backbone.out_channels, joints)


def n_trainable(cells):
    return sum(int(np.prod(p.shape)) for c in cells for p in c.trainable_params())


# ---- sizes and names ------------------------------------------------------------------------
@pytest.mark.parametrize('depth,millions', [(50, 34.0), (101, 53.0), (152, 68.6)])
def test_parameter_counts_match_reference_table(depth, millions):
    count = n_trainable(simplebaseline(depth))
    print(f'SimpleBaseline ResNet-{depth}, 17 joints: {count:,} parameters ({count / 1e6:.3f}M)')
    assert abs(count / 1e6 - millions) < 0.1  # table rounds to 0.1M


@pytest.mark.parametrize('size', [(256, 192), (384, 288)])
def test_output_shapes(size):
    backbone, head = simplebaseline(50)
    backbone.set_train(False), head.set_train(False)
    h, w = size
    features = backbone(Tensor(np.zeros((1, 3, h, w), np.float32)))
    assert features.shape == (1, 2048, h // 32, w // 32)
    assert head(features).shape == (1, 17, h // 4, w // 4)


def test_out_indices_give_every_stage():
    backbone = ResNet(18, out_indices=(0, 1, 2, 3))
    backbone.set_train(False)
    outs = backbone(Tensor(np.zeros((1, 3, 64, 64), np.float32)))
    assert [o.shape for o in outs] == [(1, 64, 16, 16), (1, 128, 8, 8), (1, 256, 4, 4),
                                       (1, 512, 2, 2)]


def test_parameter_names_and_shapes_are_the_official_ones():
    backbone, head = simplebaseline(50)
    ours = {torch_name(n): tuple(p.shape) for n, p in ms_params([backbone, head]).items()}
    expected = official_simplebaseline_names(50, 17)
    assert sorted(set(expected) - set(ours)) == []
    assert sorted(set(ours) - set(expected)) == []
    assert ours == expected
    # the torch re-statement has the same names too (minus the BN step counter)
    state = TorchPoseResNet(50, 17).state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()
            if not k.endswith('num_batches_tracked')} == expected


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match='depth=42'):
        ResNet(42)
    with pytest.raises(ValueError, match='out_indices'):
        ResNet(18, out_indices=(4,))
    with pytest.raises(ValueError, match='num_deconv_filters'):
        DeconvHead(512, 17, num_deconv_layers=2)


# ---- numerics against PyTorch ---------------------------------------------------------------
@pytest.mark.parametrize('shape', [(2, 3, 9, 7), (1, 2, 8, 6), (2, 4, 64, 48)])
def test_maxpool_pads_symmetrically_like_pytorch(shape):
    rng = np.random.default_rng(0)
    x = rng.normal(-5.0, 1.0, shape).astype(np.float32)  # all negative-ish:
    # a zero pad would win the max at the borders, a bottom/right-only pad would shift windows
    pool = symmetric_max_pool(3, 2, 1)
    ours = pool(Tensor(x)).asnumpy()
    tx = torch.from_numpy(x).requires_grad_(True)
    theirs = F.max_pool2d(tx, 3, 2, 1)
    np.testing.assert_array_equal(ours, theirs.detach().numpy())
    upstream = rng.standard_normal(theirs.shape).astype(np.float32)
    theirs.backward(torch.from_numpy(upstream))
    grad = mindspore.grad(lambda t: (pool(t) * Tensor(upstream)).sum())(Tensor(x)).asnumpy()
    np.testing.assert_array_equal(grad, tx.grad.numpy())


COMPILED_GRAD_CALLS = """
import sbcore
import numpy as np, mindspore as ms
from sbplugins.backbones.resnet import ResNet, symmetric_max_pool
net = ResNet(18, base_channels=8)
net.set_train(True)
def loss(x):
    out = net(x)
    out = out[-1] if isinstance(out, (tuple, list)) else out
    return (out * out).mean()
step = ms.jit(ms.value_and_grad(loss, None, net.trainable_params()))
x = ms.Tensor(np.random.default_rng(0).standard_normal((2, 3, 64, 48)).astype(np.float32))
for _ in range(40):
    value, _ = step(x)
    float(value.asnumpy())
print('done 40')
"""


def test_compiled_backbone_gradient_survives_many_calls(tmp_path):
    """Regression: ``ops.pad`` inside the compiled gradient hung on the 34th call (MindSpore 2.10
    CPU). Run in a subprocess so a hang fails the test instead of stalling the suite."""
    script = tmp_path / 'compiled_grad_calls.py'  # mindspore.jit needs a source file
    script.write_text(COMPILED_GRAD_CALLS)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'done 40' in result.stdout


@pytest.mark.parametrize('kernel', [4, 3, 2])
def test_deconv_doubles_size_like_pytorch(kernel):
    head = DeconvHead(8, 3, num_deconv_layers=1, num_deconv_filters=(5,),
                      num_deconv_kernels=(kernel,))
    padding, output_padding = {4: (1, 0), 3: (1, 1), 2: (0, 0)}[kernel]
    deconv = tnn.ConvTranspose2d(8, 5, kernel, 2, padding, output_padding, bias=False)
    head.deconv_layers[0].weight.set_data(Tensor(deconv.weight.detach().numpy().copy()))
    x = np.random.default_rng(1).normal(size=(2, 8, 5, 4)).astype(np.float32)
    ours = head.deconv_layers[0](Tensor(x)).asnumpy()
    expected = deconv(torch.from_numpy(x)).detach().numpy()
    assert ours.shape == (2, 5, 10, 8)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('depth', [18, 50])
def test_full_network_matches_pytorch(depth):
    """Random weights (BN statistics too) copied from a PyTorch re-statement; 64x48 input.


    Tolerance: max abs error <= 1e-4 x max |output| (float32 through ~20-50 layers).
    """
    torch.manual_seed(depth)
    reference = TorchPoseResNet(depth, 17)
    randomise_bn(reference, seed=depth)
    backbone, head = simplebaseline(depth)
    copy_torch_weights(reference, [backbone, head])
    x = np.random.default_rng(depth).normal(size=(2, 3, 64, 48)).astype(np.float32)

    reference.eval(), backbone.set_train(False), head.set_train(False)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    ours = head(backbone(Tensor(x))).asnumpy()
    # 48 is not a multiple of 32: widths 24 -> 12 -> 12, 6, 3, 2 exercise odd padded strides
    assert ours.shape == expected.shape == (2, 17, 16, 16)
    assert_close_rel(ours, expected, 1e-4)

    if depth == 18:  # batch-statistics BN too (training mode), and its running-statistics update
        reference.train(), backbone.set_train(True), head.set_train(True)
        with torch.no_grad():
            expected = reference(torch.from_numpy(x)).numpy()
        ours = head(backbone(Tensor(x))).asnumpy()
        assert_close_rel(ours, expected, 1e-4)
        state = reference.state_dict()
        for name, param in ms_params([backbone, head]).items():
            if 'moving_' in name:  # momentum 0.9 == PyTorch 0.1, unbiased batch variance
                np.testing.assert_allclose(param.asnumpy(), state[torch_name(name)].numpy(),
                                           rtol=1e-4, atol=1e-5, err_msg=name)


def test_head_init_follows_the_official_rule():
    head = DeconvHead(64, 17)
    for i in (0, 3, 6):
        w = head.deconv_layers[i].weight.asnumpy()
        assert abs(w.std() - 0.001) < 0.0001 and abs(w.mean()) < 0.0001
        assert (head.deconv_layers[i + 1].gamma.asnumpy() == 1).all()
        assert (head.deconv_layers[i + 1].beta.asnumpy() == 0).all()
    assert abs(head.final_layer.weight.asnumpy().std() - 0.001) < 0.0002
    assert (head.final_layer.bias.asnumpy() == 0).all()


# ---- loss -----------------------------------------------------------------------------------
def numpy_joints_mse(pred, gt, weight, factor=0.5):
    """Official JointsMSELoss: per joint, factor * MSE(pred * w, gt * w); averaged over joints."""
    b, k = pred.shape[:2]
    p, g = pred.reshape(b, k, -1), gt.reshape(b, k, -1)
    w = weight[:, :, None]
    per_joint = [factor * np.mean((p[:, j] * w[:, j] - g[:, j] * w[:, j]) ** 2) for j in range(k)]
    return np.mean(per_joint)


def test_loss_matches_official_formula():
    rng = np.random.default_rng(3)
    pred = rng.normal(size=(3, 5, 8, 6)).astype(np.float32)
    gt = rng.random((3, 5, 8, 6)).astype(np.float32)
    weight = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]], np.float32)
    weight[2, 0] = 0.5  # non-binary weights enter squared (w * (p - g))^2
    args = [Tensor(a) for a in (pred, gt, weight)]
    np.testing.assert_allclose(KeypointMSELoss()(*args).asnumpy(),
                               numpy_joints_mse(pred, gt, weight), rtol=1e-5)
    np.testing.assert_allclose(KeypointMSELoss(reduction_factor=1.0, loss_weight=2.0)(*args)
                               .asnumpy(), 2.0 * numpy_joints_mse(pred, gt, weight, 1.0),
                               rtol=1e-5)
    np.testing.assert_allclose(KeypointMSELoss(use_target_weight=False)(*args).asnumpy(),
                               numpy_joints_mse(pred, gt, np.ones_like(weight)), rtol=1e-5)


# ---- frozen stages / norm_eval --------------------------------------------------------------
def bn_statistics(cell):
    return {n: p.asnumpy().copy() for n, p in cell.parameters_and_names() if 'moving_' in n}


def test_frozen_stages_stop_gradients_and_statistics():
    backbone = ResNet(18, frozen_stages=1)
    frozen = [n for n, p in backbone.parameters_and_names()
              if not p.requires_grad and 'moving_' not in n]
    trainable = [n for n, p in backbone.parameters_and_names() if p.requires_grad]
    assert frozen and all(n.split('.')[0] in ('conv1', 'bn1', 'layer1') for n in frozen)
    assert {n.split('.')[0] for n in trainable} == {'layer2', 'layer3', 'layer4'}
    assert 'layer1.0.conv1.weight' in frozen and 'bn1.gamma' in frozen

    before = bn_statistics(backbone)
    backbone.set_train(True)
    x = np.random.default_rng(0).normal(2.0, 3.0, (2, 3, 64, 64)).astype(np.float32)
    backbone(Tensor(x))
    after = bn_statistics(backbone)
    for name in before:
        unchanged = np.array_equal(before[name], after[name])
        assert unchanged == (name.split('.')[0] in ('bn1', 'layer1')), name


def test_norm_eval_keeps_bn_in_inference_mode_when_training():
    backbone = ResNet(18, norm_eval=True)
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3, 64, 64)).astype(np.float32))
    backbone.set_train(False)
    eval_out = backbone(x).asnumpy()
    before = bn_statistics(backbone)
    backbone.set_train(True)
    train_out = backbone(x).asnumpy()
    np.testing.assert_array_equal(train_out, eval_out)
    assert all(np.array_equal(before[n], v) for n, v in bn_statistics(backbone).items())
    assert all(p.requires_grad for p in backbone.trainable_params())
    assert len(backbone.trainable_params()) == len([n for n, _ in backbone.parameters_and_names()
                                                    if 'moving_' not in n])


# ---- the top-down estimator -----------------------------------------------------------------
COCO_FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
INPUT_W, INPUT_H = 96, 128  # small crop, 0.75 aspect, multiples of 32 -> 24x32 heatmaps


def small_estimator(seed=0, **kwargs):
    mindspore.set_seed(seed)  # reproducible initial weights
    cfg = dict(type='TopdownPoseEstimator',
               backbone=dict(type='ResNet', depth=18),
               head=dict(type='DeconvHead', in_channels=512, out_channels=17),
               loss=dict(type='KeypointMSELoss', use_target_weight=True),
               codec=dict(type='MSRAHeatmap', input_size=(INPUT_W, INPUT_H),
                          heatmap_size=(INPUT_W // 4, INPUT_H // 4), sigma=2))
    cfg.update(kwargs)
    model = MODELS.build(cfg)
    model.dataset_meta = dict(flip_indices=COCO_FLIP_INDICES)
    return model


@pytest.fixture(scope='module')
def real_crops(coco_sample):
    """Two real person crops (2, 128, 96, 3) uint8 BGR from the COCO sample, with box geometry."""
    coco = json.loads(coco_sample['ann_file'].read_text())
    crops, centers, scales = [], [], []
    for ann in [a for a in coco['annotations'] if a['num_keypoints'] >= 15][:2]:
        img = cv2.imread(str(coco_sample['img_dir'] / f"{ann['image_id']:012d}.jpg"))
        x, y, w, h = (int(round(v)) for v in ann['bbox'])
        crops.append(cv2.resize(img[y:y + h, x:x + w], (INPUT_W, INPUT_H)))
        centers.append((x + w / 2, y + h / 2))
        scales.append((w / 200, h / 200))
    return dict(img=np.stack(crops), bbox_center=np.array(centers, np.float32),
                bbox_scale=np.array(scales, np.float32))


def sharpen_head(model, seed=0):
    """Larger final-layer weights than the N(0, 0.001) init, so heatmaps have distinct peaks."""
    w = model.head.final_layer.weight
    w.set_data(Tensor(np.random.default_rng(seed).normal(0, 0.05, w.shape).astype(np.float32)))


def test_estimator_names_and_forward_shape():
    model = small_estimator()
    names = [n for n, _ in model.parameters_and_names()]
    assert all(n.startswith(('backbone.', 'head.')) for n in names)
    assert {n[len('backbone.'):] for n in names if n.startswith('backbone.')} == \
        {n for n, _ in ResNet(18).parameters_and_names()}
    model.set_train(True)
    x = np.random.default_rng(0).normal(size=(2, 3, INPUT_H, INPUT_W)).astype(np.float32)
    no_flip = small_estimator(test_cfg=dict(flip_test=False))
    for (_, a), (_, b) in zip(no_flip.parameters_and_names(), model.parameters_and_names()):
        a.set_data(b.data.copy())
    heatmaps = no_flip.predict_heatmaps(x)  # inference mode inside, training flag restored
    assert model.training
    model.set_train(False)
    out = model(Tensor(x)).asnumpy()
    assert out.shape == heatmaps.shape == (2, 17, INPUT_H // 4, INPUT_W // 4)
    np.testing.assert_allclose(heatmaps, out, rtol=1e-6, atol=1e-9)


def test_preprocess_converts_colour_then_normalises():
    img = np.random.default_rng(0).integers(0, 256, (2, 4, 3, 3), dtype=np.uint8)
    mean, std = np.array([123.675, 116.28, 103.53]), np.array([58.395, 57.12, 57.375])
    rgb = small_estimator().preprocess(img)
    expected = ((img[..., ::-1] - mean) / std).transpose(0, 3, 1, 2)
    assert rgb.dtype == np.float32 and rgb.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(rgb, expected, rtol=1e-6, atol=1e-6)
    # converted official weights: BGR input, mean/std (0.485, 0.456, 0.406)/(0.229, ...) on B, G, R
    official = small_estimator(data_preprocessor=dict(
        mean=(0.485 * 255, 0.456 * 255, 0.406 * 255), std=(0.229 * 255, 0.224 * 255, 0.225 * 255),
        bgr_to_rgb=False))
    expected = ((img / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(official.preprocess(img), expected, rtol=1e-5, atol=1e-5)


def reference_flip_test(model, inputs, flip_indices, shift):
    """Reference rule restated: forward both, flip back (reverse W, swap joints), shift right
    one pixel keeping column 0, average."""
    model.set_train(False)
    plain = model(Tensor(inputs)).asnumpy()
    mirrored = model(Tensor(np.ascontiguousarray(inputs[..., ::-1]))).asnumpy()
    back = mirrored[:, flip_indices, :, ::-1]
    if shift:
        back = np.concatenate([back[..., :1], back[..., :-1]], axis=-1)
    return (plain + back) / 2


@pytest.mark.parametrize('shift', [True, False])
def test_flip_test_follows_the_reference_rule(real_crops, shift):
    model = small_estimator(test_cfg=dict(flip_test=True, shift_heatmap=shift))
    sharpen_head(model)
    inputs = model.preprocess(real_crops['img'])
    ours = model.predict_heatmaps(inputs)
    expected = reference_flip_test(model, inputs, COCO_FLIP_INDICES, shift)
    assert_close_rel(ours, expected, 1e-5)
    other = reference_flip_test(model, inputs, COCO_FLIP_INDICES, not shift)
    assert np.abs(ours - other).max() > 100 * np.abs(ours - expected).max()  # shift matters


def test_flip_test_on_a_mirror_symmetric_input_gives_mirrored_joints(real_crops):
    """A left-right symmetric crop, flip test without the shift: the averaged heatmaps are exactly
    mirror-symmetric (left joint = mirrored right partner), so each left joint is the mirror image
    of its right partner (same y and score, x mirrored about the crop's axis). The official
    shift then moves every flipped-back contribution one heatmap pixel right."""
    img = real_crops['img'][:1].copy()
    img[:, :, INPUT_W // 2:] = img[:, :, :INPUT_W // 2][:, :, ::-1]
    batch = dict(img=img, bbox_center=real_crops['bbox_center'][:1],
                 bbox_scale=real_crops['bbox_scale'][:1])
    model = small_estimator(test_cfg=dict(flip_test=True, shift_heatmap=False))
    sharpen_head(model, seed=1)
    partner = np.array(COCO_FLIP_INDICES)
    heatmaps = model.predict_heatmaps(model.preprocess(img))
    np.testing.assert_allclose(heatmaps, heatmaps[:, partner, :, ::-1], rtol=1e-6, atol=1e-9)

    pred = model.predict(batch)
    kpts, scores = pred['keypoints'][0], pred['keypoint_scores'][0]
    assert pred['keypoints'].shape == (1, 17, 2) and pred['keypoints'].dtype == np.float32
    assert pred['keypoint_scores'].shape == (1, 17)
    np.testing.assert_allclose(scores, scores[partner], rtol=1e-6)
    # image-space mirror axis: heatmap column x pairs with W_hm - 1 - x, i.e. the crop centre
    # minus half a heatmap pixel. The quarter-pixel refinement (of x and y) only happens for
    # 1 < px < W_hm - 1, a bound that is not mirror-symmetric, so only joints away from the
    # left/right border are compared.
    w_hm = INPUT_W // 4
    pixel = 200 * batch['bbox_scale'][0, 0] / w_hm  # image pixels per heatmap pixel
    center_x = batch['bbox_center'][0, 0]
    axis = center_x - pixel / 2
    x_hm = (kpts[:, 0] - center_x) / pixel + w_hm / 2
    away_from_border = (x_hm >= 2) & (x_hm <= w_hm - 3)
    # A self-paired joint (the nose) has a mirror-symmetric heatmap whose maximum is a tie
    # between two mirrored columns; the first (left) one wins, so it sits left of the axis.
    self_paired = partner == np.arange(17)
    assert (kpts[self_paired, 0] <= axis + 1e-3).all()
    pairs = away_from_border & away_from_border[partner] & ~self_paired
    assert pairs.sum() >= 4, x_hm
    np.testing.assert_allclose(kpts[pairs, 1], kpts[partner[pairs], 1], atol=1e-3)
    np.testing.assert_allclose((kpts[pairs, 0] + kpts[partner[pairs], 0]) / 2, axis, atol=1e-2)

    shifted = small_estimator(test_cfg=dict(flip_test=True, shift_heatmap=True))
    for (_, a), (_, b) in zip(shifted.parameters_and_names(), model.parameters_and_names()):
        a.set_data(b.data.copy())
    inputs = shifted.preprocess(img)
    expected = reference_flip_test(shifted, inputs, COCO_FLIP_INDICES, shift=True)
    assert_close_rel(shifted.predict_heatmaps(inputs), expected, 1e-5)


def test_flip_test_without_flip_indices_is_a_clear_error(real_crops):
    model = small_estimator()
    model.dataset_meta = {}
    with pytest.raises(ValueError, match='flip_indices'):
        model.predict(real_crops)


def training_batch(model, real_crops):
    """The real crops with targets encoded by the codec from fixed keypoints."""
    rng = np.random.default_rng(0)
    heatmaps, weights = [], []
    for _ in range(len(real_crops['img'])):
        keypoints = rng.uniform((8, 8), (INPUT_W - 8, INPUT_H - 8), (1, 17, 2))
        target = model.codec.encode(keypoints, np.ones((1, 17)))
        heatmaps.append(target['heatmaps'])
        weights.append(target['keypoint_weights'][0])
    return dict(img=real_crops['img'], heatmaps=np.stack(heatmaps),
                keypoint_weights=np.stack(weights))


def run_training(model, batch, steps, use_jit):
    # lr 1e-4: at 1e-3 the first Adam steps on a batch of two overshoot before settling
    optimizer = mindspore.nn.Adam(model.trainable_params(), learning_rate=1e-4)

    def objective(inputs, heatmaps, weights):
        return sum(model.loss(inputs, heatmaps, weights))

    grad_fn = mindspore.value_and_grad(objective, None, optimizer.parameters)

    def step(inputs, heatmaps, weights):
        loss, grads = grad_fn(inputs, heatmaps, weights)
        optimizer(grads)
        return loss

    step = mindspore.jit(step) if use_jit else step
    model.set_train(True)
    arrays = [Tensor(a) for a in model.train_inputs(batch)]
    return [float(step(*arrays).asnumpy()) for _ in range(steps)]


@pytest.mark.parametrize('use_jit', [False, True])
def test_training_steps_decrease_the_loss(real_crops, use_jit):
    model = small_estimator()
    batch = training_batch(model, real_crops)
    inputs, heatmaps, weights = model.train_inputs(batch)
    model.set_train(True)  # the first step's loss is the official formula on batch-statistics BN
    first = numpy_joints_mse(model(Tensor(inputs)).asnumpy(), heatmaps, weights)
    losses = run_training(model, batch, 5, use_jit)
    print('jit' if use_jit else 'pynative', 'losses', losses)
    assert all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0] and (np.diff(losses) < 0).all()
    np.testing.assert_allclose(losses[0], first, rtol=1e-4)
    assert model.loss_names == ('loss_kpt',)


def test_pretrained_backbone_is_loaded_with_a_name_and_shape_check(tmp_path):
    source = ResNet(18)
    params = [dict(name=n, data=p) for n, p in source.parameters_and_names()]
    good = tmp_path / 'r18.ckpt'
    mindspore.save_checkpoint(params + [dict(name='fc.weight', data=Tensor(np.ones((2, 2),
                                                                                 np.float32)))],
                              str(good))
    model = small_estimator(pretrained=str(good))
    model.init_weights()  # the runner calls it unless a checkpoint supplies every weight
    for name, param in source.parameters_and_names():
        np.testing.assert_array_equal(dict(model.parameters_and_names())['backbone.' + name]
                                      .asnumpy(), param.asnumpy())
    bad = tmp_path / 'r18_bad.ckpt'
    params[0] = dict(name='conv1.weight', data=Tensor(np.zeros((64, 1, 7, 7), np.float32)))
    mindspore.save_checkpoint(params[:-1], str(bad))
    with pytest.raises(ValueError, match=r'(?s)missing.*layer4.*mis-shaped.*conv1\.weight'):
        small_estimator(pretrained=str(bad)).init_weights()
