"""The MindSpore side of the benchmarks: the model from a config, step variants, a timer.

Shared by ``tools/benchmark.py`` (its modes: ``benchmarks/model_speed.py``, ``data_speed.py``,
``eval_speed.py``) and ``benchmarks/compare_torch.py`` (its workers: ``benchmarks/contenders.py``)
so both time exactly the same calls. Train variants (what ``--variant`` names):

- ``pynative``: ``sbcore.train_step.TrainStep(use_jit=False)``, eager kernels one by one.
- ``jit``: ``TrainStep(use_jit=True)``, the project's step (two compiled functions; the second
  applies the update only when loss and gradients are finite).
- ``jit-fused``: one ``mindspore.jit`` function computing the gradients and applying them
  (no finiteness check; what fusing the two halves buys).
"""
from __future__ import annotations

import os
import resource
import statistics
import time
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

import sbcore  # noqa: F401  (sets ONEDNN_MAX_CPU_ISA before mindspore loads)
import mindspore as ms
from sbcore.config import Config
from sbcore.registries import MODELS, OPTIMIZERS
from sbcore.train_step import TrainStep
from sbplugins.datasets.dataset_info import build_metainfo

TRAIN_VARIANTS = ('pynative', 'jit', 'jit-fused')
COCO_FLIP_INDICES = build_metainfo(dict(from_file='coco'))['flip_indices']  # the one COCO table


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MiB (Linux ``ru_maxrss`` is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def time_calls(fn: Callable[[], object], iters: int, warmup: int = 1) -> List[float]:
    """Seconds of each of ``iters`` calls of ``fn`` after ``warmup`` untimed calls.

    ``fn`` must block until its result is ready (call ``.asnumpy()`` on a MindSpore output).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def median(values: List[float]) -> float:
    return float(statistics.median(values)) if values else float('nan')


def apply_context(num_threads: Optional[int] = None, inter_op: Optional[int] = None,
                  graph_kernel: bool = False) -> Dict[str, object]:
    """Process-wide MindSpore settings under test; returns what was set (for the JSON)."""
    applied: Dict[str, object] = {}
    if num_threads:
        ms.set_context(runtime_num_threads=int(num_threads))
        applied['runtime_num_threads'] = int(num_threads)
    if inter_op:
        ms.set_context(inter_op_parallel_num=int(inter_op))
        applied['inter_op_parallel_num'] = int(inter_op)
    if graph_kernel:
        ms.set_context(enable_graph_kernel=True)
        applied['enable_graph_kernel'] = True
    applied['runtime_num_threads_now'] = ms.get_context('runtime_num_threads')
    applied['ONEDNN_MAX_CPU_ISA'] = os.environ.get('ONEDNN_MAX_CPU_ISA', '<unset>')
    applied['OMP_NUM_THREADS'] = os.environ.get('OMP_NUM_THREADS', '<unset>')
    return applied


def load_config(config: str, cfg_options: Optional[dict] = None) -> Config:
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_model(cfg: Config) -> ms.nn.Cell:
    """The config's estimator with random weights (``pretrained`` is dropped: speed only)."""
    model_cfg = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model)
    model_cfg['pretrained'] = None
    model = MODELS.build(model_cfg)
    num_joints = int(cfg.model.head.out_channels)  # the flip test needs some left/right pairing
    model.dataset_meta = dict(flip_indices=COCO_FLIP_INDICES if num_joints == 17
                              else list(range(num_joints)))
    return model


def input_geometry(cfg: Config) -> Tuple[int, int, int, int, int]:
    """``(width, height, heatmap_width, heatmap_height, num_joints)`` from the model's codec."""
    codec = cfg.model.codec
    (w, h), (hw, hh) = codec.input_size, codec.heatmap_size
    return int(w), int(h), int(hw), int(hh), int(cfg.model.head.out_channels)


def synthetic_batch(cfg: Config, batch_size: int, seed: int = 0) -> Tuple[np.ndarray, ...]:
    """``(inputs (N,3,H,W), heatmaps (N,K,h,w), keypoint_weights (N,K))`` float32, seeded."""
    w, h, hw, hh, k = input_geometry(cfg)
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((batch_size, 3, h, w), dtype=np.float32)
    heatmaps = rng.random((batch_size, k, hh, hw), dtype=np.float32)
    weights = np.ones((batch_size, k), np.float32)
    return inputs, heatmaps, weights


def build_optimizer(cfg: Config, model: ms.nn.Cell) -> ms.nn.Optimizer:
    opt_cfg = dict((cfg.get('optim_wrapper') or {}).get('optimizer') or dict(type='Adam', lr=1e-3))
    return OPTIMIZERS.build(opt_cfg, params=model.trainable_params())


