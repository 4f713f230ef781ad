"""``mpirun`` launch: OpenMPI's rank variables mapped onto MindSpore's dynamic cluster.

MindSpore 2.10 does not initialise its collectives from OpenMPI itself: under ``mpirun -n 2``
``mindspore.communication.init()`` fails on CPU with "some processes in the cluster are not
successfully spawned" (measured). Its dynamic cluster (what ``msrun`` sets up, on CPU, GPU and
Ascend alike) needs a scheduler process and, in every worker, ``MS_ROLE=MS_WORKER``,
``MS_WORKER_NUM``, ``MS_SCHED_HOST``, ``MS_SCHED_PORT`` and ``MS_NODE_ID``. So each rank sets them
from ``OMPI_COMM_WORLD_RANK``/``SIZE``/``LOCAL_RANK`` before ``init()``, and rank 0 starts the
scheduler (``python -m sbcore.mpi``) as a child process:

* host: ``$MS_SCHED_HOST`` (pass it with ``mpirun -x MS_SCHED_HOST=<node 0 address>`` on several
  nodes), else 127.0.0.1 on one node;
* port: ``$MS_SCHED_PORT``, else one derived from the mpirun job id, which every rank of the job
  sees alike (``OMPI_MCA_ess_base_jobid``), so two jobs on one machine get different ports.

The scheduler ends by itself once every worker has finalised. Rank 0 cannot wait for it (the
scheduler waits for rank 0), so the scheduler watches rank 0 instead: once rank 0 is gone (done,
crashed or killed by mpirun) it gets ``GRACE_S`` seconds to finish, then exits.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from typing import Dict, Mapping, Optional

from .errors import ConfigError

PORT_BASE, PORT_SPAN = 10000, 20000  # below Linux's ephemeral range (32768-60999)
GRACE_S = 30.0


def launched_by_mpirun(env: Optional[Mapping[str, str]] = None) -> bool:
    env = os.environ if env is None else env
    return 'OMPI_COMM_WORLD_RANK' in env and 'OMPI_COMM_WORLD_SIZE' in env


def scheduler_address(env: Dict[str, str]) -> tuple:
    """``(host, port)`` of the job's scheduler, the same on every rank (see module doc)."""
    host = env.get('MS_SCHED_HOST')
    if not host:
        nodes = int(env.get('OMPI_MCA_orte_num_nodes', '1'))
        if nodes > 1:
            raise ConfigError(f'launcher=mpi on {nodes} nodes: set the address of the node of '
                              f'rank 0, e.g. mpirun -x MS_SCHED_HOST=<its IP> ...')
        host = '127.0.0.1'
    if env.get('MS_SCHED_PORT'):
        port = int(env['MS_SCHED_PORT'])
    else:
        port = PORT_BASE + int(env.get('OMPI_MCA_ess_base_jobid', '0')) % PORT_SPAN
    return host, port


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as err:
            raise ConfigError(f'launcher=mpi: the scheduler port {host}:{port} is taken ({err}); '
                              f'choose a free one with mpirun -x MS_SCHED_PORT=<port> ...') from None


def setup_dynamic_cluster() -> dict:
    """Export MindSpore's dynamic-cluster variables from OpenMPI's; on rank 0 also start the
    scheduler. Call before ``mindspore.communication.init()``. Returns what was chosen."""
    env = os.environ
    rank, size = int(env['OMPI_COMM_WORLD_RANK']), int(env['OMPI_COMM_WORLD_SIZE'])
    local_rank = int(env.get('OMPI_COMM_WORLD_LOCAL_RANK', '0'))
    host, port = scheduler_address(env)
    common = dict(MS_SCHED_HOST=host, MS_SCHED_PORT=str(port), MS_WORKER_NUM=str(size))
    info = dict(rank=rank, world_size=size, host=host, port=port, scheduler_log=None)
    if rank == 0:
        _check_port_free(host, port)
        log_path = env.get('SBCORE_MPI_SCHEDULER_LOG') or os.path.join(
            tempfile.gettempdir(), f'sbcore_mpi_scheduler_{port}.log')
        with open(log_path, 'w') as log:
            subprocess.Popen([sys.executable, '-m', 'sbcore.mpi', str(os.getpid())],
                             env=dict(env, MS_ROLE='MS_SCHED', RANK_ID='0', **common),
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
        info['scheduler_log'] = log_path
    env.update(common, MS_ROLE='MS_WORKER', MS_NODE_ID=str(rank), RANK_ID=str(rank),
               RANK_SIZE=str(size))
    env.setdefault('DEVICE_ID', str(local_rank))
    return info


def _run_scheduler(rank0_pid: int) -> None:
    """The scheduler process: MindSpore's ``init()`` with ``MS_ROLE=MS_SCHED`` serves the job
    until every worker has finalised."""

    def watch_rank0() -> None:
        while os.getppid() == rank0_pid:
            time.sleep(1.0)
        time.sleep(GRACE_S)
        os._exit(0)

    threading.Thread(target=watch_rank0, daemon=True).start()
    import mindspore as ms
    from mindspore.communication import init
    ms.set_device('CPU')  # the scheduler only routes messages (MindSpore uses mccl for it)
    init()


if __name__ == '__main__':
    _run_scheduler(int(sys.argv[1]))
