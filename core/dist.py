"""Distributed helpers over MindSpore's collective communication (HCCL, NCCL, or MCCL on CPU).

Launch with ``msrun`` or ``mpirun`` (``launcher='mpi'``: ``core/mpi.py`` maps OpenMPI's ranks onto
MindSpore's dynamic cluster): one process per device, each calling :func:`init_dist`. Without a launcher everything
here degrades to a single process (rank 0 of 1).

Gradients are averaged once: the runner's ``nn.DistributedGradReducer(mean=True, degree=N)``
all-reduces and divides by N; ``gradients_mean=True`` in the parallel context only sets the
default of reducers built without ``mean`` (tests/test_distributed.py checks Adam's first moments,
which are linear in the gradient, against one process on the combined batch).

MindSpore's console output under a launcher: with two CPU workers each logged 21-140
``[WARNING] DISTRIBUTED/DEVICE/ME`` lines while the cluster formed (measured, README "Training"),
which hid the progress and the one error line. Two remedies, both here:

* ranks other than 0 start MindSpore with ``GLOG_v=3`` (errors only; :func:`quiet_other_ranks`,
  before MindSpore is imported); rank 0 keeps MindSpore's warnings (a peer that drops out shows
  there as ``[WARNING] DISTRIBUTED ... Client connected end of file!``), and a user's own
  ``GLOG_v``, ``MS_SUBMODULE_LOG_v`` or ``GLOG_logtostderr`` wins on every rank;
* workers call ``init()`` once the scheduler accepts connections (:func:`_wait_for_scheduler`):
  started before it (msrun starts both at once; under mpirun rank 0 starts it, and it takes
  seconds to import MindSpore), MindSpore's workers log three lines per 0.5 s retry.
"""
from __future__ import annotations

import os
import pickle
import socket
import time
from typing import Any, List, MutableMapping, Optional

import numpy as np

from . import mpi
from .errors import ConfigError

_STATE = {'initialized': False, 'rank': 0, 'world_size': 1}
RANK_LINE_PREFIX = 'sbcore.dist: initialised'
# Printed before init(): a launcher can then tell which log is a worker's that died while joining
# (ranks other than 0 print no MindSpore line carrying their pid, see quiet_other_ranks).
JOIN_LINE_PREFIX = 'sbcore.dist: joining'
# Devices whose MindSpore 2.10 SyncBatchNorm kernel exists (its docs list Ascend only; on CPU it
# fails, measured: see convert_sync_batchnorm).
SYNC_BN_DEVICES = ('Ascend',)
# MindSpore's logging variables (read once, when it is imported); a user who sets one keeps all.
MS_LOG_ENV = ('GLOG_v', 'MS_SUBMODULE_LOG_v', 'GLOG_logtostderr')
OTHER_RANKS_GLOG_V = '3'  # ERROR: MindSpore's errors still reach the console
SCHEDULER_WAIT_S = 60.0  # then init() runs anyway, with MindSpore's own retries and time-out


def launcher_rank(env: Optional[MutableMapping[str, str]] = None) -> Optional[int]:
    """This process's rank as its launcher exported it before start-up: OpenMPI's
    ``OMPI_COMM_WORLD_RANK``, or ``RANK_ID`` in an msrun worker (msrun sets it whenever the rank
    is known in advance). None outside a launch and in msrun's scheduler."""
    env = os.environ if env is None else env
    value = env.get('OMPI_COMM_WORLD_RANK') if mpi.launched_by_mpirun(env) else (
        env.get('RANK_ID') if env.get('MS_ROLE') == 'MS_WORKER' else None)
    return int(value) if value and value.isdigit() else None


def quiet_other_ranks(env: Optional[MutableMapping[str, str]] = None) -> bool:
    """``GLOG_v=3`` for MindSpore on a launched rank other than 0, unless the user set any of
    :data:`MS_LOG_ENV`. Call before MindSpore is imported (``sbcore``'s import does). Returns
    whether it was set."""
    env = os.environ if env is None else env
    rank = launcher_rank(env)
    if not rank or any(name in env for name in MS_LOG_ENV):
        return False
    env['GLOG_v'] = OTHER_RANKS_GLOG_V
    return True


