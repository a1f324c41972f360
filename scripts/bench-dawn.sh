#!/usr/bin/env bash
# Our wasm and onnxruntime-web in Dawn (npm `webgpu`, the WebGPU engine inside Chrome) on a real
# GPU, from one tarball that needs only Node 20+ there (no Rust, no Python, no package registry).
#
#   scripts/bench-dawn.sh pack [FILE]   here: build www/pkg, export the ONNX files, and pack
#                                       everything the run needs into FILE (default
#                                       .cache/bench-dawn.tar.gz, gitignored; under 64 MiB)
#   scripts/bench-dawn.sh run [FILE] [ARGS]   there: unpack FILE into .cache/bench-dawn/ and run
#                                       scripts/bench-dawn.mjs from it with ARGS (default:
#                                       --all-adapters); without FILE it runs in this checkout
#
# The tarball holds the harness (scripts/bench-dawn.mjs, www/bench-common.js, scripts/serve.mjs, this script),
# www/pkg, www/models, the ONNX files (www/bench-build), onnxruntime-web's WebGPU build
# (www/vendor/ort) and node_modules/webgpu with its linux-x64 Dawn only.
# SKIP_BUILD=1 packs www/pkg as it is.
set -euo pipefail
# FILE is named from where the command runs; resolve it before moving to the repository root
case "${1:-}/${2:-}" in
  run/*.tar.gz)
    [ -f "$2" ] || { echo "[bench-dawn] no such tarball: $2" >&2; exit 1; }
    set -- "$1" "$(realpath "$2")" "${@:3}" ;;
  pack/?*) [[ "$2" == -* ]] || set -- "$1" "$(realpath -m "$2")" "${@:3}" ;;
esac
cd "$(dirname "$0")/.."
root=$PWD

cmd=${1:-}
shift || true
case "$cmd" in
  pack)
    out=${1:-.cache/bench-dawn.tar.gz}
    if [ "${SKIP_BUILD:-0}" = 1 ]; then
      [ -f www/pkg/diffusion_lab_bg.wasm ] || { echo "[bench-dawn] www/pkg is missing: run without SKIP_BUILD=1" >&2; exit 1; }
    else
      bash scripts/build.sh
    fi
    [ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "[bench-dawn] node_modules/webgpu is missing: run scripts/setup.sh" >&2; exit 1; }
    # the ONNX export and ORT's files (www/bench-build, www/vendor/ort): python with torch and onnx
    # (scripts/bench.sh and scripts/test.sh install them)
    node scripts/bench-prepare.mjs >/dev/null
    mapfile -t models < <(node -e '
      const m = require("./www/models/manifest.json");
      for (const f of ["manifest.json", "denoiser.json", ...m.files.map((f) => f.name)]) console.log("www/models/" + f);')
    mkdir -p "$(dirname "$out")"
    tar -czf "$out" package.json scripts/bench-dawn.sh scripts/bench-dawn.mjs scripts/serve.mjs www/bench-common.js \
      www/pkg/diffusion_lab.js www/pkg/diffusion_lab_bg.wasm "${models[@]}" \
      www/bench-build/bench.json www/bench-build/teacher-b2.onnx www/bench-build/student-b1.onnx \
      www/vendor/ort \
      node_modules/webgpu/package.json node_modules/webgpu/index.js node_modules/webgpu/LICENSE.md \
      node_modules/webgpu/dist/linux-x64
    bytes=$(stat -c %s "$out")
    echo "[bench-dawn] $out: $((bytes / 1048576)) MiB ($bytes bytes)"
    [ "$bytes" -le $((64 * 1048576)) ] || { echo "[bench-dawn] over 64 MiB" >&2; exit 1; }
    ;;
  run)
    if [ $# -gt 0 ] && [ -f "$1" ]; then
      tarball=$1
      shift
      dir=.cache/bench-dawn
      rm -rf "$dir"
      mkdir -p "$dir"
      tar -xzf "$tarball" -C "$dir"
      cd "$dir"
    fi
    [ $# -gt 0 ] || set -- --all-adapters
    # the results stay outside .cache/bench-dawn, which the next run empties
    [[ " $* " == *" --out "* ]] || set -- "$@" --out "$root/bench-dawn-results.json"
    exec node scripts/bench-dawn.mjs "$@"
    ;;
  *)
    echo "usage: scripts/bench-dawn.sh pack [FILE] | run [FILE] [bench-dawn.mjs arguments]" >&2
    exit 2
    ;;
esac
