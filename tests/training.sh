#!/usr/bin/env bash
# The model-building path of docs/training.md ("Rebuilding the emoji model"), run small, as a fresh clone
# would: `lab data` builds the data set; train.py trains a teacher, stops, and resumes; distill.py
# distils a student; the Rust side (candle) loads both exports, samples and evaluates them.
# Also checks that the committed candle-vs-PyTorch fixtures are what today's PyTorch code writes.
# Needs scripts/setup.sh's .venv and node_modules; installs PyTorch (scripts/train/requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[training]\033[0m %s\n' "$*"; }
py=$PWD/.venv/bin/python
$py -c "import torch, PIL, tokenizers, onnx" 2>/dev/null || .venv/bin/pip install -q -r scripts/train/requirements.txt
cargo build -q --features cli --bin lab
lab=$PWD/target/debug/lab
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# train MODULE ARGS…: python -m diffusion_lab.MODULE from scripts/train
train() { (cd scripts/train && "$py" -u -m "diffusion_lab.$1" "${@:2}"); }

say "lab data (the documented command: every caption of the Noto data set embedded)"
"$lab" data
$py - <<'PY'
import json, sys
from pathlib import Path
import numpy as np
d = dict(np.load("data/emoji32.npz"))
n, val = len(d["images"]), int(d["val"].sum())
assert d["images"].shape[1:] == (32, 32, 3), d["images"].shape
assert (n, val) == (459, 115), (n, val)
assert d["embeddings"].shape == (len(d["captions"]), 384)
caps = set(d["captions"].tolist())
assert {"Hund", "dog", "ein Bild von Hund", "a picture of dog"} <= caps
assert json.loads(str(d["sources"]))["google"]["licence"] == "Apache-2.0"
# skin-tone variants: emojibase nests them under their base emoji (the people group has 330), and
# the data set takes only base entries, in any group
sys.path.insert(0, "scripts/train")
from diffusion_lab.data import select_emoji
people = select_emoji(Path("node_modules"), {1}, "google")
skin_tones = ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")
assert len(people) > 100 and not [h for h in people if any(t in h for t in skin_tones)]
print(f"data/emoji32.npz: {n} images, {val} held out, {len(caps)} captions")
PY

say "lab eval reads the same emoji, labels and validation split as data.py"
"$lab" eval --list-emoji "$work/emoji.tsv"
$py - "$work/emoji.tsv" <<'PY'
import sys, numpy as np
d = dict(np.load("data/emoji32.npz"))
rows = [line.split("\t") for line in open(sys.argv[1], encoding="utf-8").read().splitlines()]
assert [r[0] for r in rows] == d["hexcodes"].tolist(), "the emoji differ"
assert [r[3] == "val" for r in rows] == d["val"].tolist(), "the validation split differs"
for i, (hexcode, de, en, split, images) in enumerate(rows):
    caps = {str(d["captions"][j]) for j in d["caption_ids"][d["caption_offsets"][i]:d["caption_offsets"][i + 1]]}
    assert de in caps and en in caps, (hexcode, de, en)
print(f"{len(rows)} emoji, labels and split alike")
PY

say "a two-style data set (Noto + Twemoji, food & drink only)"
train data ../../node_modules ../../www/models "$work/tw.npz" --groups 4 --sources google,twitter
$py - "$work/tw.npz" <<'PY'
import json, sys, numpy as np
d = dict(np.load(sys.argv[1]))  # dict: an NpzFile reads an array again at every access
styles = d["styles"].tolist()
assert set(styles) == {"google", "twitter"}, set(styles)
sources = json.loads(str(d["sources"]))
assert sources["twitter"]["licence"] == "CC-BY-4.0" and "Twemoji" in sources["twitter"]["attribution"]
# every image has captions naming its own style in both languages, and none naming the other's
for i, style in enumerate(styles):
    caps = [str(d["captions"][j]) for j in d["caption_ids"][d["caption_offsets"][i]:d["caption_offsets"][i + 1]]]
    own, other = ("Twemoji", "Noto") if style == "twitter" else ("Noto", "Twemoji")
    assert any(c.endswith(f"im {own}-Stil") for c in caps) and any(c.endswith(f"in {own} style") for c in caps), caps
    assert not any(other in c for c in caps), caps
