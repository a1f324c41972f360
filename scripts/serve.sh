#!/usr/bin/env bash
# Installs what is missing, builds, and serves the page with the bundled model.
# Usage: scripts/serve.sh [--port 8080] [--host 127.0.0.1]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec node scripts/serve.mjs --root www "$@"
