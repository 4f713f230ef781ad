#!/usr/bin/env bash
# Data-parallel training on NUM_WORKERS devices (or CPU processes) per node through msrun:
#
#   tools/dist_train.sh CONFIG NUM_WORKERS [tools/train.py options]
#   PORT=29500 LOG_DIR=work_dirs/msrun_logs TIMEOUT=86400 tools/dist_train.sh CONFIG 8 --resume
#
# Several nodes: the same command on each node, NODE_RANK=0 on the node at MASTER_ADDR
# (it runs the scheduler; PORT defaults to 8118 there and must be the same on every node):
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 tools/dist_train.sh CONFIG 8   # on 10.0.0.1
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 tools/dist_train.sh CONFIG 8   # on the other node
#
# Each worker runs tools/train.py --launcher msrun: it joins the collective group, takes its shard
# of every epoch's (shared) shuffle, and gradients are averaged across workers; rank 0 alone
# writes logs and checkpoints. If a worker dies, the launch exits non-zero and names the rank and
# its log; re-run with --resume to continue from the last checkpoint.
#
# With MPI instead of msrun (OpenMPI from the system's package manager; root also needs
# --allow-run-as-root):
#   mpirun -n 8 python tools/train.py --config CONFIG --launcher mpi
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: [NNODES=N NODE_RANK=R MASTER_ADDR=A] [PORT=P] $0 CONFIG NUM_WORKERS [tools/train.py options]" >&2
    exit 2
fi
CONFIG=$1
NUM_WORKERS=$2
shift 2
HERE="$(cd "$(dirname "$0")" && pwd)"
ARGS=(--nproc "$NUM_WORKERS" --log-dir "${LOG_DIR:-msrun_logs}")
if [ -n "${NNODES:-}" ]; then ARGS+=(--nnodes "$NNODES" --node-rank "${NODE_RANK:-0}"); fi
if [ -n "${MASTER_ADDR:-}" ]; then ARGS+=(--master-addr "$MASTER_ADDR"); fi
if [ -n "${PORT:-}" ]; then ARGS+=(--master-port "$PORT"); fi
if [ -n "${TIMEOUT:-}" ]; then ARGS+=(--timeout "$TIMEOUT"); fi
exec python "$HERE/launch.py" "${ARGS[@]}" "$HERE/train.py" "$CONFIG" --launcher msrun "$@"
