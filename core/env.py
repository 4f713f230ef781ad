"""Process environment that must be set before MindSpore is imported.

MindSpore's CPU convolutions go through oneDNN. On AVX-512 CPUs oneDNN picks a reference NCHW
convolution that is about 40x slower than its AVX2 GEMM path; capping the ISA at AVX2 before
MindSpore loads oneDNN selects the fast path. A value the user set wins.
"""
from __future__ import annotations

import os
import sys
from typing import Optional

DEVICE_ENV = 'SBCORE_DEVICE'


def setup_env(device: Optional[str] = None) -> dict:
    """Set ``ONEDNN_MAX_CPU_ISA=AVX2`` when unset and the device is CPU.

    Args:
        device: 'CPU', 'GPU' or 'Ascend'; defaults to ``$SBCORE_DEVICE`` or 'CPU'.

    Returns:
        The settings applied, for the run log (``{}`` when nothing was changed).
    """
    device = (device or os.environ.get(DEVICE_ENV) or 'CPU').upper()
    applied = {}
    if device == 'CPU' and 'ONEDNN_MAX_CPU_ISA' not in os.environ:
        if 'mindspore' in sys.modules:
            return applied  # too late to take effect; the runner logs the current value
        os.environ['ONEDNN_MAX_CPU_ISA'] = 'AVX2'
        applied['ONEDNN_MAX_CPU_ISA'] = 'AVX2'
    return applied
