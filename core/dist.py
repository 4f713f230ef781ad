"""Distributed helpers over MindSpore's collective communication (HCCL, NCCL, or MCCL on CPU).

Launch with ``msrun`` (or ``mpirun``): one process per device, each calling :func:`init_dist`.
Without a launcher everything here degrades to a single process (rank 0 of 1).
"""
from __future__ import annotations

import os
import pickle
from typing import Any, List

import numpy as np

_STATE = {'initialized': False, 'rank': 0, 'world_size': 1}


def init_dist(launcher: str = 'none') -> None:
    """Initialise collective communication for ``launcher`` in {'none', 'msrun', 'mpi'}.

    Sets data-parallel mode with mean gradients; gradients are reduced explicitly by the
    training step (``nn.DistributedGradReducer``).
    """
    if launcher not in ('none', 'msrun', 'mpi'):
        raise ValueError(f'launcher must be one of none, msrun, mpi; got {launcher!r}')
    if launcher == 'none' or _STATE['initialized']:
        return
    import mindspore as ms
    from mindspore.communication import get_group_size, get_rank, init
    init()
    _STATE.update(initialized=True, rank=get_rank(), world_size=get_group_size())
    ms.reset_auto_parallel_context()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True,
                                 device_num=_STATE['world_size'])


def launched_by_msrun() -> bool:
    return 'RANK_ID' in os.environ and 'MS_WORKER_NUM' in os.environ


def get_rank() -> int:
    return _STATE['rank']


def get_world_size() -> int:
    return _STATE['world_size']


def is_main_process() -> bool:
    return _STATE['rank'] == 0


def is_distributed() -> bool:
    return _STATE['world_size'] > 1


def _all_gather_array(arr: np.ndarray) -> np.ndarray:
    """(n, ...) on each rank -> (world*n, ...) in rank order."""
    import mindspore as ms
    from mindspore import ops
    return ops.AllGather()(ms.Tensor(arr)).asnumpy()


def all_gather_object(obj: Any) -> List[Any]:
    """Every rank's picklable ``obj``, in rank order (a list of one in a single process).

    Only objects this program produced on its own ranks are unpickled.
    """
    if not is_distributed():
        return [obj]
    payload = np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)
    sizes = _all_gather_array(np.array([payload.size], dtype=np.int64))
    padded = np.zeros(int(sizes.max()), dtype=np.uint8)
    padded[:payload.size] = payload
    # AllGather of uint8 is not implemented everywhere; int32 is.
    gathered = _all_gather_array(padded.astype(np.int32)[None]).astype(np.uint8)
    return [pickle.loads(gathered[r, :int(sizes[r])].tobytes()) for r in range(get_world_size())]


def broadcast_object(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank."""
    if not is_distributed():
        return obj
    return all_gather_object(obj)[0]


def barrier() -> None:
    if is_distributed():
        all_gather_object(None)
