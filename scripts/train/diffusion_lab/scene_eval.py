"""Does the model draw what a learner asks for? Object right, scene right and variety across seeds.

Three prompt sets, none of them trained as such:
- held-out wordings: the caption frames scenes.py never trains (HELD_OUT_FRAMES) on trained
  object x scene pairs;
- held-out combinations: trained frames on object x scene pairs training never shows;
- learner prompts (LEARNER): written the way people type them, with words and phrasings the
  grammar does not have, in German and English.
The detector (detector.py) names each picture's object and scene; an object counts as right in
the top 5 when the prompt's noun is among the detector's five likeliest. Diversity: the mean
pixel distance between two seeds of one prompt divided by that between two prompts.
Usage: python -m diffusion_lab.scene_eval MODEL.safetensors DETECTOR.safetensors [--seeds 4]
       python -m diffusion_lab.scene_eval --write-eval-set DIR DETECTOR.safetensors
The second form writes what `lab eval --scenes` reads: DIR/scene_detector.safetensors (the
detector's weights in f16, its classes left out) and DIR/scene_eval.json (the classes, the
prompts with their noun and scene, and the detector's ceiling on painted pictures); with
--fixture FILE also the detector's logits on four painted pictures (tests/reference_parity.rs).
"""
import argparse
import itertools
import json

import numpy as np
import torch

from .detector import SCENE_CLASSES, load as load_detector, random_labelled_spec, to_tensor
from .quantize import load_torch
from .scenes import HELD_OUT_FRAMES, SCENE_NAMES, Painter, caption, everyday_nouns, held_out_combo, load_concepts
from .schedule import alphas_cumprod
from .text_encoder import TextEncoder
from .training import sample_ddim
from .unet import UNet, load_config

# (language, prompt, the noun's English lexicon word, scene or None for a plain background)
LEARNER = [
    ("de", "Ein Hund im Park", "dog", "park"), ("en", "a dog in the park", "dog", "park"),
    ("de", "eine Katze im Schnee", "cat", "snow"), ("en", "a cat in the snow", "cat", "snow"),
    ("de", "zwei rote Äpfel am Strand", "apple", "beach"), ("en", "two red apples on the beach", "apple", "beach"),
    ("en", "a small owl at night", "owl", "night"), ("de", "eine kleine Eule in der Nacht", "owl", "night"),
    ("de", "ein blaues Auto in der Stadt", "car", "city"), ("en", "a blue car in the city", "car", "city"),
    ("en", "a rocket in space", "rocket", "space"), ("de", "eine Rakete im Weltall", "rocket", "space"),
    ("de", "Ein Hund spielt im Park", "dog", "park"), ("en", "a happy dog playing in the park", "dog", "park"),
    ("de", "ein Frosch sitzt am Strand", "frog", "beach"), ("en", "a frog sitting on the beach", "frog", "beach"),
    ("de", "Pferd auf der Wiese", "horse", "meadow"), ("en", "horse on a meadow", "horse", "meadow"),
    ("de", "ein Fisch schwimmt im Meer", "fish", "underwater"), ("en", "a fish swimming in the ocean", "fish", "underwater"),
    ("de", "ein Haus im Schnee", "house", "snow"), ("en", "a house in the snow", "house", "snow"),
    ("de", "ein Kamel in der Wüste", "camel", "desert"), ("en", "a camel in the desert", "camel", "desert"),
    ("de", "ein Baum im Wald", "tree", "forest"), ("en", "a tree in the forest", "tree", "forest"),
    ("de", "ein gelbes Auto", "car", None), ("en", "a yellow car", "car", None),
    ("de", "drei Enten", "duck", None), ("en", "three ducks", "duck", None),
    ("de", "Auto", "car", None), ("en", "car", "car", None), ("de", "Haus", "house", None), ("en", "house", "house", None),
    ("de", "Sonne", "sun", None), ("en", "the sun", "sun", None), ("de", "Stern", "star", None), ("en", "a star", "star", None),
    ("de", "Rakete", "rocket", None), ("en", "rocket", "rocket", None), ("de", "Ball", "football", None),
    ("en", "a ball", "football", None), ("de", "Regenschirm", "umbrella", None), ("en", "umbrella", "umbrella", None),
    ("de", "Schneemann", "snowman", None), ("en", "a snowman", "snowman", None), ("de", "Fahrrad", "bicycle", None),
    ("en", "bicycle", "bicycle", None), ("de", "Gitarre", "guitar", None), ("en", "guitar", "guitar", None),
    ("de", "Flugzeug", "airplane", None), ("en", "airplane", "airplane", None), ("de", "Regenbogen", "rainbow", None),
    ("en", "rainbow", "rainbow", None), ("de", "Feuer", "fire", None), ("en", "fire", "fire", None),
]


