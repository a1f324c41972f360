"""Train the teacher: v-prediction, classifier-free guidance dropout, EMA, resumable checkpoints.

Usage: python -m diffusion_lab.train --data data/emoji32.npz --config www/models/denoiser.json \
           --run runs/teacher --steps 30000 [--batch 32] [--export www/models/denoiser.safetensors]
Re-running the same command resumes from RUN/checkpoint.pt; --init starts a new run from exported
weights (the checkpoint with optimizer state stays out of the repo, the f16 weights are in it).
On a GPU: --device cuda --batch 256 --max-minutes M (stops, checkpoints and exports after M minutes);
scripts/train/gpu.sh is the run that trained the bundled model that way. On a CPU of two cores,
--procs 2 --threads 1 trains two processes data-parallel (a little faster than two threads).
"""
import argparse
import ctypes
import os
import signal
import sys
import tempfile

import torch
import torch.distributed as dist

from .quantize import load_torch
from .schedule import alphas_cumprod
from .scenes import PAINT_CHUNK
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
    ap.add_argument("--threads", type=int, default=2, help="threads per process")
    ap.add_argument("--procs", type=int, default=1,
                    help="data-parallel processes on the CPU, each taking a part of every batch (each with "
                         "--threads threads; on two cores --procs 2 --threads 1 trains faster than one process "
                         "with two threads)")
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
    if a.procs > 1:
        if a.device != "cpu" or a.paint_workers or a.batch % (PAINT_CHUNK * a.procs):
            ap.error(f"--procs is for the CPU, paints in each process, and needs a batch of {PAINT_CHUNK} x procs x k")
        with tempfile.TemporaryDirectory() as rendezvous:
            torch.multiprocessing.spawn(train, (a, f"file://{rendezvous}/store", os.getpid()), nprocs=a.procs)
    else:
        train(0, a)


def train(rank, a, rendezvous=None, parent=None):
    """The training loop of one process: the whole batch, or with --procs the `rank`-th part."""
    if a.procs > 1:
        die_with(parent)
        dist.init_process_group("gloo", init_method=rendezvous, rank=rank, world_size=a.procs)
    torch.set_num_threads(a.threads)
    cfg = load_config(a.config)
    data = load_data(a.data, a.exclude_val, a.device, a.node_modules, a.paint_workers)
    ab_np = alphas_cumprod(cfg.train_timesteps)
    ab = torch.from_numpy(ab_np).float().to(a.device)
    run = Run(cfg, a.run, a.lr, a.ema, 1234, load_torch(a.init) if a.init else None, a.init, a.device, a.warmup)
    model, gen = run.model, run.gen
    nparams = sum(p.numel() for p in model.parameters())
    run.say(f"{nparams/1e6:.2f} M parameters, {len(data.train_idx)} training images or specs")
    part = slice(rank * a.batch // a.procs, (rank + 1) * a.batch // a.procs)
    names, preview = data.preview_texts()
    out_of_time = stop_after(a.max_minutes)
    while run.step < a.steps:
        x0, text, masks = data.batch(a.batch, gen, run.step, CFG_DROP, part)
        t = torch.randint(0, cfg.train_timesteps, (a.batch,), generator=gen)[part].to(a.device)
        eps = torch.randn((a.batch, *x0.shape[1:]), generator=gen)[part].to(a.device)
        err, abt = v_errors(model, x0, text, t, eps, ab, a.bf16)
        weights = pixel_weights(masks, a.object_weight)
        err = (err if weights is None else err * weights).mean(dim=(1, 2, 3))
        run.update((loss_weights(abt, a.min_snr) * err).mean(), a.batch, a.steps)
        if stop_anywhere(out_of_time()):
            run.say(f"--max-minutes reached at step {run.step}")
            a.steps = run.step
        if run.step % a.every == 0 or run.step == a.steps:
            run.checkpoint(lambda ema: sample_ddim(ema, preview, 20, ab_np), names, a.export, a.export_f32)
    if hasattr(data, "close"):
        data.close()
    if dist.is_initialized():
        dist.destroy_process_group()


def die_with(parent):
    """Linux: this process gets SIGTERM when `parent`, the one that spawned it, dies, so that
    stopping the command stops the training (the processes would otherwise go on between themselves)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # it died before prctl
            sys.exit(1)


def stop_anywhere(stop):
    """True in every process once one of them has run out of time, so that all stop at one step."""
    if not dist.is_initialized():
        return stop
    flag = torch.tensor([float(stop)])
    dist.all_reduce(flag)
    return bool(flag.item())


if __name__ == "__main__":
    main()
