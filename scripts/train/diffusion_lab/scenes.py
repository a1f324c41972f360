"""Scenes composed on the fly: emoji objects on drawn backgrounds, captioned in German and English.

The data set is endless: a *spec* says what a caption asks for (objects with colour and count, a
scene, a size, a place), and every draw of a spec paints a new picture of it (other positions,
sizes, mirroring, props, sky and ground colours, emoji style). Only the captions are fixed: a bank
of specs is captioned and embedded once (`build_bank`), and training renders each spec anew.

Objects: every emoji of the groups that name a thing (smileys, people without skin tones, animals
& nature, food & drink, travel & places, activities, objects, symbols), in Noto and Twemoji.
Scenes: drawn procedurally (sky gradients, horizon, ground, water, sand, snow, buildings, stars)
and decorated with emoji props (trees, clouds, sun, moon, cacti, palms).
Held out from training, for scene_eval.py: two caption frames per language, and object x scene
combinations (`held_out_combo`).
The bank also holds the captions of PREVIEW (training's sample grids), embedded, never trained.
Usage: python -m diffusion_lab.scenes NODE_MODULES MODELS_DIR OUT.npz [--specs 50000] [--device cuda] [--grid PNG]
"""
import argparse
import hashlib
import json
import math
import multiprocessing
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from .captions import TEMPLATES
from .data import SOURCES, embed, find_image
from .lexicon import nouns

GROUPS = (0, 1, 3, 4, 5, 6, 7, 8)  # emojibase: all but components (2) and flags (9)
RENDER = 64  # scenes are painted at 64 px and box-averaged to the model's size
CORE_SHARE = 0.6  # share of objects drawn from the everyday nouns (lexicon.py)
PLAIN_EMOJI_SHARE = 0.12  # one emoji filling a white image, with the emoji-label captions
NO_SCENE_SHARE = 0.15  # objects placed on white, captioned without a scene
SHOWCASE = {("1F415", "park"), ("1F408", "snow"), ("1F34E", "beach"), ("1F989", "night"),
            ("1F697", "city"), ("1F680", "space")}  # the course page's prompts: always trained

SCENES = {
    "park": {"de": ["im Park", "in einem Park"], "en": ["in the park", "in a park"]},
    "meadow": {"de": ["auf der Wiese", "auf einer Wiese", "im Gras"], "en": ["in a meadow", "on the meadow", "on the grass"]},
    "forest": {"de": ["im Wald"], "en": ["in the forest", "in the woods"]},
    "beach": {"de": ["am Strand"], "en": ["on the beach", "at the beach"]},
    "underwater": {"de": ["unter Wasser", "im Meer"], "en": ["under water", "underwater", "in the sea"]},
    "snow": {"de": ["im Schnee"], "en": ["in the snow"]},
    "desert": {"de": ["in der Wüste"], "en": ["in the desert"]},
    "city": {"de": ["in der Stadt"], "en": ["in the city", "in town"]},
    "night": {"de": ["bei Nacht", "in der Nacht"], "en": ["at night", "in the night"]},
    "space": {"de": ["im Weltraum", "im All"], "en": ["in space", "in outer space"]},
    "mountains": {"de": ["in den Bergen"], "en": ["in the mountains"]},
}
SCENE_NAMES = list(SCENES)
COLOURS = {  # name -> (English, German stem, declinable, RGB)
    "red": ("red", "rot", True, (220, 40, 40)), "blue": ("blue", "blau", True, (40, 90, 230)),
    "green": ("green", "grün", True, (40, 170, 60)), "yellow": ("yellow", "gelb", True, (245, 210, 30)),
    "purple": ("purple", "lila", False, (150, 60, 200)), "pink": ("pink", "rosa", False, (245, 120, 190)),
    "black": ("black", "schwarz", True, (25, 25, 25)), "white": ("white", "weiß", True, (250, 250, 250)),
}
COLOUR_NAMES = list(COLOURS)
SIZES = {"small": ("small", "klein"), "big": ("big", "groß")}
PLACES = {"left": ("on the left", "links"), "right": ("on the right", "rechts"),
          "top": ("at the top", "oben"), "bottom": ("at the bottom", "unten")}
COUNTS = {1: ("a", "ein"), 2: ("two", "zwei"), 3: ("three", "drei")}
COLOUR_WORDS = {w for c in COLOURS.values() for w in c[:2]} | {"rotes", "roter", "rote", "blaues", "blauer", "grüner",
                                                                  "gelbe", "gelber", "schwarzer", "weißer", "weiße"}

