#!/usr/bin/env bash
# Distributed training on a Slurm cluster (one task per GPU):
#   GPUS=16 GPUS_PER_NODE=8 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args]
# Extra srun options go in SRUN_ARGS (e.g. SRUN_ARGS="--quotatype=auto").
# mmengine's slurm launcher reads SLURM_PROCID / SLURM_NTASKS / SLURM_NODELIST
# and sets up the process group itself (MASTER_PORT from PORT, default 29500).
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,5p' "$0"; exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=${4:-}
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
EXTRA=("${@:5}")
if [ -n "$WORK_DIR" ]; then EXTRA=(--work-dir "$WORK_DIR" "${EXTRA[@]}"); fi

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    python -u "$(dirname "$0")/train.py" "$CONFIG" --launcher slurm "${EXTRA[@]}"
