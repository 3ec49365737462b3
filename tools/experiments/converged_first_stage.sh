#!/usr/bin/env bash
# Stage-wise refinement on a *converged* first stage, against its control, under the benchmark protocol:
#
#   1. the protocol's table (label setting SPLIT) at ITERS iterations with the single-task models, the MTL
#      baseline and the two staged methods (`stagewise`, `mtl_finetune`), through tools/run_experiments.py;
#   2. per seed, the MTL baseline of that table trained LONG_ITERS iterations instead (same Adam learning rate,
#      poly decay over the longer run, VAL_EVALS validations, best validation checkpoint tested);
#   3. per seed, the `stagewise` and `mtl_finetune` run configs of step 1 started from that long baseline's best
#      checkpoint instead (their ITERS/2 iterations, schedule and checkpoint choice; with STAGE_ITERS, that many
#      iterations, poly decay over them and STAGE_VAL_EVALS validations);
#   4. refined against initial predictions of every stage-wise run (the depth and normal errors also split at
#      and off the ground truth's discontinuities) and their summary (tools/analyze_refinement.py); per
#      stage-wise run, the per-task choice between refined and initial map made on the validation set and
#      tested (analyze_refinement.py --split val --test-choice); the method table with Δm against the
#      single-task models of step 1 (tools/analysis_tools/delta_m_table.py; its per-seed values also in
#      delta_m_table.json, for tools/experiments/converged_label_efficiency.sh).
#
#   OUT=work_dirs/proto_cpu bash tools/experiments/converged_first_stage.sh
#
# Settings (environment variables, defaults in brackets):
#   OUT [work_dirs/protocol]   output folder: runs/ (step 1), converged/ (steps 2-4; converged_<SPLIT>/
#                              for another SPLIT than onelabel)
#   SPLIT [onelabel]           label setting: onelabel, randomlabels, full or frac<P> (named as the runner
#                              files it: frac50.0 is frac50; another name is refused before any run)
#   JOBS [2]                   runs at a time: in step 1, and the jobs of steps 2-4 (each with nproc/JOBS
#                              threads, its log in <steps 3-4 folder>/logs/); JOBS=1 runs steps 2-4 one
#                              after another in the foreground
#   ITERS [1000]               iterations of the protocol's runs (the staged ones train ITERS/2)
#   LONG_ITERS [4000]          iterations of the long MTL baseline
#   STAGE_ITERS [ITERS/2]      iterations of the staged runs on the long baseline (step 3); another value than
#                              ITERS/2 puts steps 3-4 in <converged folder>/stage<STAGE_ITERS>/, beside the
#                              default's results, and reuses the long baselines
#   VAL_EVALS [8]              validations of the long MTL baseline
#   STAGE_VAL_EVALS [VAL_EVALS] validations of the STAGE_ITERS staged runs
#   PRETRAIN_ITERS [1000]      iterations of the shared backbone pretraining
#   SEEDS ["0 1 2"]            training seeds
#   TASKS ["semseg depth normal"]
#   METHODS ["stagewise mtl_finetune"]
#                              staged methods (method fragments with start_from='mtl') of steps 1 and 3, e.g.
#                              add stagewise_feat stagewise_no_diff stagewise_no_cond (the feature variant and the
#                              two ablations of `stagewise`); every one with a DiffusionMTLHead gets the analyses
#                              of step 4 (in refine_<method>/, refine_val_<method>/, refinement_<method>/ beside
#                              stagewise's refine/, refine_val/, refinement/) and its rows in the table
#   EXTRA [""]                 more arguments for the run_experiments.py call
#   DRY_RUN [0]                1: print the commands only
# A run whose test_metrics.json exists is not run again, nor an analysis whose results exist (an interrupted
# script continues).
# The device is mmengine's choice: CUDA when present, else the CPU.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-work_dirs/protocol}
JOBS=${JOBS:-2}
ITERS=${ITERS:-1000}
LONG_ITERS=${LONG_ITERS:-4000}
STAGE_ITERS=${STAGE_ITERS:-$(( ITERS / 2 ))}
VAL_EVALS=${VAL_EVALS:-8}
STAGE_VAL_EVALS=${STAGE_VAL_EVALS:-$VAL_EVALS}
PRETRAIN_ITERS=${PRETRAIN_ITERS:-1000}
SEEDS=${SEEDS:-"0 1 2"}
TASKS=${TASKS:-"semseg depth normal"}
METHODS=${METHODS:-"stagewise mtl_finetune"}
EXTRA=${EXTRA:-}
DRY_RUN=${DRY_RUN:-0}
PY=${PYTHON:-python}
SPLIT=${SPLIT:-onelabel}
# the one name the runner files the setting under (frac50.0 is frac50), or a refusal naming it, before any run
SPLIT=$("$PY" -c "import sys
from mmdmtl.experiments import canonical_split
try:
    print(canonical_split(sys.argv[1]))
except ValueError as e:
    sys.exit(f'converged_first_stage.sh: SPLIT: {e}')" "$SPLIT")
C="$OUT/converged"
[ "$SPLIT" = onelabel ] || C="$OUT/converged_$SPLIT"
S="$C"  # steps 3-4
disc=()  # the discontinuity split of the refinement analysis, for depth and normals
case " $TASKS " in *" depth "* | *" normal "*) disc=(--disc-width 1) ;; esac
schedule() {  # schedule N EVALS: config lines for N iterations, poly decay over them, EVALS validations
    printf '%s\n' "train_cfg = dict(max_iters=$1, val_interval=$(( $1 / $2 > 0 ? $1 / $2 : 1 )))" \
        "param_scheduler = [dict(type='PolyLR', begin=0, end=$1, eta_min=0.0, power=0.9, by_epoch=False)]" \
        "default_hooks = dict(checkpoint=dict(interval=$1))"
}
stage_cfg=""  # what the staged runs of step 3 change in their step-1 configs besides the start
if [ "$STAGE_ITERS" != $(( ITERS / 2 )) ]; then
    S="$C/stage$STAGE_ITERS"
    stage_cfg="$(schedule "$STAGE_ITERS" "$STAGE_VAL_EVALS")
