"""Distil the teacher into a student that needs <= 4 denoiser passes per image, guidance baked in.

Method (reflow-style trajectory distillation; Liu et al. 2022 "Flow Straight and Fast", Luhman &
Luhman 2021 "Knowledge Distillation in Iterative Generative Models"):
1. The teacher solves the sampling ODE from noise z to an image x0 for every image and a few seeds,
   each with one of the image's captions drawn at random (with two image styles, blended equally
   with the caption naming the image's style): DPM-Solver++(2M), 16 steps,
   classifier-free guidance 3 (batch 2 per step). That gives deterministic pairs (z, x0, image),
   with guidance already in x0.
2. The student (same UNet, initialised from the teacher) learns to predict x0 from the point on the
   straight DDIM line between the pair, x_t = alpha_t x0 + sigma_t z', z' = (z - alpha_T x0) / sigma_T,
   at the timesteps a 1-4 step trailing DDIM schedule visits, conditioned on any wording of the
   pair's image (a blend of two of its 120 captions, train.py `Data.text_for`: the same noise
   should give the same emoji whatever the wording). A DDIM step with a perfect x0 stays on that
   line, so 1-4 student passes land where 32 teacher passes did, with one pass per step.
This needs one teacher sampling sweep (inference only) instead of the many teacher calls per
training step of progressive or consistency distillation: that is what a 2-core CPU affords.

Usage (from scripts/train):
  python -m diffusion_lab.distill --data ../../data/emoji32.npz --config ../../www/models/denoiser.json \
      --teacher ../../www/models/denoiser.safetensors --run ../../runs/student --steps 4000 \
      --export ../../www/models/student.safetensors
Re-running resumes: the pairs file and the checkpoint are kept in RUN; a larger --pair-specs
extends the pairs file. --device cuda and
--max-minutes as in train.py. With a caption bank as --data (scenes.py) the pairs come from its
specs (the first --pair-specs N of them), each conditioned on a blend of its two captions: the
student keeps the teacher's variety, because each pair is one of many pictures for a caption.
"""
import argparse
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .quantize import load_torch
from .schedule import alphas_cumprod
from .training import Run, forward_precision, load_data, stop_after
from .unet import UNet, load_config

# the teacher's guidance and the student's steps as the Lab runs them (src/limits.rs, bound by
# its test the_distillation_trains_what_the_lab_runs)
GUIDANCE = 3.0
TEACHER_STEPS = 16
MAX_STUDENT_STEPS = 4


def trailing(n, T=1000):
    """The Rust sampler's timesteps (src/schedule.rs `timesteps`)."""
    return [max(int(round(T - i * T / n)) - 1, 0) for i in range(n)]


def student_timesteps():
    return sorted({t for n in range(1, MAX_STUDENT_STEPS + 1) for t in trailing(n)}, reverse=True)


@torch.no_grad()
def teacher_solve(model, text, z, ab, steps=TEACHER_STEPS, guidance=GUIDANCE, bf16=False):
    """DPM-Solver++(2M) with CFG, as src/sampler.rs does it (x0 clipped to [-1, 1]); `z` and
    `text` on the model's device."""
    ts = trailing(steps)
    lam = lambda a: 0.5 * np.log(a / (1 - a))
    x, prev_x0, h_prev = z.clone(), None, None
    uncond = torch.zeros_like(text)
    for i, t in enumerate(ts):
        a = float(ab[t])
        n = x.shape[0]
        tt = torch.full((2 * n,), float(t), device=x.device)
        with forward_precision(bf16, x.device):
            v = model(torch.cat([x, x]), tt, torch.cat([text, uncond])).float()
        vc, vu = v.chunk(2)
        v = vu + guidance * (vc - vu)
        x0 = (a ** 0.5 * x - (1 - a) ** 0.5 * v).clamp(-1, 1)
        if i + 1 == len(ts):
            return x0
        a_next = float(ab[ts[i + 1]])
        h = lam(a_next) - lam(a)
        d = x0 if prev_x0 is None else (1 + 0.5 * h / h_prev) * x0 - (0.5 * h / h_prev) * prev_x0
        x = ((1 - a_next) / (1 - a)) ** 0.5 * x - a_next ** 0.5 * (np.exp(-h) - 1) * d
        prev_x0, h_prev = x0, h


def make_pairs(model, data, ab, seeds, batch, bf16=False, device="cpu", limit=None, start=0):
    """`seeds` teacher samples per image (or caption-bank spec) from `start` on, each from its own
    noise and a condition of that image drawn at random (`data.pair_text`: so the pairs cover its
    wordings without solving the ODE for every caption). A spec's picture is whatever the teacher
    draws for it: the student learns the teacher's variety, one picture per noise."""
    n_img = data.pair_items(limit)
    size = model.cfg.image_size
    zs, x0s, imgs = [], [], []
    t0 = time.time()
    for seed in range(seeds):
        # later specs get their own noise stream, so extending a pairs file repeats no noise
        g = torch.Generator().manual_seed(10_000 + seed + 7919 * start)
        z_all = torch.randn(n_img - start, 3, size, size, generator=g)
        for s in range(start, n_img, batch):
            ids = torch.arange(s, min(s + batch, n_img))
            text = data.pair_text(ids.numpy(), g)
            x0s.append(teacher_solve(model, text, z_all[ids - start].to(device), ab, bf16=bf16).cpu())
            zs.append(z_all[ids - start])
            imgs.append(ids)
            done = seed * (n_img - start) + s - start + len(ids)
            print(f"pairs {done}/{seeds * (n_img - start)} {done / (time.time() - t0):.1f} pairs/s", flush=True)
    return {"z": torch.cat(zs).numpy(), "x0": torch.cat(x0s).numpy(), "image": torch.cat(imgs).numpy()}


