"""How well does a scene model denoise its objects, and how well the scene around them? The
training loss split by region, on the same freshly painted pictures, noises and timesteps for every
model given: a low-noise measure of convergence for comparing runs after minutes, where the
detector's object score (scene_eval.py) moves by a few pictures in hours.

Usage: python -m diffusion_lab.region_loss BANK.npz CONFIG.json MODEL.safetensors [MODEL ...] [--n 2048]
Prints, per model, the min-SNR-weighted v-prediction error on the object pixels, on the scene's
pixels and on the whole picture (lower is better).
"""
import argparse

import torch

from .quantize import load_torch
from .scenes import SceneData
from .schedule import alphas_cumprod
from .training import loss_weights, v_errors
from .unet import UNet, load_config

MIN_SNR = 5.0  # as the scene runs train (--min-snr 5)


def region_losses(model, x0, text, masks, t, eps, ab, batch=128):
    """(object, scene, whole): the mean weighted squared v-error over the pixels weighted by
    `masks`, by 1 - masks, and by one."""
    sums = torch.zeros(3, dtype=torch.float64)
    area = torch.zeros(3, dtype=torch.float64)
    with torch.no_grad():
        for s in range(0, len(x0), batch):
            sl = slice(s, s + batch)
            err, abt = v_errors(model, x0[sl], text[sl], t[sl], eps[sl], ab)
            err = err.mean(dim=1, keepdim=True) * loss_weights(abt, MIN_SNR)[:, None, None, None]
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
    gen = torch.Generator().manual_seed(a.seed)
    # pictures of a step far beyond any run, so that no run has trained on these very pictures;
    # every condition kept (no guidance dropout)
    x0, text, m = data.batch(a.n, gen, 10**9 + a.seed, cfg_drop=0.0)
    t = torch.randint(0, cfg.train_timesteps, (a.n,), generator=gen)
    eps = torch.randn(x0.shape, generator=gen)
    ab = torch.from_numpy(alphas_cumprod(cfg.train_timesteps)).float()
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
