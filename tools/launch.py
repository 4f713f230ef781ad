"""Launch a script on N workers per node through ``msrun`` and say which rank failed, if one does.

    python tools/launch.py --nproc 2 tools/train.py CONFIG --launcher msrun [train.py's arguments]
    # two nodes of 4 workers: the same command on each, --node-rank 0 on the master node
    python tools/launch.py --nproc 4 --nnodes 2 --node-rank R --master-addr 10.0.0.1 \
        --master-port 8118 tools/train.py CONFIG --launcher msrun

``msrun --join=True`` already stops the other workers when one exits non-zero, but it then
reports only "Distributed job exited with exception. Please check logs in directory ..." (and a
worker *pid* in a log line). This wrapper picks a free port, runs msrun with a time limit, and on
failure prints the failed rank, its exit code, the path of its log and the log's last lines;
it exits with the worker's exit code (or msrun's, or 124 on time-out).

A tool, not part of the engine: MindSpore's own ``msrun`` and ``mpirun`` start the processes, and
the engine only joins them (``sbcore.dist.init_dist``); this adds the report on top of msrun.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from sbcore.dist import JOIN_LINE_PREFIX, RANK_LINE_PREFIX

# msrun's own report of a worker that exited non-zero (mindspore/parallel/cluster/process_entity).
_WORKER_EXIT_RE = re.compile(r'Worker process (\d+) exit with exception\. Error code: (-?\d+)')
_RANK_LINE_RE = re.compile(re.escape(RANK_LINE_PREFIX) + r' rank (\d+) of \d+ pid (\d+)')
_JOIN_LINE_RE = re.compile(re.escape(JOIN_LINE_PREFIX) + r' pid (\d+)')
# msrun starts a scheduler on every node whose --master_addr is a local address; on a one-machine
# simulation of several nodes only the first can bind the port (meta_server_node.cc).
_SCHEDULER_EXIT_RE = re.compile(r'Scheduler process (\d+) exit with exception')
_SCHEDULER_BIND_FAILED = 'Failed to create the TCP server'
# MindSpore's own log lines carry the pid: "[WARNING] ME(25040:..." or "DEVICE(25040,...".
_PID_PREFIX_RE = re.compile(r'^\[[A-Z]+\] [A-Z_]+\((\d+)[,:]', re.M)
TIMEOUT_EXIT_CODE = 124


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return int(s.getsockname()[1])


MSRUN_MODULE = 'mindspore.parallel.cluster.run'  # what the msrun console script runs
DEFAULT_MASTER_PORT = 8118  # msrun's default; several nodes must agree on one


def msrun_command(script: str, script_args: Sequence[str], nproc: int, master_port: int,
                  log_dir: str, nnodes: int = 1, node_rank: int = 0,
                  master_addr: Optional[str] = None) -> List[str]:
    """The msrun command line for ``nproc`` workers on this node (of ``nnodes``)."""
    cmd = ['msrun', f'--worker_num={nproc * nnodes}', f'--local_worker_num={nproc}',
           f'--master_port={master_port}', f'--log_dir={log_dir}', '--join=True']
    if nnodes > 1:
        cmd += [f'--node_rank={node_rank}', f'--master_addr={master_addr}']
    return cmd + [script, *script_args]


def only_a_duplicate_scheduler_failed(output: str, log_dir: str) -> bool:
    """True when msrun failed only because this node's own scheduler could not bind the port,
    every local worker having exited 0: on one machine standing in for several nodes, msrun
    starts a scheduler for each node (its --master_addr is local to all of them) and the one
    started first serves the job."""
    if _WORKER_EXIT_RE.search(output) or not _SCHEDULER_EXIT_RE.search(output):
        return False
    log = Path(log_dir) / 'scheduler.log'
    return log.is_file() and _SCHEDULER_BIND_FAILED in log.read_text(errors='replace')


def worker_logs(log_dir: str) -> Dict[str, Tuple[Optional[int], set]]:
    """``{log path: (rank or None, pids seen in it)}`` for every ``worker_*.log`` of ``log_dir``."""
    found = {}
    for path in sorted(Path(log_dir).glob('worker_*.log')):
        text = path.read_text(errors='replace')
        m = _RANK_LINE_RE.search(text)
        pids = {int(p) for p in _PID_PREFIX_RE.findall(text) + _JOIN_LINE_RE.findall(text)}
        if m:
            pids.add(int(m.group(2)))
        found[str(path)] = (int(m.group(1)) if m else None, pids)
    return found


def describe_failures(output: str, log_dir: str, tail: int = 15) -> Tuple[str, Optional[int]]:
    """From msrun's output and the worker logs: a report naming each failed rank and its log,
    and the first failed worker's exit code (None when msrun named no worker)."""
    exits = [(int(pid), int(code)) for pid, code in _WORKER_EXIT_RE.findall(output)]
    logs = worker_logs(log_dir)
    lines, first_code = [], None
    for pid, code in exits:
        first_code = code if first_code is None else first_code
        match = [(path, rank) for path, (rank, pids) in logs.items() if pid in pids]
        if match:
            path, rank = match[0]
            if rank is None:  # died before init_dist: the log file's index is the local rank
                rank_text = f'worker {Path(path).stem.split("_")[-1]} (before communication init)'
            else:
                rank_text = f'rank {rank}'
            lines.append(f'launch: {rank_text} (pid {pid}) failed with exit code {code}; '
                         f'its log: {path}')
            last = Path(path).read_text(errors='replace').splitlines()[-tail:]
            lines += [f'  | {line}' for line in last]
        else:
            lines.append(f'launch: worker pid {pid} failed with exit code {code}; no worker '
                         f'log in {log_dir} names it')
    if not exits:
        lines.append(f'launch: msrun failed without naming a worker (scheduler or launch '
                     f'error); logs: {log_dir}')
    return '\n'.join(lines), first_code