print(f"two styles: {styles.count('google')} Noto, {styles.count('twitter')} Twemoji images")
PY

mkdir -p "$work/models"
cp www/models/* "$work/models/"
rm "$work/models/student.safetensors" "$work/models/denoiser.safetensors" "$work/models/manifest.json"
say "teacher: 20 steps, then the same command resumes to 30"
teacher_args=(--data "$work/tw.npz" --config ../../www/models/denoiser.json --run "$work/teacher"
              --batch 8 --every 10 --export "$work/models/denoiser.safetensors")
train train "${teacher_args[@]}" --steps 20
train train "${teacher_args[@]}" --steps 30 | tee "$work/resume.log"
grep -q "resumed at step 20" "$work/resume.log"
$py - "$work/teacher" <<'PY'
import json, sys
from pathlib import Path
import numpy as np
from PIL import Image
run = Path(sys.argv[1])
steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
assert steps == [10, 20, 30], steps
grid = Image.open(run / "samples_000030.png")
colours = len(np.unique(np.asarray(grid.convert("RGB")).reshape(-1, 3), axis=0))
assert grid.size[0] == 8 * 32 * 4 and colours > 16, "the sample grid is empty"
print(f"checkpoints at steps {steps}, sample grid {grid.size}")
PY

say "student: teacher pairs (one noise per image), 20 distillation steps"
train distill --data "$work/tw.npz" --config ../../www/models/denoiser.json \
  --teacher "$work/models/denoiser.safetensors" --run "$work/student" --seeds 1 --pair-batch 128 \
  --steps 20 --batch 8 --every 10 --export "$work/models/student.safetensors" | tee "$work/distill.log"
grep -q "teacher pairs" "$work/distill.log"

say "candle loads both exports: manifest, sample, eval"
"$lab" manifest --models "$work/models"
for model in teacher student; do
  "$lab" sample --models "$work/models" --model "$model" --steps 2 --backend cpu \
    --prompt "Pizza im Twemoji-Stil" --out "$work/$model.png"
done
$py - "$work" <<'PY'
import sys
import numpy as np
from PIL import Image
for model in ("teacher", "student"):
    img = Image.open(f"{sys.argv[1]}/{model}.png")
    assert img.size == (32, 32), img.size
    colours = len(np.unique(np.asarray(img.convert("RGB")).reshape(-1, 3), axis=0))
    assert colours > 8, f"{model}: a flat image"
print("teacher and student images: 32x32, not flat")
PY
"$lab" eval --models "$work/models" --every 115 --seeds 2 --sources google,twitter | tee "$work/eval.log"
grep -q "| teacher | 8 | 16 |" "$work/eval.log"
grep -q "| student | 4 | 4 |" "$work/eval.log"

say "scenes: the caption grammar, the specs and the painter"
$py tests/scenes_test.py node_modules

say "scenes: a caption bank, a teacher trained on it (painted on the fly, min-SNR), detector, eval"
train scenes ../../node_modules ../../www/models "$work/bank.npz" --specs 200
scene_args=(--data "$work/bank.npz" --config ../../www/models/denoiser.json --run "$work/scene-teacher"
            --batch 8 --every 5 --min-snr 5 --init ../../www/models/denoiser.safetensors --warmup 5
            --export "$work/scene-teacher.safetensors")
train train "${scene_args[@]}" --steps 5
train train "${scene_args[@]}" --steps 10 --paint-workers 2 | tee "$work/scene-resume.log"
grep -q "resumed at step 5" "$work/scene-resume.log"
# painting workers (for a GPU that outruns one painting core) paint what one process paints
$py - "$work/bank.npz" <<'PY'
import sys
import numpy as np
sys.path.insert(0, "scripts/train")
from diffusion_lab.scenes import SceneData
alone, pooled = SceneData(sys.argv[1], "node_modules"), SceneData(sys.argv[1], "node_modules", paint_workers=2)
for step in (3, 4, 5, 9):  # 4 and 5 come from the pool's prefetch, 9 after a skip
    (ids_a, a, ma), (ids_p, p, mp) = alone.pictures(40, step), pooled.pictures(40, step)
    assert np.array_equal(ids_a, ids_p) and np.array_equal(a, p) and np.array_equal(ma, mp), \
        f"step {step}: the workers painted other pictures"
assert not np.array_equal(alone.pictures(40, 3)[1], alone.pictures(40, 4)[1])
assert a.shape == (40, 32, 32, 3) and a.dtype == np.uint8
assert ma.shape == (40, 32, 32) and ma.min() >= 0 and ma.max() <= 1
assert all(0 < m.mean() < 1 for m in ma), "every picture has an object, none is all object"
pooled.close()
assert pooled.pool is None
print("painting workers: the same pictures as one process, step by step")
PY
$py - "$work/bank.npz" "$work/scene-teacher" <<'PY'
import json, sys
from pathlib import Path
import numpy as np
from PIL import Image
d = dict(np.load(sys.argv[1]))
specs = [json.loads(s) for s in d["specs"]]
assert len(specs) == 200 and d["caption_pairs"].shape == (200, 2)
assert d["embeddings"].shape == (len(d["captions"]), 384)
preview = [str(d["captions"][i]) for i in d["preview"]]
assert preview[0] == "Ein Hund im Park", preview
assert {"Apache-2.0", "CC-BY-4.0"} == {s["licence"] for s in json.loads(str(d["sources"])).values()}
grid = Image.open(Path(sys.argv[2]) / "samples_000010.png")
assert len(np.unique(np.asarray(grid.convert("RGB")).reshape(-1, 3), axis=0)) > 16, "the sample grid is empty"
print(f"bank: {len(specs)} specs, {len(d['captions'])} captions; teacher resumed, grid drawn")
PY
# the object-weighted loss trains, and the region loss scores the result
train train "${scene_args[@]}" --steps 12 --object-weight 4 | tee "$work/scene-object-weight.log"
grep -q "resumed at step 10" "$work/scene-object-weight.log"
$py - <<'PY'
import sys
import torch
sys.path.insert(0, "scripts/train")
from diffusion_lab.training import pixel_weights
masks = torch.zeros(2, 1, 4, 4)
masks[0, :, :2, :2] = 1.0  # a quarter of the first picture is object
masks[1, :, 0, 0] = 0.5  # half a pixel of the second
w = pixel_weights(masks, 4.0)
assert torch.allclose(w.mean(dim=(1, 2, 3)), torch.ones(2)), "each picture keeps its weight"
assert torch.isclose(w[0, 0, 0, 0] / w[0, 0, 3, 3], torch.tensor(4.0)) and torch.isclose(w[1, 0, 0, 0] / w[1, 0, 3, 3], torch.tensor(2.5))
assert pixel_weights(masks, None) is None
try:
    pixel_weights(None, 4.0)
    raise AssertionError("--object-weight without masks was accepted")
except ValueError:
    pass
print("object weights: objects count 4x, each picture's mean weight stays 1")
PY
train region_loss "$work/bank.npz" ../../www/models/denoiser.json "$work/scene-teacher.safetensors" --n 64 \
  | tee "$work/region-loss.log"
grep -Eq "^\| .*scene-teacher.safetensors \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|$" "$work/region-loss.log"
train detector ../../node_modules "$work/detector.safetensors" --steps 20 --batch 32 | tee "$work/detector.log"
grep -q "fresh pictures: object top-1" "$work/detector.log"
train scene_eval "$work/scene-teacher.safetensors" "$work/detector.safetensors" --seeds 2 --held-out 2 \
  --steps 4 --learner 8 --grid "$work/scene-grid.png" | tee "$work/scene-eval.log"
for row in "held-out wordings | de" "held-out combinations | en" "learner prompts | de"; do
  grep -q "| $row |" "$work/scene-eval.log"
done
grep -q "^diversity" "$work/scene-eval.log"
# what `lab eval --scenes` reads, from that detector: the committed set's prompts and classes
# are what scene_eval.py makes today, and lab reads the written detector
train scene_eval --write-eval-set "$work/eval-set" "$work/detector.safetensors" | tee "$work/eval-set.log"
grep -q "^176 prompts, detector ceiling" "$work/eval-set.log"
$py - "$work/eval-set/scene_eval.json" scripts/train/checkpoints/scene_eval.json <<'PY'
import json, sys
new, committed = (json.load(open(p)) for p in sys.argv[1:])
for key in ("objects", "scenes", "groups", "prompts"):
    assert new[key] == committed[key], f"scene_eval.json: {key} differs from what scene_eval.py writes"
PY
"$lab" eval --scenes --scene-set "$work/eval-set/scene_eval.json" --detector "$work/eval-set/scene_detector.safetensors" \
  --model student --seeds 2 > "$work/lab-eval-scenes.log" 2>&1 || { cat "$work/lab-eval-scenes.log"; exit 1; }
grep -q "| student | learner prompts | en | 56 |" "$work/lab-eval-scenes.log"
# a scene student from that teacher: pairs from the bank's first specs, several noises each
train distill --data "$work/bank.npz" --config ../../www/models/denoiser.json --teacher "$work/scene-teacher.safetensors" \
  --run "$work/scene-student" --pair-specs 12 --seeds 2 --pair-batch 8 --steps 4 --batch 8 --every 4 \
  --export "$work/scene-student.safetensors" | tee "$work/scene-student.log"
grep -q "^24 teacher pairs" "$work/scene-student.log"
test -s "$work/scene-student.safetensors"
# more specs extend the pairs file (the first pairs kept) and the student goes on from its checkpoint
train distill --data "$work/bank.npz" --config ../../www/models/denoiser.json --teacher "$work/scene-teacher.safetensors" \
  --run "$work/scene-student" --pair-specs 16 --seeds 2 --pair-batch 8 --steps 6 --batch 8 --every 2 \
  --export "$work/scene-student.safetensors" | tee "$work/scene-student2.log"
grep -q "^pairs extended from 12 to 16 specs" "$work/scene-student2.log"
grep -q "^32 teacher pairs" "$work/scene-student2.log"
grep -q "resum" "$work/scene-student2.log"

say "the forward panel's examples (www/examples) are what diffusion_lab.examples paints today"
train examples ../../node_modules "$work/examples" > /dev/null
$py - "$work/examples" www/examples <<'PY'
import json, sys
from pathlib import Path
import numpy as np
from PIL import Image
new, committed = (Path(p) for p in sys.argv[1:])
entries = json.loads((new / "examples.json").read_text())
assert entries == json.loads((committed / "examples.json").read_text()), "examples.json differs"
for e in entries:
    a, b = (np.asarray(Image.open(d / e["file"]).convert("RGB")) for d in (new, committed))
    assert a.shape == (64, 64, 3) and (a == b).all(), f"{e['file']} differs from what examples.py paints"
PY

say "the committed fixtures are what diffusion_lab.fixtures writes today"
mkdir -p "$work/fixtures"
train fixtures ../../www/models "$work/fixtures"
$py - "$work/fixtures" tests/fixtures <<'PY'
import sys
from pathlib import Path
from safetensors.numpy import load_file
new, old = Path(sys.argv[1]), Path(sys.argv[2])
# float rounding differs between CPUs and thread counts; the deep shipped-shape net gathers more of it
for name, tol in (("unet_torch", 1e-5), ("unet_shipped", 1e-4), ("text_torch", 1e-5)):
    if (old / f"{name}.json").exists():
        assert (new / f"{name}.json").read_text() == (old / f"{name}.json").read_text(), f"{name}.json differs"
    a, b = load_file(new / f"{name}.safetensors"), load_file(old / f"{name}.safetensors")
    assert a.keys() == b.keys(), f"{name}: tensor names differ"
    err = max(float(abs(a[k] - b[k]).max()) for k in a)
    assert err <= tol, f"{name}: max abs difference {err} (allowed {tol})"
    print(f"{name}: {len(a)} tensors, max abs difference {err:.1e}")
PY
say "passed"
