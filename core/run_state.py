"""The run's state in a checkpoint: model weights, optimizer state, loop counters, random state.

``save`` and ``load`` are what ``Runner.save_checkpoint``/``load_checkpoint`` do; the file format
(atomic, validated) is ``checkpoint.py``.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import mindspore as ms
import numpy as np

from . import checkpoint as ckpt_io
from . import dist
from .errors import CheckpointError


def optimizer_state(model, optimizer) -> Dict[str, ms.Parameter]:
    """The optimizer's own parameters (moments, step, lr), named ``optimizer.<name>``."""
    if optimizer is None:
        return {}
    model_ids = {id(p) for p in model.get_parameters()}
    return {f'{ckpt_io.OPTIMIZER_PREFIX}{n}': p for n, p in optimizer.parameters_and_names()
            if id(p) not in model_ids}


def save(runner, path: Union[str, Path]) -> None:
    """Weights, optimizer state and run state to ``path``; every rank calls, rank 0 writes."""
    if not dist.is_main_process():
        return
    params = dict(runner.model.parameters_and_names(),
                  **optimizer_state(runner.model, runner.optimizer))
    np_state, py_state = np.random.get_state(), random.getstate()
    meta = dict(epoch=runner.epoch, iter=runner.iter, seed=runner.seed,
                numpy_random_state=[np_state[0], np_state[1].tolist(), *np_state[2:]],
                python_random_state=[py_state[0], list(py_state[1]), py_state[2]])
    checkpoint = dict(meta=meta)
    runner.call_hook('before_save_checkpoint', checkpoint=checkpoint)
    ckpt_io.save_checkpoint(path, {n: p.asnumpy() for n, p in params.items()}, checkpoint['meta'])
    runner.logger.info(f'saved checkpoint {path}')


def load(runner, path: Union[str, Path], resume: bool = False) -> dict:
    """Weights only (``resume=False``) or the full training state; returns the meta."""
    if not resume:
        meta, _ = ckpt_io.load_weights(runner.model, path)
        runner.logger.info(f'loaded weights from {path}')
        return meta
    arrays, meta = ckpt_io.load_checkpoint(path)
    if 'epoch' not in meta or 'iter' not in meta:  # meta may hold only num_arrays
        raise CheckpointError(f'checkpoint {path} has no run state to resume from '
                              f'(use load_from for weights only)')
    params = dict(runner.model.parameters_and_names(),
                  **optimizer_state(runner.model, runner.optimizer))
    ckpt_io.assign_state(params, arrays, str(path))
    runner.train_loop.restore(meta['epoch'], meta['iter'])
    if 'numpy_random_state' in meta:
        s = meta['numpy_random_state']
        np.random.set_state((s[0], np.array(s[1], dtype=np.uint32), *s[2:]))
    if 'python_random_state' in meta:
        s = meta['python_random_state']
        random.setstate((s[0], tuple(s[1]), s[2]))
    runner.call_hook('after_load_checkpoint', checkpoint=dict(meta=meta))
    runner.logger.info(f'resumed from {path} at epoch {runner.epoch}, iteration {runner.iter}')
    return meta


def checkpoint_to_load(runner) -> Tuple[Optional[Union[str, Path]], bool]:
    """``(path, resume)`` of the checkpoint a run starts from: ``resume`` (a path, or the newest
    loadable checkpoint of the work dir), else ``load_from``; ``(None, False)`` when neither."""
    resume = runner.cfg.get('resume', False)
    if resume:
        path = resume if isinstance(resume, str) else ckpt_io.find_latest_checkpoint(
            runner.work_dir, log=runner.logger.warning)
        if path is not None:
            return path, True
        runner.logger.info(f'resume: no checkpoint in {runner.work_dir}; starting from scratch')
    return runner.cfg.get('load_from') or None, False


def init_weights(runner, checkpoint: Optional[Union[str, Path]]) -> None:
    """The model's own initialisation (``model.init_weights()``, e.g. a pretrained backbone
    file), unless ``checkpoint`` will supply every weight: loading checks that it holds every
    parameter, so the ``pretrained`` file is then neither required nor read."""
    if checkpoint is not None:
        runner.logger.info(f'weights come from {checkpoint}; the model\'s own initialisation '
                           f'(e.g. a pretrained file) is skipped')
    elif callable(getattr(runner.model, 'init_weights', None)):
        runner.model.init_weights()
