"""The process a run lives in, from ``env_cfg``, ``launcher`` and ``seed``: device, compilation,
threads, distributed init, seeds, and the run's logger with its first line saying what it chose."""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from logging import Logger

import mindspore as ms
import numpy as np

from . import dist
from .env import DEVICE_ENV, describe_env, num_threads
from .errors import check_keys, check_number
from .logging import get_logger

ENV_CFG_KEYS = {'device', 'jit', 'jit_inference', 'num_threads', 'sync_bn'}


@dataclass
class RunEnv:
    device: str
    use_jit: bool  # compile the training step
    jit_inference: bool  # compile the model's forward pass
    sync_bn: bool
    rank: int
    world_size: int
    seed: int
    logger: Logger


def set_threads(threads: int) -> None:
    """MindSpore's operator threads, through ``device_context`` (``set_context(runtime_num_threads)``
    prints a deprecation warning in MindSpore 2.10). It can be set once per process; a second run
    in the same process keeps the first setting."""
    from mindspore import device_context
    if ms.get_context('runtime_num_threads') == threads:
        return
    try:
        device_context.cpu.op_tuning.threads_num(threads)
    except RuntimeError as exc:
        if 'repeatedly' not in str(exc):
            raise


def setup_run_env(cfg, work_dir: str) -> RunEnv:
    env_cfg = dict(cfg.get('env_cfg') or {})
    check_keys('env_cfg', env_cfg, ENV_CFG_KEYS)
    device = env_cfg.get('device', os.environ.get(DEVICE_ENV, 'CPU'))
    dist.init_dist(cfg.get('launcher', 'none'))
    if ms.get_context('device_target') != device:  # may be set once per process
        ms.set_device(device)
    if device == 'CPU' or env_cfg.get('num_threads'):  # config > SBCORE_NUM_THREADS > CPUs
        set_threads(int(env_cfg.get('num_threads') or num_threads()))
    check_number('seed', cfg.get('seed', 0))
    seed = int(cfg.get('seed', 0))
    ms.set_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    if dist.is_main_process():
        os.makedirs(work_dir, exist_ok=True)
    # Training step and inference compiled (mindspore.jit) by default on every device: the
    # fastest measured settings (docs/benchmarks.md, "Defaults chosen"); False runs PyNative.
    env = RunEnv(device=device, use_jit=bool(env_cfg.get('jit', True)),
                 jit_inference=bool(env_cfg.get('jit_inference', True)),
                 sync_bn=bool(env_cfg.get('sync_bn', False)), rank=dist.get_rank(),
                 world_size=dist.get_world_size(), seed=seed,
                 logger=get_logger(work_dir, dist.get_rank()))
    env.logger.info(f'environment: device={device} '
                    f'training step={"compiled" if env.use_jit else "PyNative"} '
                    f'inference={"compiled" if env.jit_inference else "PyNative"} '
                    f'runtime_num_threads={ms.get_context("runtime_num_threads")} '
                    f'ONEDNN_MAX_CPU_ISA={os.environ.get("ONEDNN_MAX_CPU_ISA", "<unset>")} '
                    f'world_size={env.world_size} rank={env.rank} seed={seed}'
                    + (f' | {describe_env()}' if device == 'CPU' else ''))
    return env
