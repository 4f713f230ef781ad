"""Top-down pose estimator: backbone + heatmap head on person crops, with the flip test.

Parameter names are ``backbone.*`` and ``head.*`` (the loss holds no parameters).
"""
from __future__ import annotations

import logging
import os
from typing import Dict, Optional, Tuple

import numpy as np

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before MindSpore loads)
import mindspore
from mindspore import nn
from sbcore.checkpoint import load_weights
from sbcore.errors import ConfigError, MissingFileError
from sbcore.registries import MODELS
from sbplugins.registries import CODECS

from sbplugins.utils.geometry.affine import crop_to_image
from sbplugins.utils.geometry.flip import flip_heatmaps

logger = logging.getLogger(__name__)

DEFAULT_PREPROCESSOR = dict(mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375),
                            bgr_to_rgb=True)
DEFAULT_TEST_CFG = dict(flip_test=True, shift_heatmap=True)


# The torchvision ImageNet weights the official code starts from, per ResNet depth.
TORCHVISION_RESNET_FILES = {18: 'resnet18-5c106cde.pth', 34: 'resnet34-333f7ec4.pth',
                            50: 'resnet50-19c8e357.pth', 101: 'resnet101-5d3b4d8f.pth',
                            152: 'resnet152-b121ed2d.pth'}


def missing_pretrained_error(path: str, depth: Optional[int] = None) -> MissingFileError:
    """The one-line error for an absent ``pretrained`` file, with the command that makes it."""
    src = TORCHVISION_RESNET_FILES.get(depth, 'resnetN-xxxxxxxx.pth')
    return MissingFileError(
        f'pretrained backbone checkpoint {path} not found (model.pretrained); convert the '
        f'torchvision ImageNet weights with: python tools/convert_weights.py --kind torchvision '
        f'--src {src} --dst {path}  (or set model.pretrained=None to start from random weights)')


def load_backbone_checkpoint(backbone: nn.Cell, path: str) -> None:
    """Load a MindSpore checkpoint (names without ``backbone.``) into ``backbone`` with the
    engine's loader: missing or mis-shaped parameters are an error; unexpected ones (e.g. an
    ImageNet classifier ``fc.*``) are logged and skipped."""
    if not os.path.isfile(path):
        raise missing_pretrained_error(path, getattr(backbone, 'depth', None))
    _, skipped = load_weights(backbone, path, allow_unexpected=True)
    if skipped:
        logger.warning('pretrained checkpoint %s: ignoring %d unexpected parameter(s): %s',
                       path, len(skipped), ', '.join(skipped))
    logger.info('loaded backbone parameters from %s', path)


def head_with_in_channels(head: dict, backbone: nn.Cell) -> dict:
    """``head`` with ``in_channels`` set from the backbone's ``out_channels`` (the backbone
    contract, backbones/base.py); a hand-set value that disagrees is an error."""
    channels = getattr(backbone, 'out_channels', None)
    if not channels:
        raise ConfigError(f'TopdownPoseEstimator: backbone {type(backbone).__name__} has no '
                          f'out_channels (see sbplugins.backbones.base.BaseBackbone)')
    given = head.get('in_channels')
    if given is not None and given != channels[-1]:
        raise ConfigError(f'TopdownPoseEstimator: head.in_channels={given} but the backbone\'s '
                          f'last stage has {channels[-1]} channels; drop head.in_channels')
    return dict(head, in_channels=channels[-1])


