"""The forward-process panel's examples (www/examples/): pictures of the scene data set the bundled
model was trained on, painted as training paints them (scenes.Painter at its 64 px; the panel
box-averages them to the model's 32 px as training does), each with its caption in German and
English from the caption grammar, written into examples.json.

Usage (from scripts/train):
  python -m diffusion_lab.examples ../../node_modules ../../www/examples
"""
import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image

from .scenes import RENDER, SCENES, Painter, load_concepts, np_de, np_en

# (file, object hexcode, count, colour, scene, painting seed): the course page's prompts first.
# The seeds were picked by looking at the pictures: the object whole and clear of the props.
EXAMPLES = [
    ("dog-park.png", "1F415", 1, None, "park", 5),
    ("cat-snow.png", "1F408", 1, None, "snow", 2),
    ("apples-beach.png", "1F34E", 2, None, "beach", 4),
    ("car-city.png", "1F697", 1, "blue", "city", 2),
    ("rocket-space.png", "1F680", 1, None, "space", 2),
    ("owl-night.png", "1F989", 1, None, "night", 2),
    ("frog-meadow.png", "1F438", 1, None, "meadow", 2),
    ("fish-underwater.png", "1F420", 1, None, "underwater", 2),
]


def example_caption(concepts, hexcode, count, colour, scene, lang):
    """The plainest wording the grammar has: "Ein Hund im Park", "A dog in the park"."""
    concept = concepts[hexcode]
    phrase = np_en(concept, count, colour, None) if lang == "en" else np_de(concept, count, colour, None, "nom")
    text = f"{phrase} {SCENES[scene][lang][0]}"
    return text[:1].upper() + text[1:]


def write_examples(node_modules, out_dir):
    concepts = load_concepts(node_modules)
    painter = Painter(node_modules, concepts, size=RENDER)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for file, hexcode, count, colour, scene, seed in EXAMPLES:
        spec = {"objects": [(hexcode, count, colour)], "scene": scene, "size": None, "place": None}
        Image.fromarray(painter.paint(spec, np.random.default_rng(seed))).save(out / file, optimize=True)
        entries.append({"file": file, **{lang: example_caption(concepts, hexcode, count, colour, scene, lang)
                                         for lang in ("de", "en")}})
    (out / "examples.json").write_text(json.dumps(entries, ensure_ascii=False, indent=1) + "\n")
    return entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("node_modules")
    ap.add_argument("out_dir")
    a = ap.parse_args()
    for e in write_examples(a.node_modules, a.out_dir):
        print(f"{e['file']}: {e['de']} | {e['en']}")


if __name__ == "__main__":
    main()
