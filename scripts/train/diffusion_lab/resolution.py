"""32 or 64 px: what each resolution costs, and what 32 px keeps of the 64 px emoji.

Prints, measured in one run on this machine:
- denoiser GFLOP per image pass and training speed (forward + backward + AdamW, batch 32, bf16
  autocast as `train.py --bf16`) for the shipped config at 32 px, the same net at 64 px (its
  attention then at 16x16), and 64 px with one more level in front (attention stays at 8x8);
- what box-downsampling the 64 px emoji to 32 (and 16, 8) px loses: PSNR of the small image
  scaled back up (each pixel repeated, the least-squares reconstruction of a box average) against
  the original, and the share of emoji whose scaled-back image is nearest to its own original.
With --out DIR it also writes DIR/compare.png (emoji at 64, 32 and 16 px, scaled to 128 px) and
two model folders for `lab manifest` + `lab bench`: DIR/64 (the shipped weights, run at 64 px:
convolutions do not care about the size) and DIR/64-4levels (random weights of the 4-level net).
Usage: python -m diffusion_lab.resolution NODE_MODULES MODELS_DIR [--out DIR] [--threads 2]
"""
import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

from .data import DEFAULT_GROUPS, find_image, load_image, select_emoji
from .training import export, forward_precision
from .unet import UNet, load_config

SHOWN = ["1F436", "1F431", "1F355", "1F34E", "1F33B", "1F438", "1F600", "1F422"]  # dog, cat, pizza, ...


def variants(cfg):
    """The three nets compared: name -> config."""
    four = cfg.replace(image_size=64, channels=(cfg.channels[0], *cfg.channels))
    return {"32 px (shipped)": cfg, "64 px, same net": cfg.replace(image_size=64), "64 px, one more level": four}


def gflop_per_pass(model, cfg):
    s = cfg.image_size
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, 3, s, s), torch.zeros(1), torch.zeros(1, cfg.text_dim))
    return counter.get_total_flops() / 1e9


def training_rate(model, cfg, batch=32, warmup=2, steps=6):
    """Samples per second of training steps on random data (the same work as real data)."""
    s = cfg.image_size
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x, t, text = torch.randn(batch, 3, s, s), torch.randint(0, 1000, (batch,)).float(), torch.randn(batch, cfg.text_dim)
    for i in range(warmup + steps):
        if i == warmup:
            t0 = time.time()
        with forward_precision(True):
            loss = F.mse_loss(model(x, t, text).float(), x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return batch * steps / (time.time() - t0)


def downsampling_loss(originals, size):
    """PSNR (dB) of `originals` (N, 64, 64, 3 uint8) box-averaged to `size` and scaled back, and
    the share whose scaled-back image is nearest its own original (L2 over all originals)."""
    f = 64 // size
    x = originals.astype(np.float32)
    small = x.reshape(len(x), size, f, size, f, 3).mean(axis=(2, 4)).round()
    back = small.repeat(f, axis=1).repeat(f, axis=2)
    mse = ((back - x) ** 2).mean(axis=(1, 2, 3))
    psnr = float(np.mean(10 * np.log10(255.0**2 / np.maximum(mse, 1e-9))))
    a, b = back.reshape(len(x), -1), x.reshape(len(x), -1)
    d = (a**2).sum(1)[:, None] - 2 * a @ b.T + (b**2).sum(1)[None, :]
    return psnr, float((d.argmin(axis=1) == np.arange(len(x))).mean())


def write_compare(originals, hexcodes, path):
    rows = []
    for h in SHOWN:
        if h not in hexcodes:
            continue
        img = Image.fromarray(originals[hexcodes.index(h)])
        rows.append([np.asarray(img.resize((s, s), Image.BOX).resize((128, 128), Image.NEAREST)) for s in (64, 32, 16)])
    grid = np.concatenate([np.concatenate(r, axis=1) for r in rows], axis=0)
    Image.fromarray(grid).save(path)


def bench_dirs(models_dir, cfgs, out):
    """Model folders for `lab bench` at 64 px (manifest.json left out: `lab manifest` writes it)."""
    for name, cfg, weights in (("64", cfgs["64 px, same net"], None), ("64-4levels", cfgs["64 px, one more level"], "random")):
        d = out / name
        shutil.copytree(models_dir, d, dirs_exist_ok=True)
        (d / "manifest.json").unlink(missing_ok=True)
        (d / "denoiser.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
        if weights == "random":
            torch.manual_seed(0)
            for file in ("denoiser.safetensors", "student.safetensors"):
                export(UNet(cfg), d / file)
        print(f"wrote {d}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("node_modules")
    ap.add_argument("models_dir")
    ap.add_argument("--out", help="write compare.png and the 64 px model folders here")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    nm, md = Path(a.node_modules), Path(a.models_dir)
    cfgs = variants(load_config(md / "denoiser.json"))

    print(f"torch {torch.__version__}, {a.threads} threads, batch 32, bf16 autocast")
    print("| net | parameters | GFLOP / pass | training samples/s | × the 32 px rate |")
    print("|---|---|---|---|---|")
    base = None
    for name, cfg in cfgs.items():
        torch.manual_seed(0)
        model = UNet(cfg)
        params = sum(p.numel() for p in model.parameters()) / 1e6
        rate = training_rate(model, cfg)
        base = base or rate
        print(f"| {name} | {params:.2f} M | {gflop_per_pass(model, cfg):.3f} | {rate:.1f} | {rate / base:.2f} |", flush=True)

    emoji = list(select_emoji(nm, {int(g) for g in DEFAULT_GROUPS.split(",")}, "google"))
    originals = np.stack([load_image(find_image(nm, "google", h), 64) for h in emoji])
    print(f"\n{len(emoji)} Noto emoji at 64 px, box-averaged and scaled back:")
    print("| size | PSNR against 64 px | nearest original is its own |")
    print("|---|---|---|")
    for size in (32, 16, 8):
        psnr, own = downsampling_loss(originals, size)
        print(f"| {size} px | {psnr:.1f} dB | {100 * own:.1f} % |")
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        write_compare(originals, emoji, out / "compare.png")
        bench_dirs(md, cfgs, out)


if __name__ == "__main__":
    main()
