"""Inference API: build a model from a config + checkpoint, and run it on an image and its boxes.

    model = init_model('configs/simple_baseline/coco/res50_256x192.py', 'sb_r50.ckpt')
    persons = inference_topdown(model, 'image.jpg', bboxes=np.array([[x, y, w, h], ...]))
    persons = inference_topdown(model, 'image.jpg')  # boxes from the config's ``detector``

The image and boxes go through the config's test-mode pipeline (GetBBoxCenterScale,
TopdownAffine, PackPoseInputs), so inference sees exactly the crops evaluation sees, and
``model.predict`` applies the flip test of ``model.test_cfg``.
"""
from __future__ import annotations

import os
import warnings
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before MindSpore loads)
import mindspore
from mindspore import nn
from sbcore.checkpoint import load_weights
from sbcore.config import Config
from sbcore.data import Compose
from sbcore.errors import ConfigError
from sbcore.registries import DATASETS, MODELS
from sbcore.train_step import compile_inference

from sbplugins.backends import build_backend
from sbplugins.datasets.dataset_info import build_metainfo
from sbplugins.detectors import build_detector
from sbplugins.transforms.loading import LoadImage

# Config keys searched, in order, for the inference pipeline and the dataset info.
_DATALOADER_KEYS = ('test_dataloader', 'val_dataloader', 'train_dataloader')


def _dataset_cfg(cfg: Config) -> Optional[dict]:
    """The first of the test/val/train dataset configs present in ``cfg`` (plain dict) or None."""
    for key in _DATALOADER_KEYS:
        loader = cfg.get(key)
        if loader and loader.get('dataset'):
            return dict(loader['dataset'])
    return None


def dataset_meta_from_config(cfg: Config) -> dict:
    """The dataset meta (``flip_indices``, skeleton, colours...) of the config's test dataset,
    read from its ``metainfo`` (or the dataset class's default dataset-info file) without
    building the dataset (no annotation file is read)."""
    ds = _dataset_cfg(cfg)
    if ds is None:
        raise KeyError(f'config {cfg.filename or "<dict>"}: none of {_DATALOADER_KEYS} has a '
                       f'"dataset"; the dataset info (keypoints, flip pairs) comes from there')
    metainfo = ds.get('metainfo')
    if metainfo is None:
        dataset_cls = DATASETS.get(ds['type'])
        default_file = getattr(dataset_cls, 'default_metainfo_file', None)
        if default_file is None:
            raise KeyError(f'config {cfg.filename or "<dict>"}: dataset {ds["type"]!r} has no '
                           f'"metainfo" and no default dataset-info file')
        metainfo = dict(from_file=default_file)
    return build_metainfo(dict(metainfo))


def load_model_weights(model: nn.Cell, path: str) -> dict:
    """Load a checkpoint's model weights into ``model``; returns the checkpoint's meta.

    Names and shapes are checked (missing, unexpected and mis-shaped parameters are one error
    naming the file); optimizer state is ignored. See ``sbcore.checkpoint.load_weights``.
    """
    return load_weights(model, path)[0]


def init_model(config: Union[str, Config], checkpoint: Optional[str] = None, device: str = 'CPU',
               cfg_options: Optional[Dict[str, Any]] = None, jit: bool = True,
               backend: str = 'mindspore', precision: Optional[str] = None,
               num_threads: Optional[int] = None, detector: Any = None) -> nn.Cell:
    """Build the config's model for inference, run by MindSpore or by an exported-model backend.

    Args:
        config: a config file path or a loaded ``Config``.
        checkpoint: a sbpose/MindSpore checkpoint of the whole model (``backbone.*``, ``head.*``);
            when given, the config's backbone ``pretrained`` file is not read (every weight comes
            from the checkpoint). None keeps the config's initialisation.
        device: MindSpore device target ('CPU', 'GPU', 'Ascend').
        cfg_options: ``{'a.b': value}`` overrides merged into the config first.
        jit: compile the forward pass with ``mindspore.jit`` (as the runner does; 1.4x faster
            than PyNative on CPU). False keeps it eager (``tools/export.py`` exports that).
        backend: a name in ``sbplugins.registries.INFERENCE_BACKENDS``: 'mindspore' (default;
            ``checkpoint`` is a ``.ckpt``), 'onnxruntime' or 'openvino' (``checkpoint`` is the
            ``.onnx`` of ``tools/export.py --format onnx``, exported without ``--flip-test``:
            the flip test stays in ``predict_heatmaps``). See ``sbplugins.backends``.
        precision: the backend's precision ('fp32'; OpenVINO also 'bf16'); None: its default.
        num_threads: backend threads (None: every CPU of the process).
        detector: the person detector ``inference_topdown`` uses when given no boxes: a detector
            config ``dict(type=...)`` or object; None takes the config's ``detector`` (if any).

    Returns:
        The model in eval mode, with ``dataset_meta`` from the config's dataset info, ``cfg``
        (the merged config, used by ``inference_topdown`` for the pipeline) and ``detector``
        (a ``sbplugins.detectors`` detector, or None).
    """
    cfg = Config.fromfile(config) if isinstance(config, (str, os.PathLike)) else config
    if not isinstance(cfg, Config):
        raise TypeError(f'init_model: config must be a file path or a Config, '
                        f'got {type(config).__name__}')
    cfg = Config(cfg.to_dict(), filename=cfg.filename)  # a copy: the caller's config is not edited
    cfg.merge_from_dict(cfg_options)
    if mindspore.get_context('device_target') != device:  # may be set once per process
        mindspore.set_device(device)
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model)
    exported = backend != 'mindspore'
    if exported and checkpoint is None:
        raise ConfigError(f'init_model: backend {backend!r} runs an exported model file; pass '
                          f'it as checkpoint (tools/export.py --format onnx writes one)')
    model = MODELS.build(model_cfg)
    if checkpoint is not None and not exported:  # every weight (checked): no pretrained read
        load_model_weights(model, checkpoint)
    elif checkpoint is None and callable(getattr(model, 'init_weights', None)):
        model.init_weights()
    model.set_train(False)
    model.dataset_meta = dataset_meta_from_config(cfg)
    model.cfg = cfg
    if detector is None and cfg.get('detector'):
        detector = cfg.detector.to_dict() if hasattr(cfg.detector, 'to_dict') else dict(cfg.detector)
    model.detector = build_detector(detector) if detector is not None else None
    if exported:  # the cell keeps preprocessing, flip test and decoding; the backend the network
        model.inference_backend = build_backend(backend, checkpoint, precision, num_threads)
        return model
    if jit:
        compile_inference(model)
    return model


