#!/usr/bin/env bash
# Data-parallel training on NUM_WORKERS local devices (or CPU processes) through msrun:
#
#   tools/dist_train.sh CONFIG NUM_WORKERS [tools/train.py options]
#   PORT=29500 LOG_DIR=work_dirs/msrun_logs TIMEOUT=86400 tools/dist_train.sh CONFIG 8 --resume
#
# Each worker runs tools/train.py --launcher msrun: it joins the collective group, takes its shard
# of every epoch's (shared) shuffle, and gradients are averaged across workers; rank 0 alone
# writes logs and checkpoints. If a worker dies, the launch exits non-zero and names the rank and
# its log; re-run with --resume to continue from the last checkpoint.
#
# With MPI instead of msrun (MindSpore built with OpenMPI support):
#   mpirun -n 8 python tools/train.py --config CONFIG --launcher mpi
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NUM_WORKERS [tools/train.py options]" >&2
    exit 2
fi
CONFIG=$1
NUM_WORKERS=$2
shift 2
HERE="$(cd "$(dirname "$0")" && pwd)"
ARGS=(--nproc "$NUM_WORKERS" --log-dir "${LOG_DIR:-msrun_logs}")
if [ -n "${PORT:-}" ]; then ARGS+=(--master-port "$PORT"); fi
if [ -n "${TIMEOUT:-}" ]; then ARGS+=(--timeout "$TIMEOUT"); fi
exec python -m sbcore.launch "${ARGS[@]}" "$HERE/train.py" "$CONFIG" --launcher msrun "$@"