def run(script: str, script_args: Sequence[str], nproc: int, master_port: Optional[int] = None,
        log_dir: str = 'msrun_logs', timeout: Optional[float] = None, nnodes: int = 1,
        node_rank: int = 0, master_addr: Optional[str] = None) -> int:
    """Run ``script`` on ``nproc`` msrun workers of this node; stream msrun's output; return an
    exit code."""
    if importlib.util.find_spec('mindspore') is None:
        print(f'launch: mindspore (which provides msrun) is not installed for '
              f'{sys.executable}', file=sys.stderr, flush=True)
        return 127
    port = master_port or (free_port() if nnodes == 1 else DEFAULT_MASTER_PORT)
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    cmd = msrun_command(script, script_args, nproc, port, log_dir, nnodes, node_rank,
                        master_addr)
    print(f'launch: {" ".join(cmd)}', flush=True)
    # Own process group, so a time-out can stop msrun and every worker it started.
    # msrun is run by this interpreter, and starts its workers with the `python` first on PATH:
    # put this interpreter's folder first, so that a virtual environment's msrun-less bin (or a
    # pyenv shim that reorders PATH) cannot hand the workers another Python.
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable),
                                                  os.environ.get('PATH', '')]))
    proc = subprocess.Popen([sys.executable, '-m', MSRUN_MODULE, *cmd[1:]], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors='replace', start_new_session=True)
    captured: List[str] = []

    def pump() -> None:  # echo msrun's output as it comes and keep it for the failure report
        for line in proc.stdout:
            captured.append(line)
            sys.stdout.write(line)
            sys.stdout.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.send_signal(signal.SIGINT)  # msrun's handler kills its workers (own process groups)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    reader.join(timeout=10)
    if timed_out:
        print(f'launch: msrun did not finish within {timeout:g} s and was killed; '
              f'worker logs: {log_dir}', file=sys.stderr, flush=True)
        return TIMEOUT_EXIT_CODE
    if proc.returncode == 0:
        return 0
    output = ''.join(captured)
    if nnodes > 1 and only_a_duplicate_scheduler_failed(output, log_dir):
        print(f'launch: every worker of node {node_rank} exited 0; msrun\'s own scheduler '
              f'on this node could not bind {master_addr}:{port}, held by the job\'s scheduler '
              f'(another node on this machine), so that failure is ignored', flush=True)
        return 0
    report, worker_code = describe_failures(output, log_dir)
    print(report, file=sys.stderr, flush=True)
    if worker_code is None or worker_code == 0:
        return proc.returncode or 1
    return 128 - worker_code if worker_code < 0 else worker_code  # killed by signal N: 128+N


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog='tools/launch.py', description=__doc__.split('\n')[0])
    p.add_argument('--nproc', type=int, required=True, help='workers on this node')
    p.add_argument('--nnodes', type=int, default=1, help='nodes of the job (default 1)')
    p.add_argument('--node-rank', type=int, default=0, help='this node, 0..nnodes-1 (0 runs '
                   'the scheduler)')
    p.add_argument('--master-addr', help='address of node 0 (required with --nnodes > 1)')
    p.add_argument('--master-port', type=int, help=f'scheduler port (default: a free one on one '
                   f'node, {DEFAULT_MASTER_PORT} on several)')
    p.add_argument('--log-dir', default='msrun_logs', help='where msrun writes worker_<i>.log')
    p.add_argument('--timeout', type=float, help='kill the whole job after this many seconds')
    p.add_argument('script')
    p.add_argument('script_args', nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    if args.nproc < 1:
        p.error(f'--nproc must be >= 1, got {args.nproc}')
    if args.nnodes < 1 or not 0 <= args.node_rank < args.nnodes:
        p.error(f'--node-rank must be in 0..{args.nnodes - 1} (--nnodes {args.nnodes}), '
                f'got {args.node_rank}')
    if args.nnodes > 1 and not args.master_addr:
        p.error(f'--nnodes {args.nnodes} needs --master-addr (the address of node 0)')
    return run(args.script, args.script_args, args.nproc, args.master_port, args.log_dir,
               args.timeout, args.nnodes, args.node_rank, args.master_addr)


if __name__ == '__main__':
    sys.exit(main())