def held_out_sets(concepts, rng, n):
    """`n` prompts per language for each held-out set: (set, lang, prompt, hexcode, scene)."""
    nouns = everyday_nouns(concepts)
    out = []
    for lang in ("de", "en"):
        for name, wanted in (("held-out wordings", False), ("held-out combinations", True)):
            k = 0
            while k < n:
                h, scene = nouns[rng.integers(len(nouns))], SCENE_NAMES[rng.integers(len(SCENE_NAMES))]
                if held_out_combo(h, scene) != wanted:
                    continue
                spec = {"objects": [(h, 1, None)], "scene": scene, "size": None, "place": None}
                frames = HELD_OUT_FRAMES[lang] if name == "held-out wordings" else None
                out.append((name, lang, caption(spec, concepts, lang, rng, frames), h, scene))
                k += 1
    return out


def learner_set(concepts):
    by_word = {c["noun"]["en"][0]: h for h, c in concepts.items() if c["noun"]}
    return [("learner prompts", lang, p, by_word[w], s) for lang, p, w, s in LEARNER]


@torch.no_grad()
def detector_ceiling(detector, nouns, concepts, node_modules, n=500):
    """The detector on freshly painted pictures, the most a model can score: (pictures, object
    top-1, top-5, scene, both) in %."""
    painter, rng = Painter(node_modules, concepts), np.random.default_rng(99)
    specs = [random_labelled_spec(nouns, rng) for _ in range(n)]
    lo, ls = detector(to_tensor([painter.paint(sp, rng) for sp, _, _ in specs]))
    top5 = lo.topk(5, dim=1).indices
    object1 = [int(top5[i, 0]) == k for i, (_, k, _) in enumerate(specs)]
    object5 = [k in top5[i].tolist() for i, (_, k, _) in enumerate(specs)]
    scene = [int(ls[i].argmax()) == sk for i, (_, _, sk) in enumerate(specs)]
    return (n, 100 * np.mean(object1), 100 * np.mean(object5), 100 * np.mean(scene),
            100 * np.mean([o and s for o, s in zip(object5, scene)]))


def all_prompts(concepts, n_held_out=30):
    """The learner prompts, then n_held_out per language of each held-out set."""
    return learner_set(concepts) + held_out_sets(concepts, np.random.default_rng(3), n_held_out)


@torch.no_grad()
def write_eval_set(out_dir, detector_path, node_modules, n_held_out=30, fixture=None):
    """What `lab eval --scenes` reads (see the module's docstring)."""
    from pathlib import Path
    from safetensors.torch import save_file
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    detector, nouns = load_detector(detector_path)
    concepts = load_concepts(node_modules)
    save_file({k: v.half().contiguous() for k, v in detector.state_dict().items()}, str(out / "scene_detector.safetensors"))
    # from here on the detector as saved (f16 weights): its ceiling and the fixture are of what lab reads
    detector.load_state_dict({k: v.half().float() for k, v in detector.state_dict().items()})
    if fixture:
        # four painted pictures and their logits: the Rust detector's parity fixture
        painter, rng = Painter(node_modules, concepts), np.random.default_rng(7)
        x = to_tensor([painter.paint(random_labelled_spec(nouns, rng)[0], rng) for _ in range(4)])
        lo, ls = detector(x)
        save_file({"input": x.contiguous(), "objects": lo.contiguous(), "scenes": ls.contiguous()}, fixture)
    n, o1, o5, sc, both = detector_ceiling(detector, nouns, concepts, node_modules)
    prompts = [{"set": kind, "lang": lang, "prompt": p, "object": h, "scene": scene or "none"}
               for kind, lang, p, h, scene in all_prompts(concepts, n_held_out)]
    meta = {
        "what": "the scene evaluation of `lab eval --scenes`, written by `python -m diffusion_lab.scene_eval --write-eval-set`",
        "objects": nouns, "scenes": SCENE_CLASSES, "groups": detector.norms[0].num_groups,
        "ceiling": {"pictures": n, "object_top1": round(o1, 1), "object_top5": round(o5, 1), "scene": round(sc, 1), "both": round(both, 1)},
        "prompts": prompts,
    }
    (out / "scene_eval.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(prompts)} prompts, detector ceiling object top-5 {o5:.1f} %, scene {sc:.1f} % -> {out}")


