"""Which oneDNN kernel MindSpore gets per ISA setting, how long each takes, and its GFLOP/s.

    python benchmarks/onednn_profile.py --config configs/simple_baseline/coco/res50_256x192.py \
        --mode train --batch-size 8 --isa AVX2 AVX512_CORE AVX512_CORE_AMX ALL --json prof.json

It is also the re-check of ``sbcore.env``'s CPU fast path on a new CPU: at the end it names the
fastest ISA setting (and, with ``--threads``, thread count) measured and whether it is what
``sbcore.env`` chooses for this CPU.

Each ``--isa`` runs in its own process (oneDNN reads ``ONEDNN_MAX_CPU_ISA`` once) with
``ONEDNN_VERBOSE=profile_exec``; after ``--warmup`` untimed calls, ``--steps`` timed calls are
profiled. Per (primitive, implementation, direction): calls, milliseconds per step and, for
convolutions, GFLOP/s from the problem descriptor (2 x mb x oc x oh x ow x ic/g x kh x kw
multiply-adds for forward, backward-data and backward-weights alike). The achieved rate is set
against the fp32 peaks of the CPU at ``--clock-ghz``: AVX2 2 FMA x 8 lanes x 2 = 32 and AVX-512
2 x 16 x 2 = 64 flop per cycle per core (two FMA units, as on Xeon Sapphire Rapids).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[1]
DESCRIPTOR = re.compile(r'mb(\d+)_(?:g(\d+))?ic(\d+)oc(\d+)_(?:id\d+od\d+kd\d+sd\d+dd\d+pd\d+_)?'
                        r'ih(\d+)oh(\d+)kh(\d+)\D.*?iw(\d+)ow(\d+)kw(\d+)')


def conv_flops(descriptor: str) -> float:
    """2 x multiply-adds of one convolution call from its oneDNN problem descriptor."""
    m = DESCRIPTOR.search(descriptor)
    if not m:
        return 0.0
    mb, g, ic, oc, ih, oh, kh, iw, ow, kw = (int(v) if v else 1 for v in m.groups())
    return 2.0 * mb * oc * oh * ow * (ic // g) * kh * kw


def parse_verbose(text: str, steps: int) -> Dict[str, object]:
    rows: Dict[tuple, List[float]] = collections.defaultdict(lambda: [0, 0.0, 0.0])
    isa = next((line.split('isa:', 1)[1] for line in text.splitlines() if ',isa:' in line), '?')
    for line in text.split('PROFILE_START', 1)[-1].splitlines():
        if not line.startswith('onednn_verbose') or ',exec,' not in line:
            continue
        fields = line.split(',')
        i = fields.index('exec')
        kind, impl, prop = fields[i + 2], fields[i + 3], fields[i + 4]
        row = rows[(kind, impl, prop)]
        row[0] += 1
        row[1] += float(fields[-1])
        if kind in ('convolution', 'deconvolution'):
            row[2] += conv_flops(fields[-2])
    table = [dict(primitive=k[0], implementation=k[1], direction=k[2], calls_per_step=v[0] / steps,
                  ms_per_step=v[1] / steps,
                  gflop_per_s=(v[2] / (v[1] * 1e-3) / 1e9) if v[2] and v[1] else None)
             for k, v in sorted(rows.items(), key=lambda kv: -kv[1][1])]
    conv_ms = sum(v[1] for k, v in rows.items() if k[0] in ('convolution', 'deconvolution'))
    conv_flop = sum(v[2] for v in rows.values())
    return dict(onednn_isa=isa, kernels=table, onednn_ms_per_step=sum(v[1] for v in rows.values())
                / steps, conv_ms_per_step=conv_ms / steps, conv_gflop_per_step=conv_flop / steps / 1e9,
                conv_gflop_per_s=conv_flop / (conv_ms * 1e-3) / 1e9 if conv_ms else None)


def worker(args) -> None:
    """In the child: build, warm up, then print PROFILE_START and time ``--steps`` calls."""
    sys.path.insert(0, str(REPO_ROOT))
    from benchmarks import ms_steps
    ms_steps.apply_context(num_threads=args.num_threads)
    cfg = ms_steps.load_config(args.config, {'model.pretrained': None})
    if args.mode == 'train':
        fn = ms_steps.make_train_step(cfg, 'jit', args.batch_size)[0]
    else:
        fn = ms_steps.make_infer(cfg, args.batch_size, flip_test=False, variant='jit-construct')[0]
    for _ in range(args.warmup):
        fn()
    print('PROFILE_START', flush=True)
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    print('PROFILE_TIMES ' + json.dumps(times), flush=True)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config', default='configs/simple_baseline/coco/res50_256x192.py')
    p.add_argument('--mode', choices=['train', 'infer'], default='train')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--isa', nargs='+', default=['AVX2'],
                   help="ONEDNN_MAX_CPU_ISA values; 'ALL' is oneDNN's no-limit default")
    p.add_argument('--threads', type=int, nargs='*', default=[],
                   help='also time these MindSpore thread counts at the ISA sbcore.env chooses')
    p.add_argument('--num-threads', type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument('--steps', type=int, default=2)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--clock-ghz', type=float, default=2.1)
    p.add_argument('--cores', type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument('--timeout', type=int, default=1800, help='seconds per ISA process')
    p.add_argument('--json')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return {}
    peaks = {'AVX2': 32 * args.clock_ghz * args.cores, 'AVX-512': 64 * args.clock_ghz * args.cores}
    results = dict(config=args.config, mode=args.mode, batch_size=args.batch_size,
                   peak_gflop_per_s=peaks, load_before=os.getloadavg(), runs={})
    sys.path.insert(0, str(REPO_ROOT))
    from sbcore.env import choose_isa, read_cpu
    chosen = choose_isa(read_cpu()[1])[0] or 'ALL'
    results['cpu'] = read_cpu()[0]
    settings = [(isa, None) for isa in args.isa] + [(chosen, t) for t in args.threads]
    for isa, threads in settings:
        name = isa if threads is None else f'{isa}@threads={threads}'
        env = dict(os.environ, ONEDNN_MAX_CPU_ISA=isa, ONEDNN_VERBOSE='profile_exec',
                   PYTHONPATH=str(REPO_ROOT))
        cmd = [sys.executable, __file__, '--worker', '--config', args.config, '--mode', args.mode,
               '--batch-size', str(args.batch_size), '--steps', str(args.steps),
               '--warmup', str(args.warmup)] + (['--num-threads', str(threads)] if threads else [])
        try:
            proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                                  timeout=args.timeout)
        except subprocess.TimeoutExpired:
            results['runs'][name] = dict(error=f'over {args.timeout} s')
            print(f'{name}: over {args.timeout} s')
            continue
        times = re.search(r'PROFILE_TIMES (\[.*\])', proc.stdout)
        if proc.returncode != 0 or not times:
            results['runs'][name] = dict(error=proc.stderr[-1500:])
            print(f'{name}: failed\n{proc.stderr[-1500:]}')
            continue
        run = parse_verbose(proc.stdout, args.steps)
        run['step_s'] = sorted(json.loads(times.group(1)))[len(json.loads(times.group(1))) // 2]
        results['runs'][name] = run
        rate = run['conv_gflop_per_s'] or 0.0
        print(f'\n== ONEDNN_MAX_CPU_ISA={name}: oneDNN reports "{run["onednn_isa"]}"; '
              f'{args.mode} step {run["step_s"]:.3f} s (profiled), oneDNN {run["onednn_ms_per_step"]:.0f}'
              f' ms/step, convolutions {run["conv_gflop_per_step"]:.1f} GFLOP at {rate:.1f} GFLOP/s '
              f'= {rate / peaks["AVX2"]:.0%} of the AVX2 peak ({peaks["AVX2"]:.0f}), '
              f'{rate / peaks["AVX-512"]:.0%} of AVX-512 ({peaks["AVX-512"]:.0f})')
        for row in run['kernels'][:8]:
            g = f'{row["gflop_per_s"]:.1f} GFLOP/s' if row['gflop_per_s'] else ''
            print(f'  {row["ms_per_step"]:9.1f} ms/step {row["calls_per_step"]:5.0f}x  '
                  f'{row["primitive"]:<20} {row["implementation"]:<28} {row["direction"]:<18} {g}')
    timed = {n: r['step_s'] for n, r in results['runs'].items() if 'step_s' in r}
    if timed:
        best = min(timed, key=timed.get)
        results['fastest'], results['sbcore_env_choice'] = best, chosen
        same = best.split('@')[0] == chosen
        print(f'\nfastest here: {best} ({timed[best]:.3f} s); sbcore.env chooses '
              f'ONEDNN_MAX_CPU_ISA={chosen} for this CPU ({results["cpu"]}): '
              + ('confirmed' if same else 'NOT the fastest: update sbcore.env.choose_isa'))
    results['load_after'] = os.getloadavg()
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == '__main__':
    main()
