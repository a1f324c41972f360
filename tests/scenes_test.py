"""The scene data set's grammar, specs and painter (run by tests/training.sh with .venv's python).

Usage: python tests/scenes_test.py NODE_MODULES
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "train"))
from diffusion_lab.scenes import (FRAMES, HELD_OUT_FRAMES, SCENES, SHOWCASE, Painter, caption, everyday_nouns,  # noqa: E402
                                  held_out_combo, load_concepts, np_de, np_en, random_spec)

nm = sys.argv[1]
concepts = load_concepts(nm)
nouns = everyday_nouns(concepts)
groups = {c["group"] for c in concepts.values()}
assert len(concepts) >= 1200, len(concepts)
assert {0, 1, 3, 4, 5, 6, 7, 8} == groups, groups
skin_tones = ("1F3FB", "1F3FC", "1F3FD", "1F3FE", "1F3FF")
assert not [h for h in concepts if any(t in h for t in skin_tones)]
assert len(SCENES) >= 11

# German: articles, adjective endings and plural by case and gender; English: a/an and plurals
dog, cat, car, apple = "1F415", "1F408", "1F697", "1F34E"
want = {
    (dog, 1, None, None, "nom"): "ein Hund", (dog, 1, "red", None, "nom"): "ein roter Hund",
    (dog, 1, "red", None, "acc"): "einen roten Hund", (dog, 1, "red", None, "dat"): "einem roten Hund",
    (cat, 1, None, "small", "nom"): "eine kleine Katze", (cat, 1, None, "small", "dat"): "einer kleinen Katze",
    (car, 1, "blue", None, "nom"): "ein blaues Auto", (car, 1, "blue", "big", "acc"): "ein großes blaues Auto",
    (car, 1, "pink", None, "nom"): "ein rosa Auto", (apple, 2, "red", None, "nom"): "zwei rote Äpfel",
    (apple, 2, "red", None, "dat"): "zwei roten Äpfeln", (dog, 3, None, None, "dat"): "drei Hunden",
    (car, 2, None, None, "dat"): "zwei Autos",
}
for (h, n, colour, size, case), text in want.items():
    got = np_de(concepts[h], n, colour, size, case)
    assert got == text, (got, text)
assert np_en(concepts[apple], 1, None, None) == "an apple"
assert np_en(concepts[apple], 2, "red", None) == "two red apples"
assert np_en(concepts[car], 1, "blue", "small") == "a small blue car"
assert np_en(concepts["1F401"], 3, None, None) == "three mice"

rng = np.random.default_rng(0)
spec = {"objects": [(dog, 1, None)], "scene": "park", "size": None, "place": None}
texts = {caption(spec, concepts, "de", rng) for _ in range(200)}
assert "Ein Hund im Park" in texts or "ein Hund im Park" in texts, sorted(texts)[:10]
assert {"Im Park ist ein Hund", "ein Bild von einem Hund im Park", "zeig mir einen Hund im Park"} & {t[:1].upper() + t[1:] for t in texts} | texts
two = {"objects": [(apple, 2, "red")], "scene": "beach", "size": None, "place": None}
assert any(caption(two, concepts, "de", rng).lower() == "zwei rote äpfel am strand" for _ in range(300))
assert any(caption(two, concepts, "en", rng).lower().startswith("there are two red apples") for _ in range(300))
# held-out frames never come out of the training frames
trained = {caption(spec, concepts, lang, rng) for lang in ("de", "en") for _ in range(500)}
assert not any("Szene" in t or "sieht man" in t or "scene" in t or "can be seen" in t for t in trained)
assert all(f not in FRAMES[lang] for lang in HELD_OUT_FRAMES for f in HELD_OUT_FRAMES[lang])

# specs: held-out combinations are never drawn; the course page's prompts always are
everything = list(concepts)
drawn = [random_spec(concepts, nouns, everything, rng) for _ in range(5000)]
scened = [s for s in drawn if "objects" in s and s["scene"]]
assert not [s for s in scened for h, _, _ in s["objects"] if held_out_combo(h, s["scene"])]
assert not [p for p in SHOWCASE if held_out_combo(*p)]
held = sum(held_out_combo(h, sc) for h in nouns for sc in SCENES)
assert 0.04 < held / (len(nouns) * len(SCENES)) < 0.15, held
assert sum("plain" in s for s in drawn) > 300 and sum(s.get("scene") is None for s in drawn if "objects" in s) > 300
assert {n for s in drawn if "objects" in s for _, n, _ in s["objects"]} == {1, 2, 3}
# nouns are recoloured whatever their emoji's label says ("red apple" -> "ein blauer Apfel");
# labels that name a colour are not ("red heart" never becomes "a blue red heart")
coloured = {(h, c) for s in drawn if "objects" in s for h, _, c in s["objects"] if c}
assert any(h == apple for h, _ in coloured), "the apple is never recoloured"
assert not [h for h, _ in coloured if not concepts[h]["noun"] and {"red", "rot", "rotes", "roter"} & set(
    (concepts[h]["en"] + " " + concepts[h]["de"]).lower().split())]

# the painter: two draws of one spec differ, scenes differ from each other and from white
painter = Painter(nm, concepts)
a, b = painter.paint(spec, np.random.default_rng(1)), painter.paint(spec, np.random.default_rng(2))
assert a.shape == (32, 32, 3) and a.dtype == np.uint8
assert np.abs(a.astype(int) - b.astype(int)).mean() > 10
means = {}
for scene in list(SCENES) + [None]:
    s = {"objects": [(cat, 1, None)], "scene": scene, "size": None, "place": None}
    means[scene] = np.mean([painter.paint(s, np.random.default_rng(k)).reshape(-1, 3).mean(0) for k in range(8)], 0)
assert means[None].mean() > 200  # mostly white around the cat
assert means["space"].mean() < 70 and means["night"].mean() < 110  # dark skies
assert means["snow"].mean() > means["forest"].mean() + 40
assert means["underwater"][2] > means["underwater"][0] + 60  # blue
assert means["meadow"][1] > means["meadow"][2]  # green ground
# a colour word recolours the object: a blue car is bluer than a red one on white
blue = {"objects": [(car, 1, "blue")], "scene": None, "size": "big", "place": None}
red = {"objects": [(car, 1, "red")], "scene": None, "size": "big", "place": None}
bb, rr = (np.mean([painter.paint(s, np.random.default_rng(k)).reshape(-1, 3).astype(float).mean(0) for k in range(8)], 0)
          for s in (blue, red))
assert bb[2] - bb[0] > 20 and rr[0] - rr[2] > 20, (bb, rr)
# a place word puts the object in its half: on white, "on the left" has twice the ink on the left
for place, near, far in (("left", np.s_[:, :16], np.s_[:, 16:]), ("top", np.s_[:16], np.s_[16:])):
    s = {"objects": [(dog, 1, None)], "scene": None, "size": None, "place": place}
    ink = 255 - np.mean([painter.paint(s, np.random.default_rng(k)).astype(float).mean(2) for k in range(16)], 0)
    assert ink[near].mean() > 2 * ink[far].mean(), (place, ink[near].mean(), ink[far].mean())
# the object mask covers the objects: on white, where the mask is, the picture has ink, and not around it
s = {"objects": [(dog, 2, None)], "scene": "park", "size": None, "place": None}
picture, mask = painter.paint_with_mask(s, np.random.default_rng(5))
assert mask.shape == (32, 32) and 0.05 < mask.mean() < 0.6, mask.mean()
s = {"objects": [(dog, 1, None)], "scene": None, "size": None, "place": None}
picture, mask = painter.paint_with_mask(s, np.random.default_rng(6))
ink = 255 - picture.astype(float).mean(2)
assert ink[mask > 0.9].mean() > 40 and ink[mask == 0].max() < 1, (ink[mask > 0.9].mean(), ink[mask == 0].max())
_, mask = painter.paint_with_mask({"plain": dog}, np.random.default_rng(7))
assert mask.mean() > 0.3
print(f"scenes: {len(concepts)} objects ({len(nouns)} everyday nouns), {len(SCENES)} scenes; grammar, specs, painter ok")
