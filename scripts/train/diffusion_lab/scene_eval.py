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
"""
import argparse
import itertools

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
    prompts = learner_set(concepts)[:n_learner] + held_out_sets(concepts, np.random.default_rng(3), n_held_out)
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
    # the detector's own accuracy on painted pictures: the most a model can score here
    painter, rng = Painter(node_modules, concepts), np.random.default_rng(99)
    specs = [random_labelled_spec(nouns, rng) for _ in range(500)]
    lo, ls = detector(to_tensor([painter.paint(sp, rng) for sp, _, _ in specs]))
    top5 = lo.topk(5, dim=1).indices
    table.append(("painted pictures (the detector's ceiling)", "-", len(specs),
                  100 * np.mean([int(top5[i, 0]) == k for i, (_, k, _) in enumerate(specs)]),
                  100 * np.mean([k in top5[i].tolist() for i, (_, k, _) in enumerate(specs)]),
                  100 * np.mean([int(ls[i].argmax()) == sk for i, (_, _, sk) in enumerate(specs)]),
                  100 * np.mean([k in top5[i].tolist() and int(ls[i].argmax()) == sk for i, (_, k, sk) in enumerate(specs)])))
    learner = [i for i, p in enumerate(prompts) if p[0] == "learner prompts"]
    within = np.mean([(a - b).pow(2).mean().sqrt().item() for i in learner for a, b in itertools.combinations(images[i], 2)])
    across = np.mean([(images[i][s] - images[j][s]).pow(2).mean().sqrt().item()
                      for i, j in itertools.combinations(learner, 2) for s in range(seeds)])
    return table, within / across, prompts, images


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("detector")
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
