#!/usr/bin/env bash
# Runs every test: formatting, the JS lint and clippy, Rust unit tests, candle-vs-PyTorch fixtures,
# GPU kernel parity on Mesa lavapipe, the model-building path run small (tests/training.sh:
# installs PyTorch), the wasm build, and the browser end-to-end tests (Chromium, WebGPU on
# SwiftShader).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "[test] formatting and lint: cargo fmt --check (rustfmt.toml), ESLint on every JS file (eslint.config.js)"
cargo fmt --check
npx --no-install eslint .
echo "[test] clippy with warnings denied: native (with the CLI and tests) and the browser build"
cargo clippy --features cli --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
echo "[test] cargo test (unit, fixtures, GPU parity on lavapipe)"
cargo test --features cli -- --nocapture --test-threads=1
echo "[test] the model-building path: data set, teacher, student, candle loads them"
bash tests/training.sh
SKIP_SETUP=1 bash scripts/build.sh
echo "[test] browser end-to-end tests"
# the ONNX parity check must run, not skip: .venv has torch and onnx (tests/training.sh)
DLAB_REQUIRE_PARITY=1 node --test --test-concurrency=1 tests/e2e/
echo "[test] all passed"
