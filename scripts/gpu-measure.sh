#!/usr/bin/env bash
# The native GPU figures of docs/performance.md's "On a real GPU" section in one go, for a machine with a
# GPU and a Vulkan driver but no Rust toolchain (build here, copy, run there).
#
#   scripts/gpu-measure.sh build DIR            release `lab` and the gpu_parity test binary → DIR
#   scripts/gpu-measure.sh run DIR OUT [PEAK]   on the GPU machine, from the repository root:
#                                               writes OUT/*.txt and prints the summary
#
# PEAK is the GPU's FP32 peak in GFLOP/s (for the "% of peak" columns; 67000 for an H200).
# `run` measures, in this order:
#   1. gpu_parity (every kernel and the whole UNet against candle, split-K on a discrete GPU);
#   2. `lab profile` of the teacher's forward for each conv2d split-K factor (LAB_CONV_SPLIT=1 … 64,
#      then the default rule), at the page's batch and at batch 64: the split-K sweep;
#   3. `lab profile` of both models with the default rule (per-kernel table);
#   4. `lab bench --runs 10` (ours against candle on the CPU) and `lab stability --runs 300`.
# A smoke test on a CPU adapter: REPS=1 BATCHES=2 SPLITS="1 default" RUNS=1 STABILITY_RUNS=2.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
build)
  [ $# -eq 2 ] || { echo "usage: $0 build DIR" >&2; exit 2; }
  dir=$2
  mkdir -p "$dir"
  cargo build --release --features cli --bin lab
  cp target/release/lab "$dir/lab"
  # the test binary's path is in cargo's JSON messages
  test_bin=$(cargo test --release --test gpu_parity --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "gpu_parity":
        print(m["executable"])')
  [ -n "$test_bin" ] || { echo "[gpu-measure] cargo built no gpu_parity test binary" >&2; exit 1; }
  cp "$test_bin" "$dir/gpu_parity"
  strip "$dir/lab" "$dir/gpu_parity" 2>/dev/null || true
  ls -la "$dir"
  ;;
run)
  [ $# -ge 3 ] || { echo "usage: $0 run DIR OUT [PEAK_GFLOPS]" >&2; exit 2; }
  dir=$(realpath "$2") out=$(realpath -m "$3") peak=${4:-}
  mkdir -p "$out"
  peak_flag=()
  [ -n "$peak" ] && peak_flag=(--peak-gflops "$peak")
  lab=$dir/lab
  # whole-forward line of a profile: "whole forward: 6.040 ms (150.30 GFLOP/s); …"
  forward_of() { grep -m1 '^whole forward' "$1" | sed 's/;.*//'; }
  reps=${REPS:-50} batches=${BATCHES:-2 64} splits=${SPLITS:-1 2 4 8 16 32 64 default}

  echo "## gpu_parity"
  "$dir/gpu_parity" --test-threads 1 --nocapture >"$out/parity.txt" 2>&1 && echo "passed" || echo "FAILED (see parity.txt)"
  grep -E '^test result|adapter:' "$out/parity.txt" | sort -u

  echo "## split-K sweep (teacher forward)"
  for batch in $batches; do
    for split in $splits; do
      f=$out/split_b${batch}_${split}.txt
      if [ "$split" = default ]; then
        "$lab" profile --model teacher --batch "$batch" --reps "$reps" "${peak_flag[@]}" >"$f" 2>&1 || true
      else
        LAB_CONV_SPLIT=$split "$lab" profile --model teacher --batch "$batch" --reps "$reps" "${peak_flag[@]}" >"$f" 2>&1 || true
      fi
      echo "batch $batch, S = $split: $(forward_of "$f")"
    done
  done | tee "$out/split_sweep.txt"

  echo "## profiles with the default rule"
  for model in student teacher; do
    "$lab" profile --model "$model" --reps "$reps" "${peak_flag[@]}" --json "$out/profile_$model.json" >"$out/profile_$model.txt" 2>&1
    head -16 "$out/profile_$model.txt"
  done

  echo "## bench and stability"
  "$lab" bench --runs "${RUNS:-10}" >"$out/bench.txt" 2>&1
  cat "$out/bench.txt"
  "$lab" stability --runs "${STABILITY_RUNS:-300}" --model student >"$out/stability.txt" 2>&1
  tail -8 "$out/stability.txt"
  ;;
*)
  echo "usage: $0 build DIR | run DIR OUT [PEAK_GFLOPS]" >&2
  exit 2
  ;;
esac