def make_train_step(cfg: Config, variant: str, batch_size: int, jit_level: str = 'O0',
                    amp: Optional[str] = None) -> Tuple[Callable[[], float], ms.nn.Cell]:
    """A no-argument callable running one training step on a fixed batch; returns the loss.

    ``jit_level`` is passed to ``mindspore.jit`` (the context's ``jit_config`` does not reach
    functions compiled with ``mindspore.jit``, which carry their own level, 'O0' by default).
    ``amp``: ``mindspore.amp.auto_mixed_precision`` level (float16 compute), as the runner's
    ``optim_wrapper.amp`` does.
    """
    if variant not in TRAIN_VARIANTS:
        raise ValueError(f'train variant {variant!r} is not one of {TRAIN_VARIANTS}')
    model = build_model(cfg)
    model.set_train(True)
    if amp:
        ms.amp.auto_mixed_precision(model, amp)
    optimizer = build_optimizer(cfg, model)
    inputs = tuple(ms.Tensor(a) for a in synthetic_batch(cfg, batch_size))
    if variant in ('pynative', 'jit'):
        step = TrainStep(model, optimizer, use_jit=(variant == 'jit'), jit_level=jit_level)

        def run() -> float:
            return float(step(*inputs)[0].asnumpy())
        return run, model

    def forward(*args):
        return model.loss(*args)[0]

    value_and_grad = ms.value_and_grad(forward, None, optimizer.parameters)

    @ms.jit(jit_level=jit_level)
    def fused(*args):
        loss, grads = value_and_grad(*args)
        optimizer(grads)
        return loss

    def run_fused() -> float:
        return float(fused(*inputs).asnumpy())
    return run_fused, model


INFER_VARIANTS = ('pynative', 'jit', 'jit-construct')


def make_infer(cfg: Config, batch_size: int, flip_test: bool, variant: str = 'pynative'
               ) -> Tuple[Callable[[], np.ndarray], ms.nn.Cell]:
    """A no-argument callable: ``predict_heatmaps`` on a fixed normalised batch (eval-mode BN).

    ``variant``: ``pynative`` (the estimator as it is), ``jit`` (the process switched to graph
    mode, so calling the cell compiles ``construct``) or ``jit-construct`` (only this model's
    ``construct`` wrapped in ``mindspore.jit``, the process stays in PyNative mode).
    """
    if variant not in INFER_VARIANTS:
        raise ValueError(f'infer variant {variant!r} is not one of {INFER_VARIANTS}')
    if variant == 'jit':
        ms.set_context(mode=ms.GRAPH_MODE)
    model = build_model(cfg)
    if variant == 'jit-construct':
        model.construct = ms.jit(model.construct)
    model.test_cfg = dict(model.test_cfg, flip_test=flip_test)
    inputs = synthetic_batch(cfg, batch_size)[0]
    return (lambda: model.predict_heatmaps(inputs)), model


# exported-model backends ---------------------------------------------------------------------
BACKEND_VARIANTS = ('onnxruntime', 'openvino')


def export_onnx_file(config: str, cfg_options: Optional[dict], out_file: str) -> str:
    """The config's network with random weights exported to ``out_file`` (``.onnx``).

    In a subprocess: MindSpore's exporter works once per process (sbplugins.backends.onnx_export).
    """
    import json
    import subprocess
    import sys
    code = ('import json, sys; from benchmarks import ms_steps; '
            'from sbplugins.backends.onnx_export import export_onnx; '
            'cfg = ms_steps.load_config(sys.argv[1], json.loads(sys.argv[2])); '
            'model = ms_steps.build_model(cfg); model.set_train(False); '
            'print(json.dumps(export_onnx(model, sys.argv[3])))')
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [repo] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    proc = subprocess.run([sys.executable, '-c', code, config, json.dumps(cfg_options or {}),
                           out_file], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f'ONNX export of {config} failed:\n{proc.stderr[-2000:]}')
    return out_file


def make_backend_infer(cfg: Config, onnx_file: str, backend: str, batch_size: int,
                       flip_test: bool, precision: Optional[str] = None,
                       num_threads: Optional[int] = None) -> Tuple[Callable[[], np.ndarray], object]:
    """Like ``make_infer``, the network run by an exported-model backend (flip test in numpy
    around it, as ``init_model(backend=...)`` does)."""
    from sbplugins.backends import build_backend
    model = build_model(cfg)
    model.set_train(False)
    model.inference_backend = build_backend(backend, onnx_file, precision, num_threads)
    model.test_cfg = dict(model.test_cfg, flip_test=flip_test)
    inputs = synthetic_batch(cfg, batch_size)[0]
    return (lambda: model.predict_heatmaps(inputs)), model
