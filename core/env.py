"""Process environment that must be set before MindSpore is imported: the CPU fast path (and,
on launched ranks other than 0, MindSpore's log level: ``dist.quiet_other_ranks``).

MindSpore 2.10's CPU convolutions go through oneDNN with plain NCHW tensors and weights. On a CPU
with AVX-512, oneDNN's AVX-512 convolutions refuse plain weights and fall to its reference kernel;
capping oneDNN at AVX2 selects its GEMM convolution instead. Measured on both CPUs the project's
machine kind came with (docs/benchmarks.md, "CPU fast path"):

- AMD EPYC (AVX-512, avx512_bf16): AVX-512 about 40x slower than AVX2.
- Intel Xeon, Sapphire Rapids class, 2.1 GHz (AVX-512, AMX-BF16): ResNet-18 main-job model,
  inference batch 32: AVX512_CORE 22.5 s, AVX512_CORE_AMX 17.0 s, no cap 19.2 s, AVX2 0.35 s.

So the choice follows what the CPU offers: AVX-512 present -> cap at AVX2; AVX2 at most -> leave
oneDNN's default (already the widest ISA it has). Threads: one MindSpore runtime thread per CPU
the process may run on (its affinity mask, which is what a container or ``taskset`` grants;
``os.cpu_count()`` counts the host). The user's own ``ONEDNN_MAX_CPU_ISA`` or
``SBCORE_NUM_THREADS`` wins; ``benchmarks/onednn_profile.py`` re-checks the choice on a new CPU.
"""
from __future__ import annotations

import os
import sys
from typing import Dict, FrozenSet, Optional, Tuple

DEVICE_ENV = 'SBCORE_DEVICE'
ISA_ENV = 'ONEDNN_MAX_CPU_ISA'
THREADS_ENV = 'SBCORE_NUM_THREADS'
CPUINFO = '/proc/cpuinfo'

# The choice of this process (filled by setup_env), for the run's first log line.
_CHOICE: Dict[str, str] = {}


def read_cpu(path: str = CPUINFO) -> Tuple[str, FrozenSet[str]]:
    """``(model name, flags)`` of the first CPU in ``/proc/cpuinfo``; ('unknown', {}) elsewhere."""
    name, flags = 'unknown', frozenset()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'model name' and name == 'unknown':
                    name = value.strip()
                elif key == 'flags' and not flags:
                    flags = frozenset(value.split())
                if name != 'unknown' and flags:
                    break
    except OSError:
        pass
    return name, flags


def cpu_threads() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def choose_isa(flags: FrozenSet[str]) -> Tuple[Optional[str], str]:
    """``(ONEDNN_MAX_CPU_ISA value or None to leave unset, why)`` for a CPU with ``flags``."""
    if 'avx512f' in flags:
        return 'AVX2', ('AVX-512 CPU: MindSpore 2.10 hands oneDNN plain weights, its AVX-512 '
                        'convolutions fall to the reference kernel (40-65x slower, measured on '
                        'AMD EPYC and Intel Xeon); AVX2 GEMM')
    if 'avx2' in flags:
        return None, "AVX2 CPU: oneDNN's default is already AVX2"
    return None, "no AVX2: oneDNN's default"


def cpu_summary(name: str, flags: FrozenSet[str]) -> str:
    shown = [f for f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16') if f in flags]
    return f'{name} ({", ".join(shown) or "no AVX2"})'


def setup_env(device: Optional[str] = None) -> dict:
    """Choose the oneDNN ISA cap and the thread count for this CPU; a user's setting wins.

    Args:
        device: 'CPU', 'GPU' or 'Ascend'; defaults to ``$SBCORE_DEVICE`` or 'CPU'.

    Returns:
        The settings applied, for the run log (``{}`` when nothing was changed).
    """
    from .dist import quiet_other_ranks
    quiet_other_ranks()  # MindSpore's warnings on rank 0 only (see dist.py), on every device
    device = (device or os.environ.get(DEVICE_ENV) or 'CPU').upper()
    applied = {}
    if device != 'CPU' or _CHOICE:
        return applied
    name, flags = read_cpu()
    _CHOICE['cpu'] = cpu_summary(name, flags)
    if ISA_ENV in os.environ:
        _CHOICE['isa'] = f'{ISA_ENV}={os.environ[ISA_ENV]} (set by the user)'
    elif 'mindspore' in sys.modules:  # too late to take effect
        _CHOICE['isa'] = f'{ISA_ENV}=<unset> (mindspore was imported before sbcore)'
    else:
        isa, why = choose_isa(flags)
        if isa is not None:
            os.environ[ISA_ENV] = isa
            applied[ISA_ENV] = isa
        _CHOICE['isa'] = f'{ISA_ENV}={isa or "<unset>"} ({why})'
    user_threads = os.environ.get(THREADS_ENV)
    _CHOICE['threads'] = (f'{user_threads} (set by the user, {THREADS_ENV})' if user_threads
                          else f'{cpu_threads()} (one per CPU of the process)')
    return applied


def num_threads() -> int:
    """MindSpore runtime threads: ``$SBCORE_NUM_THREADS`` or one per CPU of the process."""
    value = os.environ.get(THREADS_ENV)
    if value:
        try:
            threads = int(value)
        except ValueError:
            threads = 0
        if threads < 1:
            from .errors import ConfigError
            raise ConfigError(f'{THREADS_ENV}={value!r}: expected a positive integer')
        return threads
    return cpu_threads()


def describe_env() -> str:
    """The CPU fast path chosen, for the run's first log line."""
    if not _CHOICE:
        return ''
    return f'cpu={_CHOICE["cpu"]} {_CHOICE["isa"]} threads={_CHOICE["threads"]}'
