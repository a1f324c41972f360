#!/usr/bin/env bash
# The bundled model's training on one CUDA GPU (an H200 trained the shipped one this way):
# the teacher goes on from INIT (f32 weights, train.py --export-f32) on DATA for TEACHER_MIN
# minutes at batch 256, then is distilled into the student for STUDENT_MIN minutes.
# Outputs under OUT/teacher and OUT/student: the shipped-format weights, f32 teacher weights for
# the next run, sample grids and logs. Runs from any directory; needs python3 with torch (CUDA).
# STUDENT_INIT (f32 student weights, distill.py --init) starts the student from an earlier student
# instead of from the new teacher: a short distillation then refines rather than restarts.
# SEEDS=N in the environment: teacher samples (distillation pairs) per image, 8 unless set.
# Usage: scripts/train/gpu.sh DATA.npz INIT.safetensors OUT TEACHER_MIN STUDENT_MIN [STUDENT_INIT]
set -euo pipefail
[ $# -eq 5 ] || [ $# -eq 6 ] || { echo "usage: $0 DATA.npz INIT.safetensors OUT TEACHER_MIN STUDENT_MIN [STUDENT_INIT]" >&2; exit 2; }
data=$(realpath "$1") init=$(realpath "$2") out=$(realpath -m "$3") teacher_min=$4 student_min=$5
student_init=()
[ $# -eq 6 ] && student_init=(--init "$(realpath "$6")" --warmup 100)
config=$(realpath "$(dirname "$0")/../../www/models/denoiser.json")
cd "$(dirname "$0")"
mkdir -p "$out"
python3 -u -m diffusion_lab.train --data "$data" --config "$config" --run "$out/teacher" --init "$init" \
    --device cuda --bf16 --batch 256 --warmup 500 --steps 1000000 --every 5000 --max-minutes "$teacher_min" \
    --export "$out/teacher/denoiser.safetensors" --export-f32 "$out/teacher/denoiser_f32.safetensors"
python3 -u -m diffusion_lab.distill --data "$data" --config "$config" --teacher "$out/teacher/denoiser.safetensors" \
    --run "$out/student" --device cuda --bf16 --seeds "${SEEDS:-8}" --pair-batch 512 --batch 128 --steps 1000000 --every 2000 \
    --max-minutes "$student_min" --export "$out/student/student.safetensors" "${student_init[@]}"
