#!/usr/bin/env bash
# Builds data/emoji32.npz, the training set, from the npm packages in package-lock.json
# (Noto Emoji images + emojibase-data German/English captions, every caption embedded with the
# bundled text encoder). `cargo run --features cli --bin lab -- data` runs this script.
# Extra arguments go to diffusion_lab.data (e.g. --groups 0,3,4 --size 32).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/emoji-datasource-google ] && [ -d node_modules/emojibase-data ] || npm ci
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -c "import numpy, safetensors" 2>/dev/null || .venv/bin/pip install -q numpy==2.4.6 safetensors==0.8.0
bash scripts/text_encoder.sh
.venv/bin/python -c "import torch, PIL, tokenizers" 2>/dev/null || .venv/bin/pip install -q -r scripts/train/requirements.txt
mkdir -p data
cd scripts/train
../../.venv/bin/python -m diffusion_lab.data ../../node_modules ../../www/models ../../data/emoji32.npz "$@"
