#!/usr/bin/env bash
# Every speed measurement of docs/en/results.md ("Model size and speed") in one go.
#
#   bash tools/analysis_tools/benchmark_suite.sh PATH/TO/DiffusionMTL [cpu|cuda] [OUT_DIR]
#
# PATH/TO/DiffusionMTL is your own checkout of github.com/prismformore/DiffusionMTL (only imported, for the
# side-by-side rows). Writes one JSON file per run into OUT_DIR (default work_dirs/benchmark_suite) and prints
# the tables. STEPS / WARMUP override the number of timed / warm-up steps (defaults: 20 / 5 on cuda, 2 / 1 on cpu,
# where one training step at this size takes about 25 s).
set -euo pipefail
OFFICIAL=${1:?usage: benchmark_suite.sh PATH/TO/DiffusionMTL [cpu|cuda] [OUT_DIR]}
DEVICE=${2:-cuda}
OUT_DIR=${3:-work_dirs/benchmark_suite}
if [ "$DEVICE" = cuda ]; then STEPS=${STEPS:-20}; WARMUP=${WARMUP:-5}; else STEPS=${STEPS:-2}; WARMUP=${WARMUP:-1}; fi
mkdir -p "$OUT_DIR"
HERE=$(cd "$(dirname "$0")" && pwd)
BASELINE=$HERE/../../configs/mtl_baseline/mtl-baseline_r18_1xb4-40k_nyud-288x384.py
bench() {
    local name=$1; shift
    echo "=== $name: $*"
    python "$HERE/benchmark.py" --device "$DEVICE" --steps "$STEPS" --warmup "$WARMUP" --batch-size 8 \
        --height 288 --width 384 "$@" --json "$OUT_DIR/$name.json"
}
bench fp32_one --official "$OFFICIAL" --loop --mode both
bench amp_one --official "$OFFICIAL" --loop --mode both --amp
bench fp32_full --official "$OFFICIAL" --loop --mode both --labels full --no-macs
for T in 1 2 3; do
    bench "infer_T$T" --timesteps "$T" --deterministic --mode infer --no-macs
    bench "infer_T${T}_amp" --timesteps "$T" --deterministic --mode infer --no-macs --amp
done
bench infer_baseline --config "$BASELINE" --mode infer --no-macs
bench infer_baseline_amp --config "$BASELINE" --mode infer --no-macs --amp
echo "JSON files in $OUT_DIR"
