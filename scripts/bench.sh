#!/usr/bin/env bash
# The browser benchmark in one command: installs what is missing (scripts/setup.sh via build.sh,
# onnx for the ONNX export), builds the wasm, exports the UNet to ONNX (www/bench-build/),
# copies onnxruntime-web into www/vendor/ort, runs www/bench.html in headless Chromium (WebGPU on
# SwiftShader) and prints markdown tables; the figures go to bench-results.json. Safe to run again.
#
# Usage: scripts/bench.sh [--quick] [--out FILE] [--suites ttfi,main,compare,stability]
#   --quick     one warm run per figure and two timed passes (about half the time)
#   --suites    default ttfi,main,compare; stability (1,000 generations in one page: GPU objects,
#               memory and step times over time; over half an hour on SwiftShader, --quick: 50)
#               only runs when named
#   SKIP_BUILD=1  use www/pkg as it is
# Not part of scripts/test.sh: these are figures, not pass/fail tests (tests/e2e/bench.test.mjs
# keeps the ours-vs-onnxruntime-web parity check working).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_BUILD:-0}" = 1 ]; then
  [ -f www/pkg/diffusion_lab_bg.wasm ] || { echo "[bench] www/pkg is missing: run without SKIP_BUILD=1" >&2; exit 1; }
else
  bash scripts/build.sh
fi

# torch + onnx for scripts/train/diffusion_lab/export_onnx.py, in a venv that sees the system's torch
VENV=.cache/bench-venv
if ! "$VENV/bin/python" -c 'import torch, onnx, safetensors' 2>/dev/null; then
  echo "[bench] preparing $VENV (onnx for the ONNX export)"
  python3 -m venv --system-site-packages "$VENV"
  req() { grep "^$1==" scripts/train/requirements.txt; }
  "$VENV/bin/python" -c 'import torch' 2>/dev/null || "$VENV/bin/pip" install -q "$(req torch)"
  "$VENV/bin/python" -c 'import numpy, safetensors' 2>/dev/null || "$VENV/bin/pip" install -q "$(req numpy)" "$(req safetensors)"
  "$VENV/bin/pip" install -q onnx==1.23.2
fi

export OMP_NUM_THREADS=1 DLAB_BENCH_PYTHON="$PWD/$VENV/bin/python"
exec node scripts/bench.mjs "$@"
