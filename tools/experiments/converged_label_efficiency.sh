#!/usr/bin/env bash
# Label-efficiency sweep on *converged* first stages: tools/experiments/converged_first_stage.sh for each label
# fraction (every task labelled on P% of the training images, independently per task: SPLIT=frac<P>), then
# tools/analysis_tools/label_efficiency_table.py over their Δm tables (each against the single-task models
# trained on the same labels), with the paired differences stage-wise refinement − MTL baseline and − control
# (and the stage-wise run with its per-task output chosen on validation − control).
#
#   FRACTIONS="10 50" STAGE_ITERS=2000 STAGE_VAL_EVALS=5 OUT=work_dirs/proto_cpu \
#       bash tools/experiments/converged_label_efficiency.sh
#
# Settings (environment variables, defaults in brackets):
#   FRACTIONS ["5 10 25 50 100"]   label fractions in %, each run through converged_first_stage.sh in turn
#                                  (checked and named by tools/experiments/label_fractions.py: 50.0 is 50)
#   TABLES_DIR [<sweep folder>/tables]
#                                  where the sweep keeps each fraction's Δm table (frac<P>.json); every
#                                  table kept there is part of the sweep, so fractions measured by an
#                                  earlier run, on this or another machine, join the new ones (point it
#                                  at a copied or committed folder)
#   every other setting of converged_first_stage.sh (OUT, JOBS, ITERS, LONG_ITERS, STAGE_ITERS, ..., DRY_RUN)
#                                  is passed on to it
# Output: the runs of each fraction where converged_first_stage.sh puts them (OUT/runs/frac<P>/,
# OUT/converged_frac<P>/), the sweep in OUT/label_efficiency_converged/ (label_efficiency_converged_stage<N>/
# with STAGE_ITERS=N other than ITERS/2): label_efficiency.md and .png, and the kept tables in TABLES_DIR. A
# fraction whose runs exist is not run again (converged_first_stage.sh skips finished runs), so the sweep grows
# by adding fractions.
set -euo pipefail
cd "$(dirname "$0")/../.."

FRACTIONS=${FRACTIONS:-"5 10 25 50 100"}
OUT=${OUT:-work_dirs/protocol}
ITERS=${ITERS:-1000}
STAGE_ITERS=${STAGE_ITERS:-$(( ITERS / 2 ))}
METHODS=${METHODS:-"stagewise mtl_finetune"}
PY=${PYTHON:-python}
export OUT ITERS STAGE_ITERS METHODS
# shellcheck source=tools/experiments/steps.sh
source tools/experiments/steps.sh
sweep="$OUT/label_efficiency_converged"
stage=""  # where converged_first_stage.sh puts the staged runs' results within a fraction's folder
if [ "$STAGE_ITERS" != $(( ITERS / 2 )) ]; then
    stage="/stage$STAGE_ITERS"
    sweep="${sweep}_stage$STAGE_ITERS"
fi
# all checked before any run, and spelt as the runner files them (50.0 -> 50)
read -r -a fractions <<< "$FRACTIONS"
FRACTIONS=$("$PY" tools/experiments/label_fractions.py "${fractions[@]}") || exit 2
tables=()
for p in $FRACTIONS; do
    SPLIT="frac$p" bash tools/experiments/converged_first_stage.sh
    tables+=(--table "$p=$OUT/converged_frac$p$stage/delta_m_table.json")
done
paired=(--paired 'stage-wise refinement' 'MTL baseline')
case " $METHODS " in
    *" mtl_finetune "*) paired+=(--paired 'stage-wise refinement' 'control'
                                 --paired 'stage-wise, per-task output chosen' 'control') ;;
esac
case " $METHODS " in *" stagewise "*) ;; *) paired=() ;; esac
step label_efficiency "$PY" tools/analysis_tools/label_efficiency_table.py "${tables[@]}" "${paired[@]}" \
    --tables-dir "${TABLES_DIR:-$sweep/tables}" \
    --title "Label-efficiency sweep on converged first stages (tools/experiments/converged_label_efficiency.sh)" \
    --out "$sweep"
