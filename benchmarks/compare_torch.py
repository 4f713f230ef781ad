"""MindSpore vs the PyTorch reference, same model and input, measured interleaved in one run.

    python benchmarks/compare_torch.py --config configs/simple_baseline/coco/res50_256x192.py \
        --mode train --batch-size 16 --rounds 5 --iters 2 --variants jit pynative

Each contender runs in its own worker process (so each keeps its own oneDNN ISA setting and thread
pools, and one framework's idle threads never run while the other is timed); the parent holds
them all built and warmed up, then asks them in turn for ``--iters`` timed calls, ``--rounds``
times. Alternating this way lets the ratio survive load from other processes on the machine:
each contender sees the same background. Reported: median seconds per call, images per second,
ratio to PyTorch, peak resident memory of each worker, the load average before and after.

PyTorch runs with its own defaults (the worker sets ``ONEDNN_MAX_CPU_ISA=ALL``, oneDNN's no-limit value, instead of the project's AVX2 cap
unless ``--torch-isa`` sets one) and ``torch.set_num_threads(--threads)``; MindSpore workers get
``runtime_num_threads=--threads`` unless ``--ms-threads`` says otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

REPO_ROOT = Path(__file__).resolve().parents[1]


# workers (benchmarks/contenders.py builds and times them) ------------------------------------
class Worker:
    """One contender in its own process, driven line by line over stdin/stdout."""

    def __init__(self, name: str, spec: dict, env: Dict[str, str]):
        self.name, self.spec = name, spec
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), '--worker',
                                      json.dumps(spec)], cwd=str(REPO_ROOT), env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.times: List[float] = []
        self.info: dict = {}

    def _reply(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f'benchmark worker {self.name} exited with code '
                                   f'{self.proc.wait()} (see its stderr above)')
            if line.startswith('{'):  # frameworks may print their own lines
                return json.loads(line)

    def wait_ready(self) -> None:
        self.info.update(self._reply())

    def run(self, iters: int) -> None:
        self.proc.stdin.write(f'{iters}\n')
        self.proc.stdin.flush()
        self.times += self._reply()['times']

    def close(self) -> None:
        self.proc.stdin.write('quit\n')
        self.proc.stdin.flush()
        self.info.update(self._reply())
        self.proc.wait()


def worker_env(framework: str, args: argparse.Namespace) -> Dict[str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    if framework in ('torch', 'backend'):
        # their own oneDNN/MLAS, without MindSpore's cap: 'ALL' is oneDNN's "no limit", and a
        # set value keeps sbcore (imported by the worker for its helpers) from capping at AVX2.
        # (Before this, PyTorch workers ran capped at AVX2: bf16 fell to a reference kernel.)
        env['ONEDNN_MAX_CPU_ISA'] = 'ALL'
        if args.torch_isa:
            env['ONEDNN_MAX_CPU_ISA'] = args.torch_isa
    if args.omp_threads:
        env['OMP_NUM_THREADS'] = str(args.omp_threads)
    return env


# parent --------------------------------------------------------------------------------------
def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--config', default='configs/simple_baseline/coco/res50_256x192.py')
    p.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE')
    p.add_argument('--mode', choices=['train', 'infer', 'infer-flip'], default='train')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--rounds', type=int, default=5, help='alternations of the contenders')
    p.add_argument('--device', choices=['CPU', 'GPU'], default='CPU',
                   help='GPU: PyTorch on CUDA and MindSpore on GPU (benchmarks/gpu_check.py)')
    p.add_argument('--iters', type=int, default=2, help='timed calls per contender per round')
    p.add_argument('--warmup', type=int, default=2, help='untimed calls (compilation) first')
    p.add_argument('--threads', type=int, default=os.cpu_count())
    p.add_argument('--ms-threads', type=int, default=None,
                   help='MindSpore runtime_num_threads (default: --threads; 0 = leave unset)')
    p.add_argument('--variants', nargs='+', default=['jit'],
                   help='MindSpore contenders: a variant (train: pynative, jit, jit-fused; infer: '
                        'pynative, jit, jit-construct) optionally '
                        'with @key=value settings, e.g. jit@jit_level=O1 or pynative@ms_threads=1')
    p.add_argument('--omp-threads', type=int, default=None, help='OMP_NUM_THREADS of the workers')
    p.add_argument('--torch-isa', default=None, help='ONEDNN_MAX_CPU_ISA for the PyTorch worker')
    p.add_argument('--torch-variants', nargs='+', default=['default'],
                   help='PyTorch contenders: default, optionally with @threads=N, @isa=AVX2 '
                        '(ONEDNN_MAX_CPU_ISA), @omp_wait=PASSIVE (OMP_WAIT_POLICY), @bf16=1 '
                        '(CPU autocast to bfloat16), @amp=1 (fp16 autocast, CUDA) or '
                        '@channels_last=1; the first is the reference of the ratios')
    p.add_argument('--backends', nargs='*', default=[],
                   help='exported-model contenders (inference modes): onnxruntime, openvino, '
                        'optionally with @precision=bf16, e.g. openvino@precision=bf16; the '
                        'network is exported once to ONNX (random weights) for all of them')
    p.add_argument('--no-torch', action='store_true')
    p.add_argument('--json', help='write the results here')
    p.add_argument('--worker', help=argparse.SUPPRESS)
    return p.parse_args(argv)


def parse_torch_variant(text: str, args: argparse.Namespace) -> Tuple[dict, Dict[str, str]]:
    """``default@threads=1@omp_wait=PASSIVE`` -> (spec updates, environment of the worker)."""
    name, *settings = text.split('@')
    if name != 'default':
        raise ValueError(f'--torch-variants {text!r}: must start with "default"')
    env, spec = worker_env('torch', args), {}
    for s in settings:
        key, _, value = s.partition('=')
        if key == 'threads':
            spec['threads'] = int(value)
        elif key == 'isa':
            env['ONEDNN_MAX_CPU_ISA'] = value
        elif key == 'omp_wait':
            env['OMP_WAIT_POLICY'] = value
        elif key in ('bf16', 'channels_last', 'amp'):
            spec[key] = bool(int(value))
        else:
            raise ValueError(f'--torch-variants {text!r}: unknown setting {key!r}; known: '
                             f'threads, isa, omp_wait, bf16, channels_last, amp')
    return spec, env


def parse_variant(text: str) -> dict:
    """``jit@jit_level=O1@ms_threads=2`` -> ``dict(variant='jit', jit_level='O1', ms_threads=2)``."""
    name, *settings = text.split('@')
    out = dict(variant=name)
    for s in settings:
        key, _, value = s.partition('=')
        if key not in ('jit_level', 'amp', 'ms_threads', 'inter_op', 'graph_kernel'):
            raise ValueError(f'--variants {text!r}: unknown setting {key!r}; known: jit_level, '
                             f'amp, ms_threads, inter_op, graph_kernel')
        out[key] = value if key in ('jit_level', 'amp') else int(value)
    return out


def model_geometry(config: str, cfg_options: dict) -> dict:
    """Depth, joints and sizes from the config, without importing MindSpore in the parent."""
    sys.path.insert(0, str(REPO_ROOT))
    from sbcore.config import Config
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return dict(depth=int(cfg.model.backbone.depth), num_joints=int(cfg.model.head.out_channels),
                input_size=list(cfg.model.codec.input_size),
                heatmap_size=list(cfg.model.codec.heatmap_size),
                torch_comparable=(tuple(cfg.model.head.get('num_deconv_filters', (256,) * 3))
                                  == (256, 256, 256)))


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.worker:
        from benchmarks.contenders import worker_main
        worker_main(json.loads(args.worker))
        return {}
    sys.path.insert(0, str(REPO_ROOT))
    from sbcore.config import parse_value
    options = {k: parse_value(v) for k, v in (kv.split('=', 1) for kv in args.cfg_options)}
    geometry = model_geometry(args.config, options)
    base = dict(config=args.config, cfg_options=options, mode=args.mode, device=args.device,
                batch_size=args.batch_size, threads=args.threads, warmup=args.warmup, **geometry)
    ms_threads = args.threads if args.ms_threads is None else args.ms_threads
    contenders, envs = {}, {}
    if not args.no_torch:
        if not geometry['torch_comparable']:
            raise ValueError('the PyTorch reference has 256-filter deconvolutions; this config '
                             'differs (use --no-torch)')
        for text in args.torch_variants:
            spec, envs[f'torch:{text}'] = parse_torch_variant(text, args)
            contenders[f'torch:{text}'] = {**base, 'framework': 'torch', **spec}
    for text in args.variants:
        contenders[f'mindspore:{text}'] = {**base, 'framework': 'mindspore',
                                            'ms_threads': ms_threads, **parse_variant(text)}
        envs[f'mindspore:{text}'] = worker_env('mindspore', args)
    if args.backends:
        if args.mode == 'train':
            raise ValueError('--backends are inference contenders (--mode infer or infer-flip)')
        import tempfile
        from benchmarks.ms_steps import export_onnx_file
        onnx_file = export_onnx_file(args.config, options,
                                     str(Path(tempfile.mkdtemp(prefix='sbpose_bench_')) /
                                         'model.onnx'))
        for text in args.backends:
            name, *settings = text.split('@')
            spec = dict(variant=name, onnx_file=onnx_file)
            for setting in settings:
                key, _, value = setting.partition('=')
                if key != 'precision':
                    raise ValueError(f'--backends {text!r}: unknown setting {key!r}; known: '
                                     f'precision')
                spec['precision'] = value
            contenders[f'backend:{text}'] = {**base, 'framework': 'backend', **spec}
            envs[f'backend:{text}'] = worker_env('backend', args)
    load_before = os.getloadavg()
    workers = []
    for name, spec in contenders.items():  # built one after the other: compiling is CPU-bound
        worker = Worker(name, spec, envs[name])
        worker.wait_ready()
        workers.append(worker)
    for _ in range(args.rounds):
        for worker in workers:
            worker.run(args.iters)
    for worker in workers:
        worker.close()
    from benchmarks.ms_steps import median
    results = dict(mode=args.mode, batch_size=args.batch_size, threads=args.threads,
                   config=args.config, load_before=load_before, load_after=os.getloadavg(),
                   contenders={})
    torch_times = [median(w.times) for w in workers if w.spec['framework'] == 'torch']
    torch_s = torch_times[0] if torch_times else None  # the first PyTorch variant
    best_torch_s = min(torch_times) if torch_times else None  # PyTorch at its best setting
    images = args.batch_size
    print(f'{args.mode}, batch {args.batch_size}, {args.threads} threads, '
          f'load {load_before[0]:.2f} -> {results["load_after"][0]:.2f}')
    print(f'{"contender":<44} {"s/call":>8} {"img/s":>8} {"vs torch":>9} {"vs best":>8} '
          f'{"peak MB":>8} {"warmup s":>8}')
    for worker in workers:
        s = median(worker.times)
        ratio = torch_s / s if torch_s else float('nan')
        best_ratio = best_torch_s / s if best_torch_s else float('nan')
        results['contenders'][worker.name] = dict(
            median_s=s, img_per_s=images / s, throughput_vs_torch=ratio,
            throughput_vs_best_torch=best_ratio, times=worker.times,
            peak_rss_mb=worker.info.get('peak_rss_mb'), warmup_s=worker.info.get('warmup_s'))
        print(f'{worker.name:<44} {s:>8.3f} {images / s:>8.2f} {ratio:>9.2f} {best_ratio:>8.2f} '
              f'{worker.info.get("peak_rss_mb", 0):>8.0f} {worker.info.get("warmup_s", 0):>8.1f}')
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == '__main__':
    if '--worker' in sys.argv:
        sys.path.insert(0, str(REPO_ROOT))
    main()
