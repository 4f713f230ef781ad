"""One short GPU run: MindSpore on an NVIDIA GPU against PyTorch CUDA, and the loader's rate.

    python benchmarks/gpu_check.py [--install] [--batch-size 32] [--json gpu.json]

UNTESTED: no GPU machine has been available to the project yet (docs/benchmarks.md, "GPU").

1. Finds the GPU and its CUDA (``nvidia-smi``: driver and the highest CUDA it supports;
   ``nvcc --version`` if a toolkit is installed).
2. Checks ``mindspore`` can run on it (``mindspore.set_device('GPU')`` + ``run_check``). With
   ``--install`` and no working GPU build, installs one by the route below and checks again.
   Route (MindSpore 2.3+ ships one ``mindspore`` wheel; its GPU backend needs CUDA 11.6 or 11.8
   with cuDNN 8 on the library path; MindSpore 2.2's ``mindspore-gpu``-era wheels were built per
   CUDA 10.1/11.1/11.6): the wheel of the installed MindSpore version is tried first; if its GPU
   backend does not load, the script installs ``nvidia-cudnn-cu11`` and ``nvidia-cublas-cu11``
   from the package index and puts their ``lib`` folders on ``LD_LIBRARY_PATH`` (MindSpore loads
   CUDA libraries by name) before retrying in a fresh process.
3. Measures, ResNet-50 256x192, one process per contender (``benchmarks/compare_torch.py``'s
   workers, interleaved rounds): the training step (MindSpore compiled step vs PyTorch CUDA fp32
   and AMP) and inference throughput (MindSpore compiled vs PyTorch CUDA fp32/fp16), batch
   ``--batch-size``.
4. Measures the data loader's samples per second per CPU core on the real COCO sample
   (``tools/benchmark.py --mode data``) and prints how many cores feed the GPU's training rate.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHECK = ('import mindspore; mindspore.set_device("GPU"); mindspore.run_check(); '
         'import mindspore.ops as ops, numpy as np; '
         'print("GPU_OK", float(ops.ones((2, 2), mindspore.float32).sum()))')


def run(cmd, env=None, timeout=1800) -> subprocess.CompletedProcess:
    print('+', ' '.join(map(str, cmd)), flush=True)
    return subprocess.run(list(map(str, cmd)), cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def find_gpu() -> dict:
    if not shutil.which('nvidia-smi'):
        return {}
    proc = run(['nvidia-smi', '--query-gpu=name,driver_version,memory.total',
                '--format=csv,noheader'])
    header = run(['nvidia-smi']).stdout
    cuda = re.search(r'CUDA Version:\s*([0-9.]+)', header)
    nvcc = run(['nvcc', '--version']).stdout if shutil.which('nvcc') else ''
    toolkit = re.search(r'release ([0-9.]+)', nvcc)
    return dict(gpus=proc.stdout.strip().splitlines(), driver_cuda=cuda and cuda.group(1),
                toolkit_cuda=toolkit and toolkit.group(1))


def nvidia_lib_dirs() -> list:
    """``lib`` folders of the pip-installed NVIDIA runtime wheels (nvidia-*-cu11)."""
    import site
    dirs = []
    for base in site.getsitepackages():
        dirs += [str(p) for p in Path(base, 'nvidia').glob('*/lib') if p.is_dir()]
    return dirs


def mindspore_gpu_works(env) -> bool:
    proc = run([sys.executable, '-c', CHECK], env=env, timeout=600)
    print(proc.stdout[-1500:], proc.stderr[-1500:])
    return 'GPU_OK' in proc.stdout


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--install', action='store_true', help='install a GPU route if needed')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--json', default='work_dirs/gpu_check.json')
    args = p.parse_args(argv)
    gpu = find_gpu()
    if not gpu:
        print('no NVIDIA GPU (nvidia-smi not found): nothing to measure')
        return 1
    print('GPU:', gpu)
    env = dict(os.environ, SBCORE_DEVICE='GPU')
    ok = mindspore_gpu_works(env)
    if not ok and args.install:
        run([sys.executable, '-m', 'pip', 'install', 'nvidia-cudnn-cu11', 'nvidia-cublas-cu11',
             'nvidia-cuda-runtime-cu11', 'nvidia-cufft-cu11', 'nvidia-curand-cu11',
             'nvidia-cusolver-cu11', 'nvidia-cusparse-cu11'])
        env['LD_LIBRARY_PATH'] = os.pathsep.join(nvidia_lib_dirs() + [
            env.get('LD_LIBRARY_PATH', '')])
        ok = mindspore_gpu_works(env)
    results = dict(gpu=gpu, mindspore_gpu=ok)
    bench = [sys.executable, 'benchmarks/compare_torch.py', '--device', 'GPU',
             '--batch-size', args.batch_size, '--rounds', 3, '--iters', 5, '--warmup', 3]
    if ok:
        for mode in ('train', 'infer'):
            out = Path(args.json).with_name(f'gpu_{mode}.json')
            proc = run(bench + ['--mode', mode, '--json', out, '--torch-variants', 'default',
                                'default@amp=1', '--variants', 'jit'], env=env)
            print(proc.stdout[-3000:], proc.stderr[-2000:])
            results[mode] = json.loads(out.read_text()) if out.exists() else proc.stderr[-2000:]
    data_json = Path(args.json).with_name('gpu_data.json')
    proc = run([sys.executable, 'tools/benchmark.py', '--config',
                'configs/simple_baseline/coco/res50_256x192.py', '--mode', 'data',
                '--data-root', REPO_ROOT.parent / 'shared' / 'data' / 'coco_sample',
                '--data-samples', 400, '--json', data_json])
    if data_json.exists():
        data = json.loads(data_json.read_text())
        results['data_samples_per_s_per_core'] = data['data_samples_per_s_one_process']
        train = (results.get('train') or {}).get('contenders', {}) if ok else {}
        ms_rate = next((c['img_per_s'] for n, c in train.items() if n.startswith('mindspore')),
                       None)
        if ms_rate:
            results['cores_to_feed_gpu'] = ms_rate / data['data_samples_per_s_one_process']
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    print(json.dumps({k: v for k, v in results.items() if k not in ('train', 'infer')},
                     indent=2, default=str))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
