#!/usr/bin/env bash
# The benchmark protocol of docs/en/user_guides/7_experiments.md in one go:
# shared backbone pretraining, the Table 3 replica (one-label and
# random-label; single-task, MTL baseline, both DiffusionMTL variants, both
# ablations), the stage-wise refinement against its control (both staged on
# the MTL baseline of the table), the label-efficiency sweep, and the
# refinement analysis of both variants and of the stage-wise refinement (every
# seed, then mean ± std); everything under $OUT, with the time of every step.
#
#   JOBS=4 OUT=work_dirs/protocol bash tools/experiments/protocol.sh
#
# Settings (environment variables, defaults in brackets):
#   OUT [work_dirs/protocol]   output folder (runs/, table3/, stagewise/, label_efficiency/,
#                              refinement_*/)
#   JOBS [2]                   runs at a time (GPU: 4-8 share one GPU well; CPU: cores/1)
#   ITERS [3000]               iterations per compared run
#   PRETRAIN_ITERS [6000]      iterations of the shared backbone pretraining
#   SEEDS ["0 1 2"]            training seeds
#   TASKS ["semseg depth normal"]
#   FRACTIONS ["5 10 25 50 100"] label fractions of the sweep (%)
#   CONFIG [the lite quick-start config]
#   EXTRA [""]                 more arguments for every run_experiments.py call
#   DRY_RUN [0]                1: print the commands only
# The device is mmengine's choice: CUDA when present, else the CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-work_dirs/protocol}
JOBS=${JOBS:-2}
ITERS=${ITERS:-3000}
PRETRAIN_ITERS=${PRETRAIN_ITERS:-6000}
SEEDS=${SEEDS:-"0 1 2"}
TASKS=${TASKS:-"semseg depth normal"}
FRACTIONS=${FRACTIONS:-"5 10 25 50 100"}
CONFIG=${CONFIG:-configs/diffusionmtl/diffusionmtl_r18-lite_1xb8-1k_synthetic-96x128.py}
EXTRA=${EXTRA:-}
DRY_RUN=${DRY_RUN:-0}
PY=${PYTHON:-python}

# shellcheck source=tools/experiments/steps.sh
source tools/experiments/steps.sh

# shellcheck disable=SC2206  # word splitting of the lists is intended
COMMON=(--config "$CONFIG" --tasks $TASKS --seeds $SEEDS --iters "$ITERS" --jobs "$JOBS"
        --work-dir "$OUT/runs" --protocol pretrained --pretrain-iters "$PRETRAIN_ITERS" $EXTRA)

step pretrain "$PY" tools/run_experiments.py "${COMMON[@]}" --pretrain-only
step table3 "$PY" tools/run_experiments.py "${COMMON[@]}" --splits onelabel randomlabels \
    --methods stl mtl pred feat no_cond no_diff --out "$OUT/table3"
step stagewise "$PY" tools/run_experiments.py "${COMMON[@]}" --splits onelabel randomlabels \
    --methods mtl stagewise mtl_finetune --out "$OUT/stagewise"
# shellcheck disable=SC2086
step label_efficiency "$PY" tools/run_experiments.py "${COMMON[@]}" \
    --label-fractions $FRACTIONS --methods mtl pred feat --out "$OUT/label_efficiency"
for variant in pred feat stagewise; do
    dirs=()
    for seed in $SEEDS; do
        run="$OUT/runs/onelabel/seed${seed}/${variant}"
        ckpt=$(ls "$run"/best_*.pth 2>/dev/null | head -n 1 || true)
        if [ "$DRY_RUN" != 1 ] && [ -z "$ckpt" ]; then
            echo "no best checkpoint in $run" >&2
            exit 1
        fi
        dirs+=("$OUT/refinement_${variant}/seed${seed}")
        step "refinement_${variant}_seed${seed}" "$PY" tools/analyze_refinement.py \
            "$run/run_config.py" "${ckpt:-$run/best_mtl_delta_m_iter_N.pth}" --out "${dirs[-1]}"
    done
    step "refinement_${variant}" "$PY" tools/analyze_refinement.py --summarize "${dirs[@]}" \
        --out "$OUT/refinement_${variant}"
done
echo "== all done in $(( ($(date +%s) - START) / 60 )) min; results under $OUT"