# Caption frames: {np} a noun phrase in the frame's case, {pp} the scene's phrase, {is} ist/sind.
FRAMES = {
    "en": ["{np} {pp}", "a picture of {np} {pp}", "a photo of {np} {pp}", "an image of {np} {pp}",
           "draw {np} {pp}", "show me {np} {pp}", "paint {np} {pp}", "{np} {pp}, please",
           "there {is} {np} {pp}", "I want to see {np} {pp}", "{Pp}: {np}", "a drawing of {np} {pp}",
           "generate {np} {pp}", "an illustration of {np} {pp}"],
    "de": [("nom", "{np} {pp}"), ("nom", "{Pp} {is} {np}"), ("dat", "ein Bild von {np} {pp}"),
           ("dat", "ein Foto von {np} {pp}"), ("acc", "zeig mir {np} {pp}"), ("acc", "male {np} {pp}"),
           ("acc", "zeichne {np} {pp}"), ("nom", "{np} {pp}, bitte"), ("acc", "es gibt {np} {pp}"),
           ("acc", "ich möchte {np} {pp} sehen"), ("nom", "{Pp}: {np}"), ("dat", "eine Zeichnung von {np} {pp}"),
           ("acc", "erzeuge {np} {pp}"), ("dat", "eine Illustration von {np} {pp}")],
}
HELD_OUT_FRAMES = {"en": ["a scene with {np} {pp}", "{np} can be seen {pp}"],
                   "de": [("dat", "eine Szene mit {np} {pp}"), ("acc", "{Pp} sieht man {np}")]}

ARTICLE = {"nom": {"m": "ein", "f": "eine", "n": "ein"}, "acc": {"m": "einen", "f": "eine", "n": "ein"},
           "dat": {"m": "einem", "f": "einer", "n": "einem"}}
ENDING = {"nom": {"m": "er", "f": "e", "n": "es"}, "acc": {"m": "en", "f": "e", "n": "es"},
          "dat": {"m": "en", "f": "en", "n": "en"}}


def held_out_combo(hexcode, scene):
    """Object x scene pairs never trained (one in 12 by a fixed hash), for the evaluation."""
    if (hexcode, scene) in SHOWCASE:
        return False
    return hashlib.sha256(f"{hexcode}/{scene}".encode()).digest()[0] % 12 == 0


def load_concepts(node_modules):
    """The objects: hexcode -> {"en", "de" labels, "noun" (lexicon entry or None), "group"},
    for every emoji of GROUPS with both labels and an image in every source."""
    nm = Path(node_modules)
    labels = {}
    for lang in ("en", "de"):
        for e in json.loads((nm / "emojibase-data" / lang / "data.json").read_text()):
            if e.get("group") in GROUPS:
                labels.setdefault(e["hexcode"], {"group": e["group"]})[lang] = e["label"]
    lex = nouns()
    out = {}
    for h in sorted(labels):
        if "en" in labels[h] and "de" in labels[h] and all(find_image(nm, s, h) for s in SOURCES):
            out[h] = {**labels[h], "noun": lex.get(h)}
    return out


def everyday_nouns(concepts):
    """The objects with a lexicon noun (the ones learners type, and the detector's classes), in order."""
    return [h for h in concepts if concepts[h]["noun"]]


# ---- captions ---------------------------------------------------------------------------------

def a_or_an(word):
    return "an" if word[0].lower() in "aeiou" else "a"


def np_en(concept, count, colour, size):
    """The English noun phrase: "a small red car", "two dogs", "an alarm clock"."""
    noun = concept["noun"]
    name = noun["en"][0 if count == 1 else 1] if noun else concept["en"]
    words = ([SIZES[size][0]] if size else []) + ([COLOURS[colour][0]] if colour else []) + [name]
    phrase = " ".join(words)
    return f"{a_or_an(phrase)} {phrase}" if count == 1 else f"{COUNTS[count][0]} {phrase}"


def adjective_de(stem, declinable, case, gender, plural):
    if not declinable:
        return stem
    if plural:
        return stem + ("en" if case == "dat" else "e")
    return stem + ENDING[case][gender]


def np_de(concept, count, colour, size, case, article=True):
    """The German noun phrase in `case`: "ein kleiner roter Hund", "zwei Äpfeln" (dative), or the
    emoji's label without article for nouns the lexicon lacks ("grinsendes Gesicht in Rot")."""
    noun = concept["noun"]
    if noun is None:
        return concept["de"] + (f" in {COLOURS[colour][1].capitalize()}" if colour else "")
    name, gender, plural_name = noun["de"]
    plural = count > 1
    if plural:
        name = plural_name
        if case == "dat" and not name.endswith(("n", "s")):
            name += "n"
    adjectives = []
    if size:
        adjectives.append(adjective_de(SIZES[size][1], True, case, gender, plural))
    if colour:
        stem, declinable = COLOURS[colour][1], COLOURS[colour][2]
        adjectives.append(adjective_de(stem, declinable, case, gender, plural))
    if plural:
        det = COUNTS[count][1]
    else:
        det = ARTICLE[case][gender] if article else None  # without one: "roter Hund im Park"
    return " ".join(([det] if det else []) + adjectives + [name])


