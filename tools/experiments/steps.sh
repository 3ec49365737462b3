# Shared by the experiment scripts of this folder (sourced, not run):
# `step NAME COMMAND...` prints the command, runs it unless DRY_RUN=1, and
# prints its time and the total since the script started.
START=$(date +%s)
step() {  # step NAME COMMAND...
    local name=$1 t0
    shift
    echo "== ${name}: $*"
    [ "${DRY_RUN:-0}" = 1 ] && return 0
    t0=$(date +%s)
    "$@"
    echo "== ${name}: $(( $(date +%s) - t0 )) s (total $(( ($(date +%s) - START) / 60 )) min)"
}
