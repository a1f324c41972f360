"""Build the bilingual emoji data set from the npm packages in node_modules/.

Images: emoji-datasource-google (Noto Emoji, Apache-2.0) and, with --sources google,twitter,
emoji-datasource-twitter (Twemoji, CC-BY 4.0); 64x64 PNG, alpha composited on white,
box-downsampled to the model's resolution. Captions: emojibase-data de/ and en/ labels in 72
templates per language (captions.py), so every image has German and English captions; with more
than one source every image also gets captions naming its style ("im Twemoji-Stil", "in Twemoji
style"), so the style can be asked for. Skin-tone variants are left out on purpose: they share
their base emoji's caption and would only teach colour noise.
Validation split: every VAL_EVERY-th emoji in hexcode order (`val` in the output, the same split
`lab eval` uses); train.py --exclude-val leaves those images out.
Every caption is embedded once with the text encoder; training samples (image, a blend of two of
its caption embeddings: train.py `Data.text_for`).
The output records each source's licence and attribution (`sources`, JSON).

Usage: python -m diffusion_lab.data NODE_MODULES MODELS_DIR OUT.npz [--groups 0,3,4] [--sources google]
       python -m diffusion_lab.data IN.npz MODELS_DIR OUT.npz [--device cuda]   (embed the captions again)
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .captions import captions_for
from .text_encoder import TextEncoder

SOURCES = {
    "google": {"package": "emoji-datasource-google", "style": {"en": "Noto", "de": "Noto"},
               "licence": "Apache-2.0", "attribution": "Noto Emoji by Google (Apache License 2.0)"},
    "twitter": {"package": "emoji-datasource-twitter", "style": {"en": "Twemoji", "de": "Twemoji"},
                "licence": "CC-BY-4.0", "attribution": "Twemoji by Twitter, Inc. and contributors (CC BY 4.0)"},
}
VAL_EVERY = 4  # lab eval holds out the same (src/bin/lab/evaluate.rs, bound by its test)
# emojibase groups: 0 smileys & emotion, 3 animals & nature, 4 food & drink, 5 travel & places,
# 6 activities, 7 objects. The vertical slice trains on a subset so a CPU run converges.
DEFAULT_GROUPS = "0,3,4"


def load_image(path, size):
    img = Image.open(path).convert("RGBA")
    bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
    img = Image.alpha_composite(bg, img).convert("RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.BOX)
    return np.asarray(img, dtype=np.uint8)


def find_image(nm, source, hexcode):
    # emoji-datasource names files by the fully-qualified code points, lower case
    img_dir = nm / SOURCES[source]["package"] / "img" / source / "64"
    candidates = [img_dir / f"{hexcode.lower()}.png", img_dir / f"{hexcode.lower()}-fe0f.png"]
    return next((p for p in candidates if p.exists()), None)


def embed(captions, models_dir, device="cpu"):
    md = Path(models_dir)
    te = TextEncoder(str(md / "text_encoder.safetensors"), str(md / "tokenizer.json"), str(md / "text_encoder.json"), device)
    return te.encode_many(captions).numpy().astype(np.float32)


def reembed(src, models_dir, out, device):
    """The same data set with its captions embedded again (by `models_dir`'s text encoder, on
    `device`): for a machine that has the data file but not node_modules/, e.g. a GPU machine
    that gets the file without its embeddings to keep the upload small."""
    d = dict(np.load(src))
    d["embeddings"] = embed(d["captions"].tolist(), models_dir, device)
    np.savez(out, **d)
    print(f"{len(d['captions'])} captions embedded again -> {out}")


def select_emoji(nm, groups, source):
    """The data set's emoji: hexcode -> {"en": label, "de": label}, in hexcode order, for every
    emoji of `groups` with both labels and an image in `source`."""
    labels = {}
    for lang in ("en", "de"):
        for e in json.loads((nm / "emojibase-data" / lang / "data.json").read_text()):
            if e.get("group") in groups:
                labels.setdefault(e["hexcode"], {})[lang] = e["label"]
    return {h: labels[h] for h in sorted(labels) if len(labels[h]) == 2 and find_image(nm, source, h)}


def build(node_modules, models_dir, out, groups, size, sources=("google",)):
    nm, md = Path(node_modules), Path(models_dir)
    labels = select_emoji(nm, groups, sources[0])
    images, caps, hexcodes, styles, val = [], [], [], [], []
    # the emoji (not the image) decides the split, so every style of a validation emoji is held out
    for k, hexcode in enumerate(labels):
        for source in sources:
            path = find_image(nm, source, hexcode)
            if path is None:
                continue
            images.append(load_image(path, size))
            caps.append(captions_for(labels[hexcode], SOURCES[source]["style"] if len(sources) > 1 else None))
            hexcodes.append(hexcode)
            styles.append(source)
            val.append(k % VAL_EVERY == 0)
    unique = sorted({c for cs in caps for c in cs})
    emb = embed(unique, md)
    index = {c: i for i, c in enumerate(unique)}
    # caption_ids[i] lists the rows of `embeddings` that caption image i (ragged: offsets)
    flat = [index[c] for cs in caps for c in cs]
    offsets = np.cumsum([0] + [len(cs) for cs in caps])
    np.savez_compressed(
        out,
        images=np.stack(images),
        embeddings=emb,
        caption_ids=np.array(flat, dtype=np.int32),
        caption_offsets=offsets.astype(np.int32),
        captions=np.array(unique),
        hexcodes=np.array(hexcodes),
        styles=np.array(styles),
        val=np.array(val),
        sources=np.array(json.dumps({s: SOURCES[s] for s in sources})),
    )
    print(f"{len(images)} images ({sum(val)} in the validation split), {len(unique)} captions -> {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("node_modules", help="node_modules/, or an existing data set (.npz) to embed again")
    ap.add_argument("models_dir")
    ap.add_argument("out")
    ap.add_argument("--groups", default=DEFAULT_GROUPS)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--sources", default="google", help="google (the shipped model) or google,twitter")
    ap.add_argument("--device", default="cpu", help="where the text encoder runs (cpu, cuda)")
    a = ap.parse_args()
    if a.node_modules.endswith(".npz"):
        return reembed(a.node_modules, a.models_dir, a.out, a.device)
    sources = tuple(a.sources.split(","))
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        ap.error(f"unknown source(s) {unknown}; choose from {sorted(SOURCES)}")
    build(a.node_modules, a.models_dir, a.out, {int(g) for g in a.groups.split(",")}, a.size, sources)


if __name__ == "__main__":
    main()