class TopdownPoseEstimator(nn.Cell):
    """Heatmap pose estimator on fixed-size person crops.

    Args:
        backbone, head, loss: configs built with ``sbcore.registries.MODELS``; the head's
            ``in_channels`` comes from the backbone's ``out_channels``.
        codec: config built with ``sbplugins.registries.CODECS`` (decodes heatmaps).
        data_preprocessor: ``mean``/``std`` per channel in the order after the optional
            ``bgr_to_rgb`` conversion (reference doc, "Colour trap": converted official weights
            want ``bgr_to_rgb=False`` and BGR mean/std in 0..255 units).
        test_cfg: ``flip_test`` (average with the flipped input's heatmaps) and
            ``shift_heatmap`` (shift the flipped-back heatmaps right by one pixel, the official
            quirk kept as the default).
        pretrained: MindSpore checkpoint of backbone weights (e.g. converted ImageNet
            weights), loaded by :meth:`init_weights`, which the runner calls before training
            unless a checkpoint (``load_from``/``resume``) supplies every weight; evaluation
            and inference from a checkpoint therefore never read it.

    ``construct(inputs (N,3,H,W) float32)`` -> heatmaps (N,K,H/4,W/4) for the SimpleBaseline head.
    """

    loss_names = ('loss_kpt',)

    def __init__(self, backbone: dict, head: dict, loss: dict, codec: dict,
                 data_preprocessor: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None):
        super().__init__()
        self.backbone = MODELS.build(backbone)
        self.head = MODELS.build(head_with_in_channels(head, self.backbone))
        self.loss_module = MODELS.build(loss)
        self.codec = CODECS.build(codec)
        preprocessor = dict(DEFAULT_PREPROCESSOR, **(data_preprocessor or {}))
        unknown = sorted(set(preprocessor) - set(DEFAULT_PREPROCESSOR))
        if unknown:
            raise ConfigError(f'TopdownPoseEstimator: data_preprocessor keys {unknown} are not '
                              f'known; expected {sorted(DEFAULT_PREPROCESSOR)}')
        self.mean = np.asarray(preprocessor['mean'], np.float32).reshape(1, 1, 1, -1)
        self.std = np.asarray(preprocessor['std'], np.float32).reshape(1, 1, 1, -1)
        self.bgr_to_rgb = bool(preprocessor['bgr_to_rgb'])
        self.test_cfg = dict(DEFAULT_TEST_CFG, **(test_cfg or {}))
        self.dataset_meta: Dict = {}
        self.pretrained = pretrained

    def init_weights(self) -> None:
        """Load ``pretrained`` into the backbone (MMEngine's name for the initialisation that
        a checkpoint would replace); nothing to do without it."""
        if self.pretrained:
            load_backbone_checkpoint(self.backbone, self.pretrained)

    # network --------------------------------------------------------------------------------
    def construct(self, inputs: mindspore.Tensor) -> mindspore.Tensor:
        return self.head(self.backbone(inputs))

    def loss(self, inputs: mindspore.Tensor, heatmaps: mindspore.Tensor,
             keypoint_weights: mindspore.Tensor) -> Tuple[mindspore.Tensor]:
        """Training loss terms, one per ``loss_names``; plain enough for ``mindspore.jit``."""
        return (self.loss_module(self.head(self.backbone(inputs)), heatmaps, keypoint_weights),)

    # numpy side ------------------------------------------------------------------------------
    def preprocess(self, img: np.ndarray) -> np.ndarray:
        """(N,H,W,3) uint8 BGR -> (N,3,H,W) float32: optional BGR->RGB, then (x - mean) / std."""
        if img.ndim != 4 or img.shape[-1] != 3:
            raise ValueError(f'TopdownPoseEstimator.preprocess: img must be (N,H,W,3), '
                             f'got shape {img.shape}')
        x = img[..., ::-1] if self.bgr_to_rgb else img
        x = (x.astype(np.float32) - self.mean) / self.std
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def train_inputs(self, batch: Dict[str, np.ndarray]) -> Tuple[np.ndarray, ...]:
        """Batch -> (inputs (N,3,H,W), heatmaps (N,K,h,w), keypoint_weights (N,K)), float32."""
        return (self.preprocess(batch['img']),
                np.asarray(batch['heatmaps'], np.float32),
                np.asarray(batch['keypoint_weights'], np.float32))

    def run_network(self, inputs: np.ndarray) -> np.ndarray:
        """(N,3,H,W) normalised crops -> (N,K,h,w) heatmaps: the attached inference backend
        (``sbplugins.backends``; set by ``init_model(backend=...)``) or this cell."""
        backend = getattr(self, 'inference_backend', None)
        if backend is not None:
            return backend(inputs)
        return self(mindspore.Tensor(inputs)).asnumpy()

    def predict_heatmaps(self, inputs: np.ndarray) -> np.ndarray:
        """Normalised inputs (N,3,H,W) -> heatmaps (N,K,h,w), flip-averaged when ``flip_test``.

        Runs in inference mode (BN with running statistics) and restores the training flag.
        """
        was_training = self.training
        self.set_train(False)
        try:
            if not self.test_cfg['flip_test']:
                return self.run_network(inputs)
            flip_indices = self.dataset_meta.get('flip_indices') if self.dataset_meta else None
            if flip_indices is None:
                raise ValueError('TopdownPoseEstimator: test_cfg.flip_test=True needs '
                                 "dataset_meta['flip_indices'] (set by the runner from the "
                                 "dataset's metainfo); it is missing")
            # one forward pass over the crops and their mirror images (BN is in eval mode,
            # so batching them together changes nothing)
            both = np.concatenate([inputs, inputs[..., ::-1]], axis=0)
            heatmaps = self.run_network(np.ascontiguousarray(both))
            n = inputs.shape[0]
            flipped_back = flip_heatmaps(heatmaps[n:], flip_indices,
                                         shift=self.test_cfg['shift_heatmap'])
            return (heatmaps[:n] + flipped_back) * 0.5
        finally:
            self.set_train(was_training)

    def predict(self, batch: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
        """Batch with ``img`` (N,H,W,3) uint8 BGR crops, ``bbox_center`` (N,2), ``bbox_scale``
        (N,2) -> ``keypoints`` (N,K,2) image pixels and ``keypoint_scores`` (N,K), float32."""
        img = batch['img']
        inputs = self.preprocess(img)
        heatmaps = self.predict_heatmaps(inputs)
        keypoints, scores = self.codec.batch_decode(heatmaps)
        input_size = (img.shape[2], img.shape[1])  # (w, h)
        keypoints = crop_to_image(keypoints, np.asarray(batch['bbox_center']),
                                  np.asarray(batch['bbox_scale']), input_size)
        return dict(keypoints=np.asarray(keypoints, np.float32),
                    keypoint_scores=np.asarray(scores, np.float32))
