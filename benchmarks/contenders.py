"""The contenders of ``benchmarks/compare_torch.py``, each built and timed in its own worker process.

A worker (``compare_torch.py --worker SPEC``) builds one contender from its spec (a JSON dict:
``framework`` torch, mindspore or backend, the model geometry, mode, batch size, threads and the
variant's settings): the PyTorch reference (``benchmarks/torch_simplebaseline.py``), a MindSpore
step or inference variant (``benchmarks/ms_steps.py``) or an exported-model backend on the ONNX
file of the same network; then warms it up and answers the parent's requests for timed calls over
stdin/stdout (``worker_main``). Frameworks are imported inside the builders, so a PyTorch worker
loads no MindSpore network and the other way round.
"""
from __future__ import annotations

import json
import sys
import time
from typing import Callable


def _torch_callable(spec: dict) -> Callable[[], object]:
    import numpy as np
    import torch

    from benchmarks.torch_simplebaseline import build_pose_resnet

    torch.set_num_threads(int(spec['threads']))
    torch.manual_seed(0)
    model = build_pose_resnet(spec['depth'], num_joints=spec['num_joints'])
    n, (w, h), (hw, hh), k = spec['batch_size'], spec['input_size'], spec['heatmap_size'], \
        spec['num_joints']
    rng = np.random.default_rng(0)
    inputs = torch.from_numpy(rng.standard_normal((n, 3, h, w), dtype=np.float32))
    device = 'cuda' if spec.get('device') == 'GPU' else 'cpu'
    model, inputs = model.to(device), inputs.to(device)
    memory_format = torch.channels_last if spec.get('channels_last') else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    inputs = inputs.contiguous(memory_format=memory_format)
    # bf16: CPU autocast (convolutions and matmuls in bf16, AMX/AVX512-BF16 where present)
    # amp: fp16 autocast on CUDA
    dtype = torch.float16 if spec.get('amp') else torch.bfloat16
    autocast = (lambda: torch.autocast(device, dtype=dtype)) \
        if spec.get('bf16') or spec.get('amp') else (lambda: __import__('contextlib').nullcontext())
    if spec['mode'] == 'train':
        heatmaps = torch.from_numpy(rng.random((n, k, hh, hw), dtype=np.float32)).to(device)
        weights = torch.ones(n, k, 1, 1, device=device)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()

        def step() -> float:
            optimizer.zero_grad(set_to_none=True)
            with autocast():
                out = model(inputs).float()
            loss = 0.5 * ((weights * (out - heatmaps)) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss.item()
        return step
    model.eval()
    flip = spec['mode'] == 'infer-flip'
    both = torch.cat([inputs, inputs.flip(-1)]) if flip else inputs
    both = both.contiguous(memory_format=memory_format)

    def infer():
        with torch.inference_mode(), autocast():
            return model(both).float().cpu().numpy()
    return infer


def _backend_callable(spec: dict) -> Callable[[], object]:
    """An exported-model backend (ONNX Runtime, OpenVINO) on the ONNX file of the same network."""
    from benchmarks import ms_steps
    cfg = ms_steps.load_config(spec['config'], spec.get('cfg_options'))
    return ms_steps.make_backend_infer(cfg, spec['onnx_file'], spec['variant'],
                                       spec['batch_size'], flip_test=spec['mode'] == 'infer-flip',
                                       precision=spec.get('precision'),
                                       num_threads=spec['threads'])[0]


def _ms_callable(spec: dict) -> Callable[[], object]:
    from benchmarks import ms_steps
    if spec.get('device') == 'GPU':
        import mindspore
        mindspore.set_device('GPU')
    ms_steps.apply_context(num_threads=spec.get('ms_threads'), inter_op=spec.get('inter_op'),
                           graph_kernel=spec.get('graph_kernel'))
    cfg = ms_steps.load_config(spec['config'], spec.get('cfg_options'))
    if spec['mode'] == 'train':
        return ms_steps.make_train_step(cfg, spec['variant'], spec['batch_size'],
                                        jit_level=spec.get('jit_level') or 'O0',
                                        amp=spec.get('amp'))[0]
    return ms_steps.make_infer(cfg, spec['batch_size'], flip_test=spec['mode'] == 'infer-flip',
                               variant=spec['variant'])[0]


def worker_main(spec: dict) -> None:
    """Build, warm up, then answer ``<n>`` lines with n timings and ``quit`` with peak memory."""
    from benchmarks.ms_steps import peak_rss_mb
    fn = dict(torch=_torch_callable, mindspore=_ms_callable,
              backend=_backend_callable)[spec['framework']](spec)
    start = time.perf_counter()
    for _ in range(spec['warmup']):
        fn()
    print(json.dumps(dict(ready=True, warmup_s=time.perf_counter() - start)), flush=True)
    for line in sys.stdin:
        if line.strip() == 'quit':
            break
        times = []
        for _ in range(int(line)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        print(json.dumps(dict(times=times)), flush=True)
    print(json.dumps(dict(peak_rss_mb=peak_rss_mb())), flush=True)