def _wait_for_scheduler(host: str, port: int, timeout_s: float = SCHEDULER_WAIT_S) -> bool:
    """Until ``host:port`` accepts a TCP connection (True) or ``timeout_s`` has passed (False)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)


def init_dist(launcher: str = 'none') -> None:
    """Initialise collective communication for ``launcher`` in {'none', 'msrun', 'mpi'}.

    Sets data-parallel mode with mean gradients; gradients are reduced explicitly by the
    training step (``nn.DistributedGradReducer``).
    """
    if launcher not in ('none', 'msrun', 'mpi'):
        raise ConfigError(f'launcher must be one of none, msrun, mpi; got {launcher!r}')
    if launcher == 'none' or _STATE['initialized']:
        return
    if launcher == 'msrun' and not launched_by_msrun():
        # init() needs the scheduler and the MS_* variables that msrun provides
        raise ConfigError('launcher=msrun, but this process was not started by msrun (MS_ROLE / '
                          'MS_WORKER_NUM are unset). Start it with msrun --worker_num=N '
                          '--local_worker_num=N SCRIPT ...; or use launcher=none.')
    mpi_info = None
    if launcher == 'mpi' and not launched_by_msrun():  # MS_* variables set by hand win
        if not mpi.launched_by_mpirun():
            raise ConfigError('launcher=mpi, but this process was not started by mpirun '
                              '(OMPI_COMM_WORLD_RANK is unset). Start it with mpirun -n N python '
                              'SCRIPT ... --launcher mpi; or use launcher=none.')
        mpi_info = mpi.setup_dynamic_cluster()
    import mindspore as ms
    from mindspore.communication import get_group_size, get_rank, init
    print(f'{JOIN_LINE_PREFIX} pid {os.getpid()}', flush=True)
    host, port = os.environ.get('MS_SCHED_HOST'), os.environ.get('MS_SCHED_PORT', '')
    if os.environ.get('MS_ROLE') == 'MS_WORKER' and host and port.isdigit() and (
            not _wait_for_scheduler(host, int(port))):
        print(f'sbcore.dist: no scheduler accepts connections at {host}:{port} after '
              f'{SCHEDULER_WAIT_S:g} s; MindSpore keeps trying', flush=True)
    init()
    _STATE.update(initialized=True, rank=get_rank(), world_size=get_group_size())
    if mpi_info is not None and (mpi_info['rank'], mpi_info['world_size']) != (
            _STATE['rank'], _STATE['world_size']):
        raise RuntimeError(f'mpirun rank {mpi_info["rank"]} of {mpi_info["world_size"]} became '
                           f'MindSpore rank {_STATE["rank"]} of {_STATE["world_size"]}')
    # One line per worker log: a launcher can map a failed worker's pid to its rank with it.
    print(f'{RANK_LINE_PREFIX} rank {_STATE["rank"]} of {_STATE["world_size"]} pid {os.getpid()}',
          flush=True)
    if mpi_info is not None and mpi_info['scheduler_log']:
        print(f'sbcore.mpi: scheduler at {mpi_info["host"]}:{mpi_info["port"]}, its log: '
              f'{mpi_info["scheduler_log"]}', flush=True)
    ms.reset_auto_parallel_context()
    ms.set_auto_parallel_context(parallel_mode=ms.ParallelMode.DATA_PARALLEL, gradients_mean=True,
                                 device_num=_STATE['world_size'])


def launched_by_msrun() -> bool:
    """msrun runs the script as its scheduler (MS_ROLE=MS_SCHED) and as each worker
    (MS_ROLE=MS_WORKER), with MS_WORKER_NUM set; RANK_ID is set only when the rank is known
    before init (not on multi-node runs without --node_rank)."""
    return os.environ.get('MS_ROLE') in ('MS_WORKER', 'MS_SCHED') and 'MS_WORKER_NUM' in os.environ


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


def _swap_batchnorms(cell, make_sync) -> int:
    """Replace every ``nn.BatchNorm2d``/``BatchNorm1d`` below ``cell`` by ``make_sync(bn)``.

    The new cell takes over the old one's Parameter objects (gamma, beta, moving statistics), so
    names, values and pretrained weights are kept. Returns the number of layers replaced.
    """
    from mindspore import nn
    count = 0
    for name, child in list(cell.name_cells().items()):
        if isinstance(child, (nn.BatchNorm2d, nn.BatchNorm1d)) and not isinstance(child, nn.SyncBatchNorm):
            sync = make_sync(child)
            for attr in ('gamma', 'beta', 'moving_mean', 'moving_variance'):
                setattr(sync, attr, getattr(child, attr))
            sync.set_train(child.training)
            cell.insert_child_to_cell(name, sync)
            count += 1
        else:
            count += _swap_batchnorms(child, make_sync)
    return count


def _sync_bn_like(bn, process_groups=None):
    """A ``nn.SyncBatchNorm`` with ``bn``'s settings (``_BatchNorm`` stores 1 - momentum)."""
    from mindspore import nn
    return nn.SyncBatchNorm(bn.num_features, eps=bn.eps, momentum=1.0 - bn.momentum,
                            affine=bn.gamma.requires_grad,
                            use_batch_statistics=bn.use_batch_statistics,
                            process_groups=process_groups)


def convert_sync_batchnorm(cell, device: str) -> int:
    """Turn the batch norms of ``cell`` into ``nn.SyncBatchNorm`` over all ranks (in place).

    Batch statistics are then computed over the global batch instead of each rank's shard.
    MindSpore 2.10 supports this on Ascend only. On CPU it cannot work (measured with two msrun
    workers: ``nn.SyncBatchNorm(C)`` fails at construction, "parameter 'group' must be ... str,
    but got None", and with an explicit process group the forward pass fails with "Unsupported op
    [SyncBatchNorm] on CPU"), so this raises there instead of silently training without sync.

    Args:
        cell: the model, after it is built and before the optimizer is.
        device: the run's device target ('Ascend', 'GPU' or 'CPU').

    Returns:
        The number of batch-norm layers converted (0 in a single-process run, which needs none).
    """
    if device not in SYNC_BN_DEVICES:
        raise NotImplementedError(
            f'env_cfg.sync_bn=True: MindSpore 2.10 has no SyncBatchNorm kernel for device '
            f'{device!r} (supported: {", ".join(SYNC_BN_DEVICES)}; on CPU the op is rejected with '
            f'"Unsupported op [SyncBatchNorm] on CPU"). Remove env_cfg.sync_bn, or train on Ascend.')
    if not is_distributed():
        return 0
    return _swap_batchnorms(cell, _sync_bn_like)
