"""Map PyTorch SimpleBaseline / torchvision ResNet state dicts to sbpose's MindSpore names.

Official names -> estimator names:

- backbone (``conv1``, ``bn1``, ``layerN.M.{convK,bnK,downsample.0,downsample.1}``) ->
  ``backbone.<same name>``; head (``deconv_layers.*``, ``final_layer.*``) -> ``head.<same name>``;
- BatchNorm: weight->gamma, bias->beta, running_mean->moving_mean,
  running_var->moving_variance; ``num_batches_tracked`` is dropped (MindSpore keeps no counter);
- convolution weights keep their layout: MindSpore's ``Conv2d`` is (out, in, kh, kw) and its
  ``Conv2dTranspose`` is (in, out, kh, kw), both as in PyTorch.

A BatchNorm module is recognised by its ``running_mean`` entry, so the rule holds for every depth.
Names outside the known layout raise :class:`UnmappedWeightsError` listing them all.
"""
from __future__ import annotations

import os
import re
from typing import Dict, List, Optional

import numpy as np

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before mindspore is imported below)
from sbcore.errors import CheckpointError

__all__ = ['UnmappedWeightsError', 'BN_RENAMES', 'convert_official', 'convert_torchvision',
           'save_mindspore_checkpoint']

BN_RENAMES = {'weight': 'gamma', 'bias': 'beta', 'running_mean': 'moving_mean',
              'running_var': 'moving_variance'}
BN_DROPPED = 'num_batches_tracked'

# Module paths of the torchvision-layout ResNet used by both official and torchvision files.
BACKBONE_MODULE = re.compile(r'^(conv1|bn1|layer[1-4]\.\d+\.(conv\d|bn\d|downsample\.[01]))$')
HEAD_MODULE = re.compile(r'^(deconv_layers\.\d+|final_layer)$')
CLASSIFIER_MODULE = re.compile(r'^fc$')


class UnmappedWeightsError(CheckpointError, KeyError):
    """Some state-dict names fit no known layout; ``.names`` lists them."""

    def __init__(self, names: List[str], kind: str):
        self.names = sorted(names)
        shown = ', '.join(self.names[:20]) + (' ...' if len(self.names) > 20 else '')
        super().__init__(f'{len(self.names)} {kind} weight name(s) have no MindSpore mapping: '
                         f'{shown}')

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


def _split(name: str) -> tuple:
    module, _, leaf = name.rpartition('.')
    return module, leaf


def _mindspore_leaf(state: Dict[str, np.ndarray], name: str) -> Optional[str]:
    """The MindSpore leaf name for one PyTorch name (BN leaves renamed); None if unknown."""
    module, leaf = _split(name)
    if f'{module}.running_mean' in state:  # a BatchNorm module
        return BN_RENAMES.get(leaf)
    return leaf if leaf in ('weight', 'bias') else None


def _is_bn_counter(state: Dict[str, np.ndarray], name: str) -> bool:
    module, leaf = _split(name)
    return leaf == BN_DROPPED and f'{module}.running_mean' in state


def _as_param(array: np.ndarray) -> np.ndarray:
    """Floating weights become float32, the dtype of the estimator's parameters."""
    return np.ascontiguousarray(array, dtype=np.float32)


def _convert(state: Dict[str, np.ndarray], prefixes: Dict[re.Pattern, str],
             dropped: List[re.Pattern], kind: str) -> Dict[str, np.ndarray]:
    params, unmapped = {}, []
    for name, array in state.items():
        module, _ = _split(name)
        if _is_bn_counter(state, name) or any(p.match(module) for p in dropped):
            continue
        prefix = next((pre for pattern, pre in prefixes.items() if pattern.match(module)), None)
        new_leaf = _mindspore_leaf(state, name)
        if prefix is None or new_leaf is None:
            unmapped.append(name)
            continue
        params[f'{prefix}{module}.{new_leaf}'] = _as_param(array)
    if unmapped:
        raise UnmappedWeightsError(unmapped, kind)
    return params


def convert_official(state: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Official SimpleBaseline ``PoseResNet`` state dict -> estimator parameters.

    Args:
        state: ``{torch name: array}`` (``module.`` already stripped, see ``load_state_dict``).

    Returns:
        ``{'backbone.…' | 'head.…': float32 array}``, shapes unchanged.

    Raises:
        UnmappedWeightsError: listing every name outside the official layout.
    """
    return _convert(state, {BACKBONE_MODULE: 'backbone.', HEAD_MODULE: 'head.'}, [], 'official')


def convert_torchvision(state: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """torchvision ImageNet ResNet state dict -> backbone parameters (no prefix, ``fc`` dropped).

    For an estimator's ``pretrained=`` backbone init; names are the backbone's own.
    """
    return _convert(state, {BACKBONE_MODULE: ''}, [CLASSIFIER_MODULE], 'torchvision')


def save_mindspore_checkpoint(params: Dict[str, np.ndarray], path: os.PathLike) -> None:
    """Write ``params`` as a MindSpore checkpoint at ``path`` (``*.ckpt``), atomically and with
    per-array checksums (``sbcore.checkpoint.save_checkpoint``; the folder is created)."""
    from sbcore.checkpoint import save_checkpoint
    path = os.fspath(path)
    if not path.endswith('.ckpt'):  # mindspore.load_checkpoint refuses any other suffix
        raise CheckpointError(f'MindSpore checkpoint path {path!r} must end with .ckpt')
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    save_checkpoint(path, params, {})
