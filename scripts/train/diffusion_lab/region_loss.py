"""How well does a scene model denoise its objects, and how well the scene around them? The
training loss split by region, on the same freshly painted pictures, noises and timesteps for every
model given: a low-noise measure of convergence for comparing runs after minutes, where the
detector's object score (scene_eval.py) moves by a few pictures in hours.

Usage: python -m diffusion_lab.region_loss BANK.npz CONFIG.json MODEL.safetensors [MODEL ...] [--n 2048]
Prints, per model, the min-SNR-weighted v-prediction error on the object pixels, on the scene's
pixels and on the whole picture (lower is better).
"""
import argparse

import numpy as np
import torch

from .quantize import load_torch
from .scenes import SceneData
from .schedule import alphas_cumprod
from .training import forward_precision, loss_weights, v_target
from .unet import UNet, load_config


def region_losses(model, x0, text, masks, t, eps, ab, min_snr=5.0, batch=128, bf16=False):
    """(object, scene, whole) mean weighted squared v-error, pixels weighted by mask and 1 - mask."""
    sums = torch.zeros(3, dtype=torch.float64)
    area = torch.zeros(3, dtype=torch.float64)
    with torch.no_grad():
        for s in range(0, len(x0), batch):
            sl = slice(s, s + batch)
            abt = ab[t[sl]][:, None, None, None]
            xt = abt.sqrt() * x0[sl] + (1 - abt).sqrt() * eps[sl]
            with forward_precision(bf16):
                v = model(xt, t[sl].float(), text[sl])
            err = (v.float() - v_target(x0[sl], eps[sl], abt)).pow(2).mean(dim=1, keepdim=True)
            err = err * loss_weights(abt.flatten(), min_snr)[:, None, None, None]
            m = masks[sl]
            for k, w in enumerate((m, 1 - m, torch.ones_like(m))):
                sums[k] += float((err * w).sum())
                area[k] += float(w.sum())
    return tuple((sums / area).tolist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bank")
    ap.add_argument("config")
    ap.add_argument("models", nargs="+")
    ap.add_argument("--n", type=int, default=2048, help="pictures (each with its own noise and timestep)")
    ap.add_argument("--node-modules", default="../../node_modules")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = load_config(a.config)
    data = SceneData(a.bank, a.node_modules)
    # pictures from a step far beyond any run, so that no run has trained on these very pictures
    ids, images, masks = data.pictures(a.n, 10**9 + a.seed)
    x0 = torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    gen = torch.Generator().manual_seed(a.seed)
    text = data.text_for(ids, gen)
    t = torch.randint(0, cfg.train_timesteps, (a.n,), generator=gen)
    eps = torch.randn(x0.shape, generator=gen)
    ab = torch.from_numpy(alphas_cumprod(cfg.train_timesteps)).float()
    m = torch.from_numpy(masks)[:, None]
    print(f"{a.n} pictures, objects cover {100 * float(m.mean()):.1f} % of the pixels")
    print("| model | object loss | scene loss | whole |")
    print("|---|---|---|---|")
    for path in a.models:
        model = UNet(cfg)
        model.load_state_dict(load_torch(path))
        obj, scene, whole = region_losses(model.eval(), x0, text, m, t, eps, ab)
        print(f"| {path} | {obj:.5f} | {scene:.5f} | {whole:.5f} |", flush=True)


if __name__ == "__main__":
    main()
