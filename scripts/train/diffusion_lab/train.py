"""Train the teacher: v-prediction, classifier-free guidance dropout, EMA, resumable checkpoints.

Usage: python -m diffusion_lab.train --data data/emoji32.npz --config www/models/denoiser.json \
           --run runs/teacher --steps 30000 [--batch 32] [--export www/models/denoiser.safetensors]
Re-running the same command resumes from RUN/checkpoint.pt; --init starts a new run from exported
weights (the checkpoint with optimizer state stays out of the repo, the f16 weights are in it).
On a GPU: --device cuda --batch 256 --max-minutes M (stops, checkpoints and exports after M minutes);
scripts/train/gpu.sh is the run that trained the bundled model that way.
"""
import argparse

import torch

from .quantize import load_torch
from .schedule import alphas_cumprod
from .training import CFG_DROP, Run, load_data, loss_weights, pixel_weights, sample_ddim, stop_after, v_errors
from .unet import load_config


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--steps", type=int, default=30000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--every", type=int, default=1000, help="checkpoint + sample grid interval")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export", help="write the EMA weights here (f16 safetensors) at every checkpoint")
    ap.add_argument("--export-f32", help="also write the EMA weights unquantized (f32) here, for a later --init")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--max-minutes", type=float, help="stop (checkpoint and export) after this much wall time")
    ap.add_argument("--warmup", type=int, default=0, help="linear learning-rate warm-up steps for a new run")
    ap.add_argument("--init", help="start a new run from these weights (e.g. the shipped www/models/denoiser.safetensors)")
    ap.add_argument("--exclude-val", action="store_true", help="leave the validation split's images out")
    ap.add_argument("--node-modules", default="../../node_modules", help="the emoji images, for a scene bank")
    ap.add_argument("--paint-workers", type=int, default=0,
                    help="processes that paint a scene bank's next batch while the model trains (0: paint in this one)")
    ap.add_argument("--min-snr", type=float, help="min-SNR-gamma loss weighting (e.g. 5); plain MSE without")
    ap.add_argument("--object-weight", type=float,
                    help="a scene bank's objects weigh this many times the scene's pixels in the loss (e.g. 4)")
    ap.add_argument("--bf16", action="store_true",
                    help="bf16 autocast for the forward pass (weights, optimizer and loss stay f32); "
                         "1.45x the samples/s on a CPU with AVX512-BF16")
    a = ap.parse_args()
    if a.object_weight is not None and a.object_weight <= 0:
        ap.error("--object-weight must be above 0")
    torch.set_num_threads(a.threads)
    cfg = load_config(a.config)
    data = load_data(a.data, a.exclude_val, a.device, a.node_modules, a.paint_workers)
    ab_np = alphas_cumprod(cfg.train_timesteps)
    ab = torch.from_numpy(ab_np).float().to(a.device)
    run = Run(cfg, a.run, a.lr, a.ema, 1234, load_torch(a.init) if a.init else None, a.init, a.device, a.warmup)
    model, gen = run.model, run.gen
    nparams = sum(p.numel() for p in model.parameters())
    print(f"{nparams/1e6:.2f} M parameters, {len(data.train_idx)} training images or specs")
    names, preview = data.preview_texts()
    out_of_time = stop_after(a.max_minutes)
    while run.step < a.steps:
        x0, text, masks = data.batch(a.batch, gen, run.step, CFG_DROP)
        t = torch.randint(0, cfg.train_timesteps, (a.batch,), generator=gen).to(a.device)
        eps = torch.randn(x0.shape, generator=gen).to(a.device)
        err, abt = v_errors(model, x0, text, t, eps, ab, a.bf16)
        weights = pixel_weights(masks, a.object_weight)
        err = (err if weights is None else err * weights).mean(dim=(1, 2, 3))
        run.update((loss_weights(abt, a.min_snr) * err).mean(), a.batch, a.steps)
        if out_of_time():
            print(f"--max-minutes reached at step {run.step}")
            a.steps = run.step
        if run.step % a.every == 0 or run.step == a.steps:
            run.checkpoint(lambda ema: sample_ddim(ema, preview, 20, ab_np), names, a.export, a.export_f32)
    if hasattr(data, "close"):
        data.close()


if __name__ == "__main__":
    main()