def scene_words(spec, lang, rng):
    scene = spec["scene"]
    return rng.choice(SCENES[scene][lang]) if scene else ""


def caption(spec, concepts, lang, rng, frames=None):
    """One caption of `spec` in `lang`, in a frame drawn from `frames` (default: the trained ones)."""
    frames = frames or FRAMES[lang]
    frame = frames[rng.integers(len(frames))]
    case, frame = frame if lang == "de" else ("nom", frame)
    objs = spec["objects"]
    pp = scene_words(spec, lang, rng)
    place = spec["place"]
    if lang == "en":
        parts = [np_en(concepts[h], n, c, spec["size"]) for h, n, c in objs]
        np_ = " and ".join(parts)
        if place:
            pp = f"{pp} {PLACES[place][0]}".strip()
    else:
        article = rng.random() < 0.85 or case != "nom"
        parts = [np_de(concepts[h], n, c, spec["size"], case, article) for h, n, c in objs]
        np_ = " und ".join(parts)
        if place:
            np_ = f"{np_} {PLACES[place][1]}"
    plural = len(objs) > 1 or objs[0][1] > 1
    if not pp:  # no scene: drop the frames' scene slot (and frames that need a scene)
        if "{Pp}" in frame:
            frame = "{np}"
        frame = frame.replace(" {pp}", "")
    text = frame.format(np=np_, pp=pp, Pp=pp[:1].upper() + pp[1:], **{"is": {"de": ("ist", "sind"), "en": ("is", "are")}[lang][plural]})
    return text[:1].upper() + text[1:] if rng.random() < 0.5 else text


def plain_caption(concept, lang, rng):
    """A caption of the single-emoji image: the emoji-label templates of captions.py, or the noun."""
    label = concept[lang]
    if concept["noun"] and rng.random() < 0.5:
        label = concept["noun"][lang][0]
    templates = TEMPLATES[lang]
    return templates[rng.integers(len(templates))].format(label)


# ---- specs ------------------------------------------------------------------------------------

def random_spec(concepts, core, everything, rng, allow=lambda h, s: not held_out_combo(h, s)):
    """A spec drawn from the training distribution: what one caption asks for."""
    if rng.random() < PLAIN_EMOJI_SHARE:
        return {"plain": everything[rng.integers(len(everything))]}
    scene = None if rng.random() < NO_SCENE_SHARE else SCENE_NAMES[rng.integers(len(SCENE_NAMES))]

    def pick(only_nouns=False):
        for _ in range(20):
            pool = core if only_nouns or rng.random() < CORE_SHARE else everything
            h = pool[rng.integers(len(pool))]
            if scene is None or allow(h, scene):
                return h
        return None

    two = rng.random() < 0.12
    objects = []
    for k in range(2 if two else 1):
        h = pick(only_nouns=two)
        if h is None or any(h == o[0] for o in objects):
            continue
        noun = concepts[h]["noun"]
        count = 1 if (two or noun is None) else int(rng.choice([1, 2, 3], p=[0.7, 0.2, 0.1]))
        colour = None
        # the words the caption will use: the noun ("apple" may be recoloured) or the label
        # ("red heart" may not: "a blue red heart" says two colours)
        named = noun["en"][0] + " " + noun["de"][0] if noun else concepts[h]["en"] + " " + concepts[h]["de"]
        if rng.random() < 0.25 and not COLOUR_WORDS & set(named.lower().split()):
            colour = COLOUR_NAMES[rng.integers(len(COLOUR_NAMES))]
        objects.append((h, count, colour))
    if not objects:
        return random_spec(concepts, core, everything, rng, allow)
    size = None if rng.random() < 0.8 else ("small" if rng.random() < 0.5 else "big")
    place = None if two or rng.random() < 0.88 else list(PLACES)[rng.integers(4)]
    return {"objects": objects, "scene": scene, "size": size, "place": place}


# ---- painting ---------------------------------------------------------------------------------