@torch.no_grad()
def evaluate(model_path, detector_path, seeds, n_held_out, models_dir, node_modules, config, steps=20, n_learner=None):
    torch.manual_seed(0)
    cfg = load_config(config)
    model = UNet(cfg)
    model.load_state_dict(load_torch(model_path))
    model.eval()
    detector, nouns = load_detector(detector_path)
    te = TextEncoder(f"{models_dir}/text_encoder.safetensors", f"{models_dir}/tokenizer.json",
                     f"{models_dir}/text_encoder.json")
    concepts = load_concepts(node_modules)
    prompts = all_prompts(concepts, n_held_out)
    if n_learner is not None:
        prompts = [p for i, p in enumerate(prompts) if p[0] != "learner prompts" or i < n_learner]
    ab = alphas_cumprod(cfg.train_timesteps)
    emb = te.encode_many([p[2] for p in prompts])
    rows = []
    images = {}
    for s in range(seeds):
        x = torch.cat([sample_ddim(model, emb[i:i + 64], steps, ab, 3.0, seed=1000 * s + i)
                       for i in range(0, len(prompts), 64)]).clamp(-1, 1)
        lo, ls = detector(x)
        top5 = lo.topk(5, dim=1).indices
        for i, (kind, lang, prompt, h, scene) in enumerate(prompts):
            images.setdefault(i, []).append(x[i])
            obj = nouns.index(h)
            rows.append({"set": kind, "lang": lang, "object1": int(top5[i, 0]) == obj,
                         "object5": obj in top5[i].tolist(), "scene": SCENE_CLASSES[int(ls[i].argmax())] == (scene or "none")})
    table = []
    for kind in ("held-out wordings", "held-out combinations", "learner prompts"):
        for lang in ("de", "en"):
            r = [x for x in rows if x["set"] == kind and x["lang"] == lang]
            if r:
                m = lambda k: 100 * np.mean([x[k] for x in r])
                both = 100 * np.mean([x["object5"] and x["scene"] for x in r])
                table.append((kind, lang, len(r), m("object1"), m("object5"), m("scene"), both))
    table.append(("painted pictures (the detector's ceiling)", "-") + detector_ceiling(detector, nouns, concepts, node_modules))
    learner = [i for i, p in enumerate(prompts) if p[0] == "learner prompts"]
    within = np.mean([(a - b).pow(2).mean().sqrt().item() for i in learner for a, b in itertools.combinations(images[i], 2)])
    across = np.mean([(images[i][s] - images[j][s]).pow(2).mean().sqrt().item()
                      for i, j in itertools.combinations(learner, 2) for s in range(seeds)])
    return table, within / across, prompts, images


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?")
    ap.add_argument("detector")
    ap.add_argument("--write-eval-set", metavar="DIR", help="write the detector and the prompts for `lab eval --scenes` to DIR")
    ap.add_argument("--fixture", help="with --write-eval-set: also the detector's logits on four painted pictures, for the Rust parity test")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--held-out", type=int, default=30, help="prompts per language in each held-out set")
    ap.add_argument("--models-dir", default="../../www/models")
    ap.add_argument("--node-modules", default="../../node_modules")
    ap.add_argument("--config", default="../../www/models/denoiser.json")
    ap.add_argument("--grid", help="write the learner prompts' pictures (four prompts a row, a picture per seed) here")
    ap.add_argument("--steps", type=int, default=20, help="DDIM steps (guidance 3)")
    ap.add_argument("--learner", type=int, help="only the first N learner prompts")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.write_eval_set:
        return write_eval_set(a.write_eval_set, a.detector, a.node_modules, a.held_out, a.fixture)
    if a.model is None:
        ap.error("MODEL is needed unless --write-eval-set is given")
    table, diversity, prompts, images = evaluate(a.model, a.detector, a.seeds, a.held_out, a.models_dir,
                                                 a.node_modules, a.config, a.steps, a.learner)
    print("| prompts | lang | images | object top-1 | object top-5 | scene | object (top-5) and scene |")
    print("|---|---|---|---|---|---|---|")
    for kind, lang, n, o1, o5, sc, both in table:
        print(f"| {kind} | {lang} | {n} | {o1:.1f} % | {o5:.1f} % | {sc:.1f} % | {both:.1f} % |")
    print(f"diversity (within-prompt / across-prompt distance, learner prompts): {diversity:.2f}")
    if a.grid:
        save_grid(prompts, images, a.grid)


def save_grid(prompts, images, path, columns=4):
    """The learner prompts' pictures: `columns` prompts side by side, each its seeds in a row,
    with a white gap between prompts; the prompts, in reading order, in PATH.txt."""
    from PIL import Image
    learner = [i for i, p in enumerate(prompts) if p[0] == "learner prompts"]
    cells = [torch.cat(images[i], dim=2) for i in learner]
    gap = torch.ones(3, cells[0].shape[1], 8)
    blank = torch.ones_like(cells[0])
    rows = []
    for r in range(0, len(cells), columns):
        row = cells[r:r + columns] + [blank] * (columns - len(cells[r:r + columns]))
        rows.append(torch.cat([x for c in row for x in (c, gap)][:-1], dim=2))
        rows.append(torch.ones(3, 8, rows[-1].shape[2]))
    grid = ((torch.cat(rows[:-1], dim=1).clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
    Image.fromarray(grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.NEAREST).save(path)
    with open(path + ".txt", "w") as f:
        f.write("\n".join(prompts[i][2] for i in learner) + "\n")

if __name__ == "__main__":
    main()
