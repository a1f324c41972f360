#!/usr/bin/env bash
# The scene teacher's training on one CUDA GPU, in one command, for a lent machine with python3 +
# PyTorch (CUDA), numpy, pillow, safetensors and tokenizers but no package registry.
# It builds the caption bank there (the text encoder embeds 97k captions in seconds on a GPU, so
# the bank need not travel), goes on from INIT (default: the committed resume point) at batch 256
# for MINUTES, with painting workers on all but two cores (one core paints ~800 scenes/s, a GPU
# trains this UNet ~10x faster), and leaves in OUT: denoiser.safetensors (the shipped int8 format:
# the next checkpoints/scene_teacher.safetensors once scene_eval says it is better),
# denoiser_f32.safetensors, sample grids and the log. With STUDENT_MIN > 0 it then distils a
# 4-step student from that teacher (distill.py: PAIR_SPECS specs, default 20,000, two noises each,
# so each caption keeps several pictures) for STUDENT_MIN minutes: OUT/student.safetensors.
#
# What the machine needs beside the repository's tracked files (≈ 52 MB; `run`'s carry list):
#   node_modules/emoji-datasource-google/img/google/64  node_modules/emoji-datasource-twitter/img/twitter/64
#   node_modules/emojibase-data/de  node_modules/emojibase-data/en
#   www/models/text_encoder.safetensors  www/models/tokenizer.json
# Usage: scripts/train/gpu_scenes.sh OUT TEACHER_MIN STUDENT_MIN [INIT.safetensors]
#   WORK=DIR keeps the bank (69 MB) and the run directories (checkpoints) there instead of in OUT,
#   so that OUT holds only what comes back: the weights, the grids and the logs.
#   DEVICE=cpu SPECS=200 PAIR_SPECS=8 BATCH=16 for a smoke test on a machine without a GPU.
set -euo pipefail
shopt -s nullglob  # no sample grid yet: the copy loops below run zero times
[ $# -ge 3 ] && [ $# -le 4 ] || { echo "usage: $0 OUT TEACHER_MIN STUDENT_MIN [INIT.safetensors]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
out=$(realpath -m "$1") teacher_min=$2 student_min=$3
init=$(realpath "${4:-$here/checkpoints/scene_teacher.safetensors}")
device=${DEVICE:-cuda} specs=${SPECS:-50000} batch=${BATCH:-256}
py=${PYTHON:-python3}
workers=$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))
root=$(realpath "$here/../..")
work=$(realpath -m "${WORK:-$out}")
mkdir -p "$out" "$work"
cd "$here"
"$py" - <<'PY' || exit 1
import importlib.util, sys
missing = [m for m in ("torch", "numpy", "PIL", "safetensors", "tokenizers") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"[gpu_scenes] this python lacks {', '.join(missing)}: carry a folder with them and set PYTHONPATH")
PY
for need in "$root/node_modules/emojibase-data/en/data.json" "$root/www/models/text_encoder.safetensors"; do
  [ -e "$need" ] || { echo "[gpu_scenes] missing $need (see the carry list at the top of $0)" >&2; exit 1; }
done
# the same bank as on the CPU (seed 0): specs and captions are identical, embeddings equal up to float rounding
bank=$work/bank$specs.npz
[ -f "$bank" ] || "$py" -u -m diffusion_lab.scenes "$root/node_modules" "$root/www/models" "$bank" --specs "$specs" --device "$device"
bf16=()
[ "$device" = cuda ] && bf16=(--bf16)
"$py" -u -m diffusion_lab.train --data "$bank" --config "$root/www/models/denoiser.json" --run "$work/scene-teacher" \
    --node-modules "$root/node_modules" --init "$init" --device "$device" "${bf16[@]}" --batch "$batch" --lr 4e-4 \
    --min-snr 5 --object-weight 4 --warmup 500 --steps 10000000 --every 2000 --max-minutes "$teacher_min" \
    --paint-workers "$workers" \
    --export "$out/denoiser.safetensors" --export-f32 "$out/denoiser_f32.safetensors" 2>&1 | tee "$out/train.log"
for f in "$work"/scene-teacher/samples_*.png; do cp "$f" "$out/teacher_$(basename "$f")"; done
echo "[gpu_scenes] teacher: $out/denoiser.safetensors (last: $(grep '^step' "$out/train.log" | tail -n 1))"
if [ "$student_min" != 0 ]; then
  rm -rf "$work/scene-student"  # its pairs and checkpoint belong to an earlier teacher
  "$py" -u -m diffusion_lab.distill --data "$bank" --config "$root/www/models/denoiser.json" \
      --teacher "$out/denoiser.safetensors" --run "$work/scene-student" --node-modules "$root/node_modules" \
      --device "$device" "${bf16[@]}" --seeds 2 --pair-specs "${PAIR_SPECS:-20000}" --pair-batch 512 \
      --batch "$batch" --steps 10000000 --every 2000 --max-minutes "$student_min" \
      --export "$out/student.safetensors" 2>&1 | tee "$out/distill.log"
  for f in "$work"/scene-student/samples_*.png; do cp "$f" "$out/student_$(basename "$f")"; done
  echo "[gpu_scenes] student: $out/student.safetensors (last: $(grep '^step' "$out/distill.log" | tail -n 1))"
fi