class Painter:
    """Paints specs: emoji images of every source in memory, scenes drawn per call."""

    def __init__(self, node_modules, concepts, size=32):
        nm = Path(node_modules)
        self.size = size
        self.sources = list(SOURCES)
        self.images = {(h, s): Image.open(find_image(nm, s, h)).convert("RGBA")
                       for h in concepts for s in self.sources}
        self.props = {name: [self.images[(h, s)] for s in self.sources if (h, s) in self.images] for name, h in {
            "tree": "1F333", "fir": "1F332", "palm": "1F334", "cactus": "1F335", "cloud": "2601", "sun": "2600",
            "moon": "1F319", "planet": "1FA90", "flower": "1F33C", "tulip": "1F337", "herb": "1F33F",
            "house": "1F3E0", "mountain": "26F0"}.items()}

    # scenes: each returns an RGB PIL image of RENDER x RENDER and the ground line (y, 0..RENDER)
    def scene(self, name, rng):
        S = RENDER
        img = Image.new("RGB", (S, S), (255, 255, 255))
        if name is None:
            return img, S
        jitter = lambda rgb, d=18: tuple(int(np.clip(c + rng.integers(-d, d + 1), 0, 255)) for c in rgb)
        horizon = int(S * rng.uniform(0.38, 0.62))
        d = ImageDraw.Draw(img)
        if name in ("park", "meadow", "forest", "beach", "snow", "desert", "city", "mountains"):
            sky_top, sky_bottom = {"desert": ((250, 200, 120), (255, 235, 180)),
                                   "snow": ((170, 190, 215), (225, 232, 240)),
                                   "forest": ((120, 170, 210), (190, 215, 230))}.get(
                name, ((90, 150, 235), (185, 220, 250)))
            self._gradient(img, 0, horizon, jitter(sky_top), jitter(sky_bottom))
        if name in ("park", "meadow", "forest"):
            ground = {"park": (80, 165, 70), "meadow": (130, 195, 80), "forest": (45, 110, 50)}[name]
            self._ground(img, d, horizon, jitter(ground), rng)
            if name == "park" and rng.random() < 0.6:  # a path
                x0 = rng.integers(0, S)
                d.polygon([(x0 - 2, horizon), (x0 + 2, horizon), (x0 + 16, S), (x0 - 16, S)], fill=jitter((205, 185, 140)))
            if name == "meadow":
                for _ in range(rng.integers(10, 30)):
                    x, y = rng.integers(0, S), rng.integers(horizon + 2, S)
                    d.ellipse([x, y, x + 1, y + 1], fill=[(250, 250, 250), (250, 220, 40), (230, 80, 120)][rng.integers(3)])
            trees = {"park": (1, 3), "meadow": (0, 1), "forest": (4, 8)}[name]
            for _ in range(rng.integers(trees[0], trees[1] + 1)):
                kind = "fir" if name == "forest" and rng.random() < 0.5 else "tree"
                self._prop(img, kind, rng, int(rng.uniform(14, 30)), horizon, rng.uniform(-0.1, 0.35))
        elif name == "beach":
            sea = int(horizon + (S - horizon) * rng.uniform(0.25, 0.5))
            self._gradient(img, horizon, sea, jitter((40, 120, 200)), jitter((90, 170, 220)))
            d.rectangle([0, sea, S, S], fill=jitter((235, 210, 150)))
            for _ in range(rng.integers(1, 4)):
                y = rng.integers(horizon + 1, sea)
                x = rng.integers(-10, S)
                d.line([x, y, x + rng.integers(6, 16), y], fill=(235, 245, 255))
            if rng.random() < 0.5:
                self._prop(img, "palm", rng, int(rng.uniform(18, 32)), sea, rng.uniform(0, 0.3))
        elif name == "underwater":
            self._gradient(img, 0, S, jitter((60, 160, 220)), jitter((10, 50, 120)))
            for _ in range(rng.integers(2, 5)):  # light rays
                x = rng.integers(0, S)
                d.polygon([(x, 0), (x + 4, 0), (x + 14, S), (x + 8, S)], fill=jitter((70, 150, 210), 10))
            if rng.random() < 0.6:
                d.rectangle([0, S - rng.integers(4, 12), S, S], fill=jitter((200, 180, 120)))
            for _ in range(rng.integers(3, 10)):  # bubbles
                x, y, r = rng.integers(0, S), rng.integers(0, S), rng.integers(1, 3)
                d.ellipse([x - r, y - r, x + r, y + r], outline=(200, 230, 255))
            for _ in range(rng.integers(0, 3)):
                self._prop(img, "herb", rng, int(rng.uniform(10, 20)), S, 0)
        elif name == "snow":
            self._ground(img, d, horizon, jitter((245, 248, 252), 6), rng)
            for _ in range(rng.integers(0, 4)):
                self._prop(img, "fir", rng, int(rng.uniform(12, 26)), horizon, rng.uniform(-0.1, 0.2))
            for _ in range(rng.integers(15, 40)):  # falling snow
                x, y = rng.integers(0, S), rng.integers(0, S)
                d.ellipse([x, y, x + 1, y + 1], fill=(255, 255, 255))
        elif name == "desert":
            self._ground(img, d, horizon, jitter((225, 180, 100)), rng)
            for _ in range(rng.integers(1, 3)):  # dunes
                cx, w = rng.integers(0, S), rng.integers(20, 50)
                d.ellipse([cx - w, horizon - 6, cx + w, horizon + 10], fill=jitter((215, 165, 85)))
            for _ in range(rng.integers(0, 3)):
                self._prop(img, "cactus", rng, int(rng.uniform(12, 24)), horizon, rng.uniform(0, 0.4))
        elif name == "city":
            x = -rng.integers(0, 8)
            while x < S:  # buildings
                w, h = rng.integers(8, 18), rng.integers(12, horizon + 10)
                top = horizon + 8 - h
                d.rectangle([x, top, x + w, horizon + 8], fill=jitter([(120, 120, 130), (160, 110, 90), (90, 110, 140), (180, 170, 160)][rng.integers(4)]))
                for wy in range(top + 3, horizon + 5, 5):
                    for wx in range(x + 2, x + w - 2, 4):
                        if rng.random() < 0.7:
                            d.rectangle([wx, wy, wx + 1, wy + 1], fill=(250, 240, 170))
                x += w + rng.integers(0, 4)
            d.rectangle([0, horizon + 8, S, S], fill=jitter((90, 90, 95)))
            for lx in range(rng.integers(0, 6), S, 12):
                d.line([lx, horizon + 8 + (S - horizon - 8) // 2, lx + 6, horizon + 8 + (S - horizon - 8) // 2], fill=(240, 240, 240))
        elif name in ("night", "space"):
            top, bottom = ((5, 5, 20), (25, 15, 50)) if name == "space" else ((10, 20, 60), (40, 60, 120))
            self._gradient(img, 0, S, jitter(top, 10), jitter(bottom, 10))
            for _ in range(rng.integers(15, 45)):
                x, y = rng.integers(0, S), rng.integers(0, S if name == "space" else horizon)
                d.point((x, y), fill=(255, 255, 230))
            if name == "night":
                if rng.random() < 0.8:
                    self._prop(img, "moon", rng, int(rng.uniform(10, 18)), int(horizon * rng.uniform(0.3, 0.7)), 0)
                self._ground(img, d, horizon, jitter((20, 45, 40), 10), rng)
                if rng.random() < 0.4:
                    self._prop(img, "house", rng, int(rng.uniform(14, 22)), horizon + 4, 0, dim=0.45)
            elif rng.random() < 0.4:
                self._prop(img, "planet", rng, int(rng.uniform(12, 24)), rng.integers(10, S), 0)
        elif name == "mountains":
            for _ in range(rng.integers(1, 3)):
                cx, w, h = rng.integers(0, S), rng.integers(20, 40), rng.integers(15, 35)
                peak = (cx, horizon - h)
                d.polygon([(cx - w, horizon + 2), peak, (cx + w, horizon + 2)], fill=jitter((120, 120, 135)))
                d.polygon([(cx - w * 0.25, horizon - h * 0.75), peak, (cx + w * 0.25, horizon - h * 0.75)], fill=(250, 250, 252))
            self._ground(img, d, horizon, jitter((90, 150, 75)), rng)
        if name in ("park", "meadow", "beach", "mountains", "city") and rng.random() < 0.6:
            for _ in range(rng.integers(1, 3)):
                self._prop(img, "cloud", rng, int(rng.uniform(10, 20)), int(horizon * rng.uniform(0.2, 0.7)), 0)
        if name in ("park", "meadow", "beach", "desert") and rng.random() < 0.35:
            self._prop(img, "sun", rng, int(rng.uniform(10, 18)), int(horizon * rng.uniform(0.2, 0.6)), 0)
        return img, horizon

    @staticmethod
    def _gradient(img, y0, y1, top, bottom):
        h = max(y1 - y0, 1)
        t = np.linspace(0, 1, h)[:, None]
        rows = (np.array(top)[None] * (1 - t) + np.array(bottom)[None] * t).astype(np.uint8)
        img.paste(Image.fromarray(np.repeat(rows[:, None], img.width, axis=1)), (0, y0))

    @staticmethod
    def _ground(img, d, horizon, colour, rng):
        S = img.width
        amp, freq, phase = rng.uniform(0, 3), rng.uniform(0.05, 0.2), rng.uniform(0, 6.3)
        pts = [(x, horizon + amp * math.sin(freq * x + phase)) for x in range(0, S + 4, 4)]
        d.polygon(pts + [(S, S), (0, S)], fill=colour)
        dark = tuple(int(c * 0.85) for c in colour)
        d.rectangle([0, horizon + (S - horizon) * 2 // 3, S, S], fill=dark)

    def _prop(self, img, kind, rng, size, base_y, depth, dim=1.0):
        """An emoji prop of `size` px standing on `base_y` (pushed down by `depth` x the ground)."""
        src = self.props[kind][rng.integers(len(self.props[kind]))].resize((size, size), Image.BOX)
        if dim != 1.0:
            a = np.asarray(src).astype(np.float32)
            a[..., :3] *= dim
            src = Image.fromarray(a.astype(np.uint8))
        if rng.random() < 0.5:
            src = src.transpose(Image.FLIP_LEFT_RIGHT)
        y = int(base_y + depth * (img.height - base_y)) - size
        img.paste(src, (int(rng.integers(-size // 3, img.width - size // 2)), y), src)

    def paint(self, spec, rng):
        """A new picture of `spec`: uint8 [size, size, 3]."""
        return self.paint_with_mask(spec, rng)[0]

    def paint_with_mask(self, spec, rng):
        """A new picture of `spec` and where its objects are: uint8 [size, size, 3] and the objects'
        coverage, float32 [size, size] in 0..1 (props and background 0), for a loss that weights
        the objects (train.py --object-weight). Draws the same picture as `paint` for the same rng."""
        S = RENDER
        mask = Image.new("L", (S, S), 0)
        if "plain" in spec:  # the emoji filling the image, as in the single-emoji data set
            img = Image.new("RGB", (S, S), (255, 255, 255))
            src = self.images[(spec["plain"], self.sources[rng.integers(len(self.sources))])]
            img.paste(src, (0, 0), src)
            mask.paste(src.getchannel("A"), (0, 0))
            return self._downsample(img, mask)
        img, horizon = self.scene(spec["scene"], rng)
        objects = [(h, c) for h, n, c in spec["objects"] for _ in range(n)]
        k = len(objects)
        lo, hi = {1: (13, 22), 2: (10, 16), 3: (9, 13)}[k]
        lo, hi = {"small": (max(6, lo * 0.55), lo * 0.8), "big": (hi, min(hi * 1.35, 30)), None: (lo, hi)}[spec["size"]]
        boxes = []
        for h, colour in objects:
            s = int(2 * rng.uniform(lo, hi))
            src = self.images[(h, self.sources[rng.integers(len(self.sources))])].resize((s, s), Image.BOX)
            if colour:
                src = recolour(src, COLOURS[colour][3])
            if rng.random() < 0.5:
                src = src.transpose(Image.FLIP_LEFT_RIGHT)
            x, y = self._place(s, spec["place"], horizon if spec["scene"] else None, boxes, rng)
            boxes.append((x, y, s))
            img.paste(src, (x, y), src)
            mask.paste(255, (x, y), src.getchannel("A"))
        return self._downsample(img, mask)

    def _downsample(self, img, mask):
        """The picture and the mask, box-averaged from RENDER to the model's size."""
        size = (self.size, self.size)
        return (np.asarray(img.resize(size, Image.BOX)),
                np.asarray(mask.resize(size, Image.BOX), dtype=np.float32) / 255.0)

    @staticmethod
    def _place(s, place, horizon, boxes, rng):
        """A top-left corner for an object of `s` px: inside the image, in `place`'s half, low on
        the ground more often than not, overlapping earlier objects little."""
        S = RENDER
        best, best_overlap = None, None
        for _ in range(12):
            x0, x1, y0, y1 = 0, S - s, 0, S - s
            if place == "left":
                x1 = max(0, S // 2 - s // 2 - 4)
            elif place == "right":
                x0 = min(S - s, S // 2 - s // 2 + 4)
            elif place == "top":
                y1 = max(0, S // 2 - s // 2 - 4)
            elif place == "bottom":
                y0 = min(S - s, S // 2 - s // 2 + 4)
            elif horizon is not None and rng.random() < 0.7:
                y0 = int(np.clip(horizon - s * 0.6, 0, S - s))
            x, y = int(rng.integers(x0, x1 + 1)), int(rng.integers(y0, max(y0, y1) + 1))
            overlap = sum(max(0, min(x + s, bx + bs) - max(x, bx)) * max(0, min(y + s, by + bs) - max(y, by))
                          for bx, by, bs in boxes)
            if best is None or overlap < best_overlap:
                best, best_overlap = (x, y), overlap
            if overlap == 0:
                break
        return best


def recolour(src, rgb):
    """The emoji in one colour, keeping its shading: each pixel's lightness scales the colour
    (black and white keep a grey ramp so the outline stays visible)."""
    a = np.asarray(src).astype(np.float32)
    lum = (0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]) / 255.0
    opaque = a[..., 3] > 40
    mean = float(lum[opaque].mean()) if opaque.any() else 0.5
    shade = np.clip(lum / max(mean, 1e-3), 0.35, 1.35)[..., None]
    target = np.array(rgb, np.float32)[None, None]
    if rgb == (250, 250, 250):
        out = 255.0 - (255.0 - 200.0) * np.clip(1.4 - shade, 0, 1)
    elif rgb == (25, 25, 25):
        out = 15.0 + 70.0 * np.clip(shade - 0.6, 0, 1)
    else:
        out = target * shade
    a[..., :3] = np.clip(out, 0, 255)
    return Image.fromarray(a.astype(np.uint8))


# ---- the caption bank --------------------------------------------------------------------------

PREVIEW = ["Ein Hund im Park", "a dog in the park", "eine Katze im Schnee", "a cat in the snow",
           "zwei rote Äpfel am Strand", "a small owl at night", "ein blaues Auto in der Stadt", "a rocket in space",
           "Hund", "a frog on the beach", "ein Haus im Schnee", "a fish under water", "eine Sonnenblume auf der Wiese",
           "a camel in the desert", "drei gelbe Enten", "ein Baum im Wald"]


def spec_key(spec):
    return json.dumps(spec, sort_keys=True)


def build_bank(node_modules, models_dir, out, n_specs, size=32, seed=0, device="cpu"):
    """Draws `n_specs` training specs, two captions each (either language), embeds every caption
    with the shipped text encoder (on `device`), and saves specs (JSON), caption ids and embeddings."""
    concepts = load_concepts(node_modules)
    everything, core = list(concepts), everyday_nouns(concepts)
    rng = np.random.default_rng(seed)
    specs, pairs, texts, index = [], [], [], {}
    for _ in range(n_specs):
        spec = random_spec(concepts, core, everything, rng)
        ids = []
        for _ in range(2):
            lang = "de" if rng.random() < 0.5 else "en"
            text = plain_caption(concepts[spec["plain"]], lang, rng) if "plain" in spec else caption(spec, concepts, lang, rng)
            if text not in index:
                index[text] = len(texts)
                texts.append(text)
            ids.append(index[text])
        specs.append(spec_key(spec))
        pairs.append(ids)
    emb = embed(texts + PREVIEW, models_dir, device)
    np.savez_compressed(out, specs=np.array(specs), caption_pairs=np.array(pairs, np.int32),
                        captions=np.array(texts + PREVIEW), embeddings=emb.astype(np.float16),
                        preview=np.arange(len(texts), len(texts) + len(PREVIEW)), size=np.array(size),
                        concepts=np.array(json.dumps(concepts, ensure_ascii=False)),
                        sources=np.array(json.dumps(SOURCES)))
    print(f"{len(concepts)} concepts ({len(core)} everyday nouns), {n_specs} specs, {len(texts)} captions -> {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("node_modules")
    ap.add_argument("models_dir")
    ap.add_argument("out")
    ap.add_argument("--specs", type=int, default=50000)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--device", default="cpu", help="where the text encoder embeds the captions (cpu or cuda)")
    ap.add_argument("--grid", help="also paint 64 random training specs into this PNG, captions beside it (.txt)")
    a = ap.parse_args()
    if a.grid:
        concepts = load_concepts(a.node_modules)
        everything, core = list(concepts), everyday_nouns(concepts)
        painter = Painter(a.node_modules, concepts, a.size)
        rng = np.random.default_rng(1)
        specs = [random_spec(concepts, core, everything, rng) for _ in range(64)]
        tiles = [painter.paint(s, rng) for s in specs]
        grid = np.concatenate([np.concatenate(tiles[r * 8:(r + 1) * 8], 1) for r in range(8)], 0)
        Image.fromarray(grid).resize((grid.shape[1] * 4, grid.shape[0] * 4), Image.NEAREST).save(a.grid)
        lines = [plain_caption(concepts[s["plain"]], "de", rng) if "plain" in s else caption(s, concepts, "de", rng)
                 + " | " + caption(s, concepts, "en", rng) for s in specs]
        Path(a.grid).with_suffix(".txt").write_text("\n".join(lines) + "\n")
        return
    build_bank(a.node_modules, a.models_dir, a.out, a.specs, a.size, device=a.device)


PAINT_CHUNK = 16  # specs per painting job: a batch's pictures do not depend on how many workers paint them
PAINT_TIMEOUT = 600  # seconds a batch may take to paint before a dead worker is assumed

# The painter and the specs of the SceneData that started a worker pool: forked workers inherit
# them instead of receiving 3,272 emoji images each.
_PAINTING = {}


def paint_chunk(key, step, chunk, ids):
    """Pictures of specs `ids` of SceneData `key`, the `chunk`-th part of `step`'s batch, and their
    object masks: the same in any process, for any number of workers, and again on resume."""
    painter, specs = _PAINTING[key]
    rng = np.random.default_rng([7, step, chunk])
    pictures, masks = zip(*(painter.paint_with_mask(specs[i], rng) for i in ids))
    return np.stack(pictures), np.stack(masks)


class SceneData:
    """Training batches from a caption bank: each draw paints its spec anew (train.py's data
    source when --data is a bank). The condition blends the spec's two captions' embeddings.
    A step's specs and pictures follow from the step alone, so `paint_workers` processes can
    paint the next batch while the model trains on this one (a GPU outruns one painting core
    about tenfold)."""

    def __init__(self, path, node_modules, device="cpu", paint_workers=0):
        d = np.load(path)
        self.device = torch.device(device)
        self.specs = [json.loads(s) for s in d["specs"]]
        self.pairs = torch.from_numpy(d["caption_pairs"]).long()
        self.captions = d["captions"]
        self.preview = d["preview"]
        concepts = json.loads(str(d["concepts"]))
        self.painter = Painter(node_modules, concepts, int(d["size"]))
        self.train_idx = range(len(self.specs))
        self.key = id(self)
        _PAINTING[self.key] = (self.painter, self.specs)
        # forked before the embeddings go to the device: the workers only paint (numpy and PIL)
        self.pool = multiprocessing.get_context("fork").Pool(paint_workers) if paint_workers > 0 else None
        self.pending = {}  # (n, step) -> the pool's jobs for that batch
        self.emb = torch.from_numpy(d["embeddings"].astype(np.float32)).to(self.device)

    def spec_ids(self, n, step):
        return np.random.default_rng([7, step]).integers(0, len(self.specs), n)

    def _jobs(self, n, step):
        ids = self.spec_ids(n, step)
        chunks = [(self.key, step, c, ids[s:s + PAINT_CHUNK]) for c, s in enumerate(range(0, n, PAINT_CHUNK))]
        return [self.pool.apply_async(paint_chunk, job) for job in chunks]

    def pictures(self, n, step):
        """`step`'s batch: spec ids, uint8 pictures [n, size, size, 3] and object masks [n, size, size]."""
        ids = self.spec_ids(n, step)
        if self.pool is None:
            chunks = [paint_chunk(self.key, step, c, ids[s:s + PAINT_CHUNK]) for c, s in enumerate(range(0, n, PAINT_CHUNK))]
        else:
            jobs = self.pending.pop((n, step), None) or self._jobs(n, step)
            self.pending = {(n, step + 1): self._jobs(n, step + 1)}  # painted while this step trains
            chunks = [job.get(timeout=PAINT_TIMEOUT) for job in jobs]
        return ids, np.concatenate([p for p, _ in chunks]), np.concatenate([m for _, m in chunks])

    def close(self):
        """Stops the painting workers (a prefetched batch is dropped) and lets the painter go."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool, self.pending = None, {}
        _PAINTING.pop(self.key, None)

    def batch(self, n, gen, step, cfg_drop):
        """Pictures in -1..1, their conditions, and the objects' masks [n, 1, size, size]."""
        ids, images, masks = self.pictures(n, step)
        x0 = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).to(self.device)
        pair = self.pairs[torch.from_numpy(ids)].to(self.device)
        w = torch.rand(n, 1, generator=gen).to(self.device)
        text = F.normalize(w * self.emb[pair[:, 0]] + (1 - w) * self.emb[pair[:, 1]], dim=1)
        text[(torch.rand(n, generator=gen) < cfg_drop).to(self.device)] = 0.0
        return x0, text, torch.from_numpy(masks)[:, None].to(self.device)

    def text_for(self, ids, gen):
        """The condition for specs `ids`: a random blend of each spec's two captions, renormalised."""
        pair = self.pairs[torch.as_tensor(np.asarray(ids))].to(self.device)
        w = torch.rand(len(pair), 1, generator=gen).to(self.device)
        return F.normalize(w * self.emb[pair[:, 0]] + (1 - w) * self.emb[pair[:, 1]], dim=1)

    def pair_items(self, limit=None):
        """How many specs distill.py pairs: the first `limit` (the teacher solves the ODE for each)."""
        return len(self.specs) if limit is None else min(limit, len(self.specs))

    pair_text = text_for

    def preview_texts(self):
        return [str(self.captions[i]) for i in self.preview], self.emb[torch.from_numpy(self.preview)]


if __name__ == "__main__":
    main()