def pairs_file(path, model, data, ab, a):
    """The run's pairs: made once, and extended when --pair-specs asks for more specs than it holds
    (the pairs made so far are kept, so a student can go on with more pairs)."""
    have = dict(np.load(path)) if path.exists() else None
    start = 0 if have is None else int(have["image"].max()) + 1
    if start < data.pair_items(a.pair_specs):
        new = make_pairs(model, data, ab, a.seeds, a.pair_batch, a.bf16, a.device, a.pair_specs, start)
        if have is not None:
            new = {k: np.concatenate([have[k], new[k]]) for k in new}
            print(f"pairs extended from {start} to {data.pair_items(a.pair_specs)} specs")
        np.savez(path.with_suffix(".tmp.npz"), **new)
        path.with_suffix(".tmp.npz").replace(path)
    return np.load(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--seeds", type=int, default=8, help="teacher samples per image")
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--export")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast for the forward passes, as in train.py")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--max-minutes", type=float, help="stop (checkpoint and export) after this much wall time")
    ap.add_argument("--pair-batch", type=int, default=64, help="images per teacher sampling batch")
    ap.add_argument("--init", help="start the student from these weights instead of the teacher's "
                                   "(to go on from a shipped student whose checkpoint is gone)")
    ap.add_argument("--warmup", type=int, default=0, help="linear learning-rate warm-up steps, as in train.py")
    ap.add_argument("--pair-specs", type=int, help="with a caption bank: pair only its first N specs")
    ap.add_argument("--node-modules", default="../../node_modules", help="the emoji images, for a caption bank")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    run_dir = Path(a.run)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg = load_config(a.config)
    data = load_data(a.data, device=a.device, node_modules=a.node_modules)
    ab_np = alphas_cumprod(cfg.train_timesteps)
    ab = torch.from_numpy(ab_np).float().to(a.device)
    weights = load_torch(a.teacher)
    teacher = UNet(cfg)
    teacher.load_state_dict(weights)
    teacher.to(a.device).eval()
    pairs = pairs_file(run_dir / "pairs.npz", teacher, data, ab_np, a)
    del teacher
    z, x0_all = (torch.from_numpy(pairs[k]).to(a.device) for k in ("z", "x0"))
    image = torch.from_numpy(pairs["image"])
    print(f"{len(z)} teacher pairs")

    init, init_name = (load_torch(a.init), a.init) if a.init else (weights, f"the teacher {a.teacher}")
    run = Run(cfg, a.run, a.lr, a.ema, 4321, init=init, init_name=init_name, device=a.device, warmup=a.warmup)
    model, gen = run.model, run.gen
    ts = torch.tensor(student_timesteps())
    a_T = float(ab[ts[0]]) ** 0.5
    s_T = (1 - float(ab[ts[0]])) ** 0.5
    names, preview = data.preview_texts()
    out_of_time = stop_after(a.max_minutes)
    while run.step < a.steps:
        idx = torch.randint(0, len(z), (a.batch,), generator=gen)
        t = ts[torch.randint(0, len(ts), (a.batch,), generator=gen)].to(a.device)
        idx_on_device = idx.to(a.device)
        x0 = x0_all[idx_on_device]
        z_line = (z[idx_on_device] - a_T * x0) / s_T
        abt = ab[t][:, None, None, None]
        xt = abt.sqrt() * x0 + (1 - abt).sqrt() * z_line
        with forward_precision(a.bf16, a.device):
            # any wording of the pair's image (a blend of two captions, as in train.py): the same
            # noise must give the same emoji, whatever the wording
            v = model(xt, t.float(), data.text_for(image[idx].numpy(), gen)).float()
        run.update(F.mse_loss(abt.sqrt() * xt - (1 - abt).sqrt() * v, x0), a.batch, a.steps, "x0 loss")
        if out_of_time():
            print(f"--max-minutes reached at step {run.step}")
            a.steps = run.step
        if run.step % a.every == 0 or run.step == a.steps:
            run.checkpoint(lambda ema: student_sample(ema, preview, ab_np, MAX_STUDENT_STEPS), names, a.export)

@torch.no_grad()
def student_sample(model, text, ab, steps, seed=0):
    """Trailing DDIM without guidance: what the browser runs for the student."""
    g = torch.Generator().manual_seed(seed)
    size = model.cfg.image_size
    x = torch.randn(text.shape[0], 3, size, size, generator=g).to(text.device)
    ts = trailing(steps)
    for i, t in enumerate(ts):
        a = float(ab[t])
        v = model(x, torch.full((x.shape[0],), float(t), device=x.device), text)
        x0 = (a ** 0.5 * x - (1 - a) ** 0.5 * v).clamp(-1, 1)
        if i + 1 == len(ts):
            return x0
        eps = (x - a ** 0.5 * x0) / (1 - a) ** 0.5
        a_next = float(ab[ts[i + 1]])
        x = a_next ** 0.5 * x0 + (1 - a_next) ** 0.5 * eps
    return x


if __name__ == "__main__":
    main()