"
fi

# shellcheck source=tools/experiments/steps.sh
source tools/experiments/steps.sh
write() {  # write FILE TEXT: a config file (a dry run prints it instead, each line after "-- FILE: ")
    if [ "$DRY_RUN" = 1 ]; then
        printf '%s\n' "$2" | sed "s|^|-- $1: |"
        return 0
    fi
    mkdir -p "$(dirname "$1")"
    printf '%s\n' "$2" > "$1"
}
# per staged method: 1 when its head is a refinement (a DiffusionMTLHead), else 0; and its name in the tables
declare -A refines=([stagewise]=1 [mtl_finetune]=0) label=()
if [ "$METHODS" != "stagewise mtl_finetune" ]; then  # every one a staged method on the MTL baseline
    # shellcheck disable=SC2086
    info=$("$PY" -c "import sys
from mmdmtl.experiments.methods import resolve_methods
for n in sys.argv[1:]:
    try:
        (spec,) = resolve_methods([n])
    except KeyError as e:
        sys.exit(f'converged_first_stage.sh: METHODS: {e.args[0]}')
    if spec.start_from != 'mtl':
        sys.exit(f'converged_first_stage.sh: METHODS: {n} is not a staged method on the MTL baseline '
                 f\"(its fragment {spec.path} needs start_from='mtl')\")
    print(n, int(spec.head.get('type') == 'DiffusionMTLHead'), spec.label, sep='\t')" $METHODS)
    while IFS=$'\t' read -r name refine text; do
        refines[$name]=$refine
        label[$name]=$text
    done <<< "$info"
fi
suffix() {  # suffix METHOD: what its analysis folders and steps add to stagewise's names
    [ "$1" = stagewise ] || echo "_$1"
}
best() {  # best RUN_DIR: its best validation checkpoint
    [ "$DRY_RUN" = 1 ] && { echo "$1/best_mtl_delta_m_iter_N.pth"; return 0; }
    ls "$1"/best_*.pth
}

# shellcheck disable=SC2086  # word splitting of the lists is intended
step table "$PY" tools/run_experiments.py --tasks $TASKS --seeds $SEEDS --iters "$ITERS" --jobs "$JOBS" \
    --work-dir "$OUT/runs" --protocol pretrained --pretrain-iters "$PRETRAIN_ITERS" --splits "$SPLIT" \
    --methods mtl $METHODS --out "$OUT/table_staged_$SPLIT" $EXTRA
refiners=()
for method in $METHODS; do
    if [ "${refines[$method]}" = 1 ]; then refiners+=("$method"); fi
done
# Steps 2-4 as a queue of jobs, JOBS at a time (each with nproc/JOBS threads); a job starts once the job it
# needs has finished: the long baselines first, then the staged runs, then their analyses. With JOBS=1 (and in
# a dry run) they run one after another in this order; otherwise each job writes its log to $S/logs/NAME.log.
LOGS="$S/logs"
declare -A pids=()
queued() {  # queued: 0 when the jobs run in the background
    [ "$DRY_RUN" != 1 ] && [ "$JOBS" -gt 1 ]
}
slot() {  # slot: wait until fewer than JOBS jobs run
    if queued; then
        # polled, not `wait -n`: a signal arriving just before a wait would wait for a whole job before its trap
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 0.2; done
    fi
    return 0
}
finished() {  # finished NAME: wait for job NAME to end (polled, as in slot); 0 when it succeeded
    while kill -0 "${pids[$1]}" 2>/dev/null; do sleep 0.2; done
    wait "${pids[$1]}" 2>/dev/null || true
    [ -f "$LOGS/$1.ok" ]
}
needs() {  # needs NAME: wait for job NAME if it was started here; 1 (with a message) when it failed
    [ -n "${pids[$1]:-}" ] || return 0
    finished "$1" && return 0
    echo "== $2: not started, $1 failed (log $LOGS/$1.log)"
    return 1
}
job() {  # job NAME COMMAND...: `step NAME COMMAND...`, in the background when queued
    local name=$1
    if ! queued; then
        step "$@"
        return 0
    fi
    mkdir -p "$LOGS"
    rm -f "$LOGS/$name.ok"
    # (set -e stops the subshell at a failed command: no `&&` here, which would turn it off inside step)
    (
        step "$@" > "$LOGS/$name.log" 2>&1
        touch "$LOGS/$name.ok"
    ) &
    pids[$name]=$!
    echo "== $name: started, log $LOGS/$name.log"
}
stop_jobs() {  # the queued jobs and their commands (a background job ignores Ctrl-C, as its python does)
    local p
    for p in $(jobs -p); do
        pkill -TERM -P "$p" 2>/dev/null || true
        kill -TERM "$p" 2>/dev/null || true
    done
}
trap 'echo "== stopped: the queued jobs are stopped too" >&2; stop_jobs; exit 130' INT TERM
if queued; then
    export OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(( $(nproc) / JOBS > 0 ? $(nproc) / JOBS : 1 ))}
fi
for seed in $SEEDS; do
    wd="$C/mtl_seed${seed}"
    [ -f "$wd/test_metrics.json" ] && continue
    write "$wd.py" "_base_ = ['$(realpath -m "$OUT/runs/$SPLIT/seed${seed}/mtl/run_config.py")']
$(schedule "$LONG_ITERS" "$VAL_EVALS")
work_dir = '$wd'"
    slot
    job "mtl_${LONG_ITERS}_seed${seed}" "$PY" -m mmdmtl.experiments.worker "$wd.py" "$wd/test_metrics.json"
done
for seed in $SEEDS; do
    wd="$C/mtl_seed${seed}"
    for method in $METHODS; do
        sd="$S/${method}_seed${seed}"
        [ -f "$sd/test_metrics.json" ] && continue
        slot
        needs "mtl_${LONG_ITERS}_seed${seed}" "${method}_seed${seed}" || continue
        write "$sd.py" "_base_ = ['$(realpath -m "$OUT/runs/$SPLIT/seed${seed}/$method/run_config.py")']
load_from = '$(best "$wd")'
${stage_cfg}work_dir = '$sd'"
        job "${method}_seed${seed}" "$PY" -m mmdmtl.experiments.worker "$sd.py" "$sd/test_metrics.json"
    done
done
declare -A dirs
for seed in $SEEDS; do
    for method in "${refiners[@]}"; do
        x=$(suffix "$method")
        r="$S/refine$x/seed${seed}"
        dirs[$method]+=" $r"
        sd="$S/${method}_seed${seed}"
        if [ ! -f "$r/refinement.json" ]; then
            slot
            needs "${method}_seed${seed}" "refinement${x}_seed${seed}" &&
                job "refinement${x}_seed${seed}" "$PY" tools/analyze_refinement.py "$sd.py" "$(best "$sd")" \
                    "${disc[@]}" --out "$r"
        fi
        if [ ! -f "$S/refine_val$x/seed${seed}/test_metrics_choice.json" ]; then
            slot
            needs "${method}_seed${seed}" "choice${x}_seed${seed}" &&
                job "choice${x}_seed${seed}" "$PY" tools/analyze_refinement.py "$sd.py" "$(best "$sd")" \
                    --split val --test-choice --out "$S/refine_val$x/seed${seed}"
        fi
    done
done
failed=()
for name in "${!pids[@]}"; do
    finished "$name" || failed+=("$name")
done
if [ "${#failed[@]}" -gt 0 ]; then
    for name in "${failed[@]}"; do
        echo "== $name failed; the end of $LOGS/$name.log:"
        tail -n 20 "$LOGS/$name.log"
    done
    echo "converged_first_stage.sh: ${#failed[@]} job(s) failed: ${failed[*]}" >&2
    exit 1
fi
for method in "${refiners[@]}"; do
    x=$(suffix "$method")
    # shellcheck disable=SC2086  # the method's analysis folders, one per seed
    step "refinement$x" "$PY" tools/analyze_refinement.py --summarize ${dirs[$method]} --out "$S/refinement$x"
done
rows=(--row "MTL baseline, $LONG_ITERS iterations=$C/mtl_seed{seed}/test_metrics.json")
for method in $METHODS; do
    x=$(suffix "$method")
    case $method in
        stagewise) rows+=(--row "stage-wise refinement (+$STAGE_ITERS iterations)=$S/stagewise_seed{seed}/test_metrics.json"
                          --row "stage-wise, per-task output chosen on validation=$S/refine_val/seed{seed}/test_metrics_choice.json") ;;
        mtl_finetune) rows+=(--row "control: head fine-tuning (+$STAGE_ITERS iterations)=$S/mtl_finetune_seed{seed}/test_metrics.json") ;;
        *) name=${label[$method]}
           rows+=(--row "$name (+$STAGE_ITERS iterations)=$S/${method}_seed{seed}/test_metrics.json")
           if [ "${refines[$method]}" = 1 ]; then
               rows+=(--row "$name, per-task output chosen on validation=$S/refine_val$x/seed{seed}/test_metrics_choice.json")
           fi ;;
    esac
done
# shellcheck disable=SC2086
step delta_m_table "$PY" tools/analysis_tools/delta_m_table.py --seeds $SEEDS --tasks $TASKS \
    --stl "$OUT/runs/$SPLIT/seed{seed}/stl_*/test_metrics.json" "${rows[@]}" --out "$S/delta_m_table.md" \
    --json "$S/delta_m_table.json"
echo "== all done in $(( ($(date +%s) - START) / 60 )) min; results under $S"
