#!/usr/bin/env bash
# One-command setup of mmdmtl and everything it needs, on a fresh machine.
#
#   bash tools/install.sh            # runtime + mmdmtl (editable)
#   bash tools/install.sh --tests    # ... plus the test/lint tools
#
# What it does, skipping every step that is already satisfied:
#   1. build tools pinned to setuptools>=77.0.3,<81 (torch needs >=77.0.3,
#      mmengine's `mmseg::` configs, mim and the mmcv build need pkg_resources,
#      which setuptools>=81 removed);
#   2. torch (2.13.0 unless a torch is already installed, e.g. a CUDA build);
#   3. full mmcv 2.1.0 with compiled ops. If no working mmcv is installed, a
#      cached wheel from an earlier build is reused; otherwise the source
#      distribution is built once (MMCV_WITH_OPS=1, --no-build-isolation,
#      about 6-9 minutes on 2 CPU cores) and the wheel is cached in
#      $MMDMTL_CACHE (default ~/.cache/mmdmtl). CUDA users may instead run
#      `mim install mmcv==2.1.0` first to get a prebuilt wheel;
#   4. mmsegmentation 1.2.2, mmengine 0.10.x and the other runtime pins;
#   5. openmim (without its openxlab dependency, which downgrades setuptools);
#   6. mmdmtl itself (`pip install -e .`).
# Environment: PYTHON (interpreter, default python3), TORCH_VERSION,
# MMCV_VERSION, MAX_JOBS, MMDMTL_CACHE.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python3}"
PIP=("$PY" -m pip --disable-pip-version-check)
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
MMCV_VERSION="${MMCV_VERSION:-2.1.0}"
CACHE="${MMDMTL_CACHE:-$HOME/.cache/mmdmtl}"
WITH_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=1 ;;
    -h|--help) sed -n '2,26p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

log() { printf '\n[mmdmtl install] %s\n' "$*"; }

log "build tools (setuptools>=77.0.3,<81, wheel, ninja)"
"${PIP[@]}" install -q "setuptools>=77.0.3,<81" wheel ninja packaging

if "$PY" -c "import torch" 2>/dev/null; then
  log "torch $("$PY" -c 'import torch; print(torch.__version__)') already installed"
else
  log "installing torch==$TORCH_VERSION"
  "${PIP[@]}" install -q "torch==$TORCH_VERSION"
fi

MMCV_OK='
import mmcv
from mmcv import _ext  # noqa: F401  compiled ops present
from packaging.version import Version
assert Version("2.0.0rc4") <= Version(mmcv.__version__) < Version("2.2.0"), mmcv.__version__
'
if "$PY" -c "$MMCV_OK" 2>/dev/null; then
  log "mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)') with ops already installed"
else
  # mmcv's own runtime dependencies (installed first: its build imports them)
  "${PIP[@]}" install -q addict yapf pyyaml Pillow opencv-python "mmengine>=0.10.4,<0.11"
  TAG="$("$PY" -c 'import sys, torch; print(f"torch-{torch.__version__}-py{sys.version_info[0]}{sys.version_info[1]}")')"
  WHEELS="$CACHE/wheels/$TAG"
  mkdir -p "$WHEELS"
  WHEEL="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$WHEEL" ]; then
    log "building mmcv==$MMCV_VERSION with ops from source (once; ~6-9 min on 2 cores) into $WHEELS"
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" "${PIP[@]}" wheel --no-build-isolation \
      --no-deps "mmcv==$MMCV_VERSION" -w "$WHEELS"
    WHEEL="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
  else
    log "reusing cached mmcv build $WHEEL"
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL"
  "$PY" -c "$MMCV_OK"
fi

log "runtime requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt"

if ! "$PY" -c "import mim" 2>/dev/null; then
  log "openmim (without openxlab)"
  "${PIP[@]}" install -q -r "$ROOT/requirements/mim.txt"
  "${PIP[@]}" install -q --no-deps "openmim==0.3.9"
fi

if [ "$WITH_TESTS" = 1 ]; then
  log "test requirements"
  "${PIP[@]}" install -q -r "$ROOT/requirements/tests.txt"
fi

log "mmdmtl (editable)"
"${PIP[@]}" install -q --no-build-isolation --no-deps -e "$ROOT"

"$PY" - <<'PY'
import mmcv, mmengine, mmseg, torch
from mmcv.ops import nms  # noqa: F401
import mmdmtl
print(f'[mmdmtl install] OK: torch {torch.__version__}, mmcv {mmcv.__version__}, '
      f'mmengine {mmengine.__version__}, mmseg {mmseg.__version__}, mmdmtl {mmdmtl.__version__}')
PY
