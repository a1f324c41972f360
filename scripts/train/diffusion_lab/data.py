"""Build the bilingual emoji data set from the npm packages in node_modules/.

Images: emoji-datasource-google (Noto Emoji, Apache-2.0), 64x64 PNG, alpha composited on white,
box-downsampled to the model's resolution. Captions: emojibase-data de/ and en/ labels (and a few
templates), so every image has German and English captions. Skin-tone variants are left out on
purpose: they share their base emoji's caption and would only teach colour noise.
Every caption is embedded once with the text encoder; training samples (image, caption embedding).

Usage: python -m diffusion_lab.data NODE_MODULES MODELS_DIR OUT.npz [--groups 0,3,4]
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .text_encoder import TextEncoder

TEMPLATES = {
    "en": ["{}", "an emoji of {}", "a picture of {}"],
    "de": ["{}", "ein Emoji: {}", "ein Bild von {}"],
}
# emojibase groups: 0 smileys & emotion, 3 animals & nature, 4 food & drink, 5 travel & places,
# 6 activities, 7 objects. The vertical slice trains on a subset so a CPU run converges.
DEFAULT_GROUPS = "0,3,4"


def captions_for(labels):
    out = []
    for lang, label in labels.items():
        label = label.strip()
        out += [t.format(label) for t in TEMPLATES[lang]]
    return out


def load_image(path, size):
    img = Image.open(path).convert("RGBA")
    bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
    img = Image.alpha_composite(bg, img).convert("RGB")
    if img.size != (size, size):
        img = img.resize((size, size), Image.BOX)
    return np.asarray(img, dtype=np.uint8)


def build(node_modules, models_dir, out, groups, size):
    nm, md = Path(node_modules), Path(models_dir)
    labels = {}
    for lang in ("en", "de"):
        for e in json.loads((nm / "emojibase-data" / lang / "data.json").read_text()):
            if e.get("group") in groups:
                labels.setdefault(e["hexcode"], {})[lang] = e["label"]
    img_dir = nm / "emoji-datasource-google" / "img" / "google" / "64"
    images, caps, hexcodes = [], [], []
    for hexcode in sorted(labels):
        if len(labels[hexcode]) != 2:
            continue
        # emoji-datasource names files by the fully-qualified code points, lower case
        candidates = [img_dir / f"{hexcode.lower()}.png", img_dir / f"{hexcode.lower()}-fe0f.png"]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            continue
        images.append(load_image(path, size))
        caps.append(captions_for(labels[hexcode]))
        hexcodes.append(hexcode)
    te = TextEncoder(str(md / "text_encoder.safetensors"), str(md / "tokenizer.json"), str(md / "text_encoder.json"))
    unique = sorted({c for cs in caps for c in cs})
    emb = torch.stack([te.encode(c) for c in unique]).numpy().astype(np.float32)
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
    )
    print(f"{len(images)} images, {len(unique)} captions -> {out}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("node_modules")
    ap.add_argument("models_dir")
    ap.add_argument("out")
    ap.add_argument("--groups", default=DEFAULT_GROUPS)
    ap.add_argument("--size", type=int, default=32)
    a = ap.parse_args()
    build(a.node_modules, a.models_dir, a.out, {int(g) for g in a.groups.split(",")}, a.size)


if __name__ == "__main__":
    main()
