"""Per-instance time of ``MSRAHeatmap.encode`` beside the official target generation, side by side.

    python benchmarks/codec_encode.py [--repeats 2000]

Target: < 0.05 ms per instance of 17 joints (the official loop: ~0.21 ms). Prints both times and
the CPU; timings measured while other processes run are noisy.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.official_pipeline import generate_target  # noqa: E402
from sbplugins.codecs.msra_heatmap import MSRAHeatmap  # noqa: E402


def per_call_ms(fn, repeats: int) -> float:
    for _ in range(min(50, repeats)):
        fn()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1e3


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            return next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        return platform.machine()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--repeats', type=int, default=2000)
    args = p.parse_args(argv)
    codec = MSRAHeatmap()
    keypoints = np.random.default_rng(5).uniform(0, 190, (1, 17, 2))
    visible = np.ones((1, 17))
    ours = per_call_ms(lambda: codec.encode(keypoints, visible), args.repeats)
    joints = np.concatenate([keypoints[0], np.zeros((17, 1))], axis=1)
    official = per_call_ms(lambda: generate_target(joints, np.ones((17, 3)), np.array([192, 256]),
                                                   np.array([48, 64]), 2.0), max(1, args.repeats // 10))
    print(f'CPU: {cpu_name()}')
    print(f'MSRAHeatmap.encode, 1 instance x 17 joints: {ours:.4f} ms; official loop: '
          f'{official:.4f} ms ({official / ours:.1f}x)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