def _inference_pipeline(cfg: Config) -> Compose:
    """The test dataset's pipeline; images are given in memory (LoadImage then only records the
    shape), so a pipeline without LoadImage gets one in front."""
    ds = _dataset_cfg(cfg)
    pipeline = list((ds or {}).get('pipeline') or [])
    if not pipeline:
        raise KeyError(f'config {cfg.filename or "<dict>"}: the test dataset has no pipeline')
    steps = [dict(step) if isinstance(step, dict) else step for step in pipeline]
    if not any(isinstance(s, dict) and s.get('type') == 'LoadImage' for s in steps):
        steps.insert(0, LoadImage())
    return Compose(steps)


def _read_image(image: Union[str, np.ndarray]) -> np.ndarray:
    if isinstance(image, (str, os.PathLike)):
        return LoadImage()(dict(img_path=image))['img']
    img = np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f'inference_topdown: image must be a path or an (H, W, 3) uint8 BGR '
                         f'array, got {img.dtype} of shape {img.shape}')
    return img


def _padded_batch_size(n: int, batch_size: int) -> int:
    """The next power of two >= n, capped at batch_size."""
    return min(batch_size, 1 << (n - 1).bit_length())


def inference_topdown(model: nn.Cell, image: Union[str, np.ndarray],
                      bboxes: Optional[np.ndarray] = None,
                      bbox_scores: Optional[Sequence[float]] = None,
                      batch_size: int = 16,
                      frame_info: Optional[dict] = None) -> List[Dict[str, Any]]:
    """Keypoints of the persons in ``bboxes`` (one top-down crop each).

    Args:
        model: a model from ``init_model`` (needs ``cfg`` and ``dataset_meta``).
        image: an image file or an (H, W, 3) uint8 BGR array.
        bboxes: (N, 4) xywh person boxes in image pixels; None: the boxes of ``model.detector``
            (the config's ``detector``), or, without one, the whole image as one box (with a
            warning).
        bbox_scores: (N,) detection scores (1.0 when None).
        frame_info: passed to the detector (``file_name``, ``frame_index``, ``image_id``), for
            detectors that look boxes up in a file.
        batch_size: crops per forward pass. A smaller last batch is padded to the next power of
            two, so a compiled model sees at most log2(batch_size) + 1 shapes (each compiles once).

    Returns:
        One dict per box, in box order: ``keypoints`` (K, 2) float32 image pixels,
        ``keypoint_scores`` (K,) float32 (heatmap maxima), ``bbox`` (4,) float32 xywh,
        ``bbox_score`` float.
    """
    if getattr(model, 'cfg', None) is None:
        raise AttributeError('inference_topdown: model has no "cfg"; build it with init_model')
    img = _read_image(image)
    height, width = img.shape[:2]
    if bboxes is None and getattr(model, 'detector', None) is not None:
        bboxes, bbox_scores = model.detector.detect(img, frame_info)
    elif bboxes is None:
        warnings.warn('inference_topdown: no boxes given and no "detector" in the config: the '
                      'whole image is taken as one person box', stacklevel=2)
        bboxes = np.array([[0, 0, width, height]], np.float32)
    bboxes = np.asarray(bboxes, np.float32)
    if bboxes.ndim != 2 or bboxes.shape[1] != 4:
        raise ValueError(f'inference_topdown: bboxes must be (N, 4) xywh, got shape {bboxes.shape}')
    scores = (np.ones(len(bboxes), np.float32) if bbox_scores is None
              else np.asarray(bbox_scores, np.float32).reshape(-1))
    if scores.shape[0] != bboxes.shape[0]:
        raise ValueError(f'inference_topdown: {bboxes.shape[0]} bboxes but {scores.shape[0]} '
                         f'bbox_scores')
    if len(bboxes) == 0:
        return []
    pipeline = _inference_pipeline(model.cfg)
    packed = [pipeline(dict(img=img, img_id=-1, bbox=box[None], bbox_score=score[None]))
              for box, score in zip(bboxes, scores)]
    keypoints, keypoint_scores = [], []
    for start in range(0, len(packed), batch_size):
        chunk = packed[start:start + batch_size]
        padded = chunk + [chunk[-1]] * (_padded_batch_size(len(chunk), batch_size) - len(chunk))
        batch = {key: np.stack([p[key] for p in padded]) for key in chunk[0]}
        pred = model.predict(batch)
        keypoints.append(pred['keypoints'][:len(chunk)])
        keypoint_scores.append(pred['keypoint_scores'][:len(chunk)])
    keypoints = np.concatenate(keypoints)
    keypoint_scores = np.concatenate(keypoint_scores)
    return [dict(keypoints=keypoints[i], keypoint_scores=keypoint_scores[i], bbox=bboxes[i].copy(),
                 bbox_score=float(scores[i])) for i in range(len(bboxes))]
