#!/usr/bin/env bash
# Builds the wasm module into www/pkg/, so that www/ is the complete static site.
# Usage: scripts/build.sh   (runs scripts/setup.sh first unless SKIP_SETUP=1)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_SETUP:-0}" = 1 ] || bash scripts/setup.sh
echo "[build] cargo build --release --target wasm32-unknown-unknown"
cargo build --release --lib --target wasm32-unknown-unknown
wasm-bindgen --target web --no-typescript --out-dir www/pkg \
  target/wasm32-unknown-unknown/release/diffusion_lab.wasm
echo "[build] www/pkg: $(du -sh www/pkg | cut -f1)"
