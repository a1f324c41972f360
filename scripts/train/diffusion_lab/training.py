"""What training the teacher is made of, for train.py, distill.py, resolution.py and scene_eval.py:
the data (emoji set or scene bank), the v-prediction target, min-SNR weights, a resumable run with
EMA and checkpoints, DDIM sampling for preview grids, and the weight export.
"""
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.numpy import save_file

from .captions import STYLE_TEMPLATES
from .quantize import quantize
from .unet import UNet

CFG_DROP = 0.1  # fraction of samples trained unconditionally (text embedding = zeros)
# With more than one image style: the share of conditions whose blend's second caption names the
# image's style ("Hund im Twemoji-Stil"); a uniform draw picks it once in 73 captions.
STYLE_SHARE = 0.25
PREVIEW = ["dog", "Hund", "cat face", "Katzengesicht", "pizza", "Pizza", "red apple", "roter Apfel",
           "sunflower", "Sonnenblume", "grinning face", "grinsendes Gesicht", "banana", "Banane",
           "an emoji of frog", "ein Bild von Schildkröte"]


class Data:
    def __init__(self, path, exclude_val=False, device="cpu"):
        d = np.load(path)
        self.device = torch.device(device)
        self.images = (torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float() / 127.5 - 1.0).to(self.device)
        self.emb = torch.from_numpy(d["embeddings"]).float().to(self.device)
        self.ids = d["caption_ids"]
        self.off = d["caption_offsets"]
        self.captions = d["captions"]
        # the images batches draw from (older data files have no validation split)
        val = d["val"] if "val" in d else np.zeros(len(self.images), bool)
        self.train_idx = torch.from_numpy(np.flatnonzero(~val if exclude_val else np.ones_like(val)))
        self.style_ids = self.style_captions(d)

    def style_captions(self, d):
        """Per image, the rows of `emb` of its two captions that name its style (English, German),
        or None for a data set of one style."""
        styles = d["styles"] if "styles" in d else np.array([])
        if len(set(styles.tolist())) < 2:
            return None
        sources = json.loads(str(d["sources"]))
        out = np.zeros((len(styles), 2), np.int64)
        for i, source in enumerate(styles):
            ids = self.ids[self.off[i]:self.off[i + 1]]
            for k, lang in enumerate(("en", "de")):
                suffix = STYLE_TEMPLATES[lang].format("", sources[source]["style"][lang])
                (out[i, k],) = [j for j in ids if str(self.captions[j]).endswith(suffix)]
        return out

    def random_style_captions(self, images, gen):
        """Per image index, its caption naming its style, in English or German at random."""
        lang = torch.randint(0, 2, (len(images),), generator=gen).numpy()
        return torch.from_numpy(self.style_ids[np.asarray(images), lang])

    def random_captions(self, images, gen):
        """One caption (a row of `emb`) per image index, drawn uniformly from that image's captions
        (drawn on the CPU generator, so a run gives the same batches on any device)."""
        images = np.asarray(images)
        counts = torch.from_numpy(self.off[images + 1] - self.off[images]).long()
        pick = torch.minimum((torch.rand(len(images), generator=gen) * counts).long(), counts - 1)
        return torch.from_numpy(self.ids[self.off[images] + pick.numpy()]).long()

    def text_for(self, images, gen):
        """The condition for each image: a random blend of two of its captions' embeddings,
        renormalised. A new wording of a prompt lands near its emoji's captions but on none of
        them; blending teaches the denoiser the space between them, not only the points."""
        a, b = self.random_captions(images, gen), self.random_captions(images, gen)
        if self.style_ids is not None:
            named = torch.rand(len(a), generator=gen) < STYLE_SHARE
            b = torch.where(named, self.random_style_captions(images, gen), b)
        a, b = a.to(self.device), b.to(self.device)
        w = torch.rand(len(a), 1, generator=gen).to(self.device)
        return F.normalize(w * self.emb[a] + (1 - w) * self.emb[b], dim=1)

    def pair_items(self, limit=None):
        """How many images distill.py pairs (all of them; `limit` is for a caption bank)."""
        return len(self.images)

    def pair_text(self, ids, gen):
        """The teacher's condition for distillation pairs: one caption of each image drawn at random,
        and with two styles an equal blend with the caption naming the image's style (as training
        conditions on), or the teacher would draw either style for a plain caption."""
        ids = np.asarray(ids)
        text = self.emb[self.random_captions(ids, gen).to(self.device)]
        if self.style_ids is not None:
            text = F.normalize(text + self.emb[self.random_style_captions(ids, gen).to(self.device)], dim=1)
        return text

    def batch(self, n, gen, step=0, cfg_drop=CFG_DROP):
        """n images, their conditions, and no object masks (the emoji fill the image)."""
        idx = self.train_idx[torch.randint(0, len(self.train_idx), (n,), generator=gen)].numpy()
        text = self.text_for(idx, gen)
        drop = (torch.rand(n, generator=gen) < cfg_drop).to(self.device)
        text[drop] = 0.0
        return self.images[torch.from_numpy(idx).to(self.device)], text, None

    def preview_texts(self):
        """The captions of PREVIEW that the data set has, and their embeddings."""
        names = [c for c in PREVIEW if c in set(self.captions.tolist())][:16]
        return names, torch.stack([self.emb[int(np.where(self.captions == c)[0][0])] for c in names])


def forward_precision(bf16, device="cpu"):
    """The context for a forward pass: bf16 autocast with --bf16 (weights, optimizer and loss stay
    f32), plain f32 otherwise. Shared by train.py and distill.py."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bf16)


def v_target(x0, eps, ab):
    return ab.sqrt() * eps - (1 - ab).sqrt() * x0


def v_errors(model, x0, text, t, eps, ab, bf16=False):
    """The squared v-prediction error per pixel and channel [n, 3, h, w] of pictures `x0` noised
    with `eps` to timesteps `t`, and each picture's alpha-bar [n] (for loss_weights)."""
    abt = ab[t][:, None, None, None]
    xt = abt.sqrt() * x0 + (1 - abt).sqrt() * eps
    with forward_precision(bf16, x0.device):
        v = model(xt, t.float(), text)
    return (v.float() - v_target(x0, eps, abt)).pow(2), abt.flatten()


@torch.no_grad()
def sample_ddim(model, text, steps, ab, guidance=3.0, seed=0):
    """A quick DDIM preview (the Rust sampler is the product's; this only draws training grids)."""
    g = torch.Generator().manual_seed(seed)
    n = text.shape[0]
    size = model.cfg.image_size
    x = torch.randn(n, 3, size, size, generator=g).to(text.device)
    T = len(ab)
    ts = np.linspace(T - 1, 0, steps).round().astype(int)
    for i, t in enumerate(ts):
        a = torch.tensor(ab[t], dtype=torch.float32)
        tt = torch.full((n,), float(t), device=x.device)
        v = model(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([text, torch.zeros_like(text)]))
        vc, vu = v.chunk(2)
        v = vu + guidance * (vc - vu)
        x0 = a.sqrt() * x - (1 - a).sqrt() * v
        eps = (1 - a).sqrt() * x + a.sqrt() * v
        a_prev = torch.tensor(ab[ts[i + 1]] if i + 1 < len(ts) else 1.0, dtype=torch.float32)
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return x


def save_grid(x, path):
    x = ((x.float().cpu().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    n, h, w, _ = x.shape
    cols = 8
    rows = (n + cols - 1) // cols
    grid = np.full((rows * h, cols * w, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        grid[r * h:(r + 1) * h, c * w:(c + 1) * w] = x[i]
    Image.fromarray(grid).resize((cols * w * 4, rows * h * 4), Image.NEAREST).save(path)


def export(model, path):
    """The shipped weights: module names as weight names (the one naming scheme), int8 matrices
    with per-row scales and f16 for the rest (quantize.py; src/weights.rs reads them)."""
    save_file(quantize({k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}), path)


def export_f32(model, path):
    """The EMA weights unquantized, to start a later run from (--init) without the checkpoint."""
    save_file({k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}, path)


class Run:
    """A resumable training run: model, EMA copy, AdamW, the batch generator and the step count,
    kept in RUN/checkpoint.pt; a checkpoint also writes a sample grid, the exported EMA weights
    and a log line. Shared by the teacher (this file) and the student (distill.py)."""

    def __init__(self, cfg, run, lr, ema, seed, init=None, init_name="the given weights", device="cpu", warmup=0):
        """`init`: start weights for a new run (a state dict); a checkpoint in RUN wins over them.
        `warmup`: steps of linear learning-rate warm-up, so a fresh optimizer does not jolt
        trained `init` weights (Adam's first steps move every weight by about the full rate)."""
        self.dir = Path(run)
        self.dir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(0)
        self.model = UNet(cfg)
        if init is not None:
            self.model.load_state_dict(init)
        self.model.to(device)
        self.ema = copy.deepcopy(self.model).requires_grad_(False)
        self.ema_decay = ema
        self.lr, self.warmup = lr, warmup
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=lr, weight_decay=0.0)
        self.gen = torch.Generator().manual_seed(seed)
        self.step, self.seen, self.loss_avg, self.t0 = 0, 0, None, time.time()
        ckpt = self.dir / "checkpoint.pt"
        if ckpt.exists():
            s = torch.load(ckpt, weights_only=False, map_location="cpu")
            self.model.load_state_dict(s["model"])
            self.ema.load_state_dict(s["ema"])
            self.opt.load_state_dict(s["opt"])
            self.gen.set_state(s["gen"])
            self.step = s["step"]
            print(f"resumed at step {self.step}")
        elif init is not None:
            print(f"initialised from {init_name}")

    def update(self, loss, batch, total, what="loss"):
        """One optimizer step (gradient clipped to 1), the EMA, and a progress line every 50 steps
        (step, share done, time left at the run's rate so far, smoothed loss, samples/s)."""
        if self.step < self.warmup:
            for group in self.opt.param_groups:
                group["lr"] = self.lr * (self.step + 1) / self.warmup
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(list(self.ema.parameters()), list(self.model.parameters()), 1 - self.ema_decay)
        self.step += 1
        self.seen += batch
        # kept as a tensor: reading it back every step would make a GPU wait for each step
        loss = loss.detach()
        self.loss_avg = loss if self.loss_avg is None else 0.98 * self.loss_avg + 0.02 * loss
        if self.step % 50 == 0:
            rate = self.seen / (time.time() - self.t0)
            eta = time.strftime("%H:%M:%S", time.gmtime(max(total - self.step, 0) * batch / rate))
            print(f"step {self.step}/{total} ({100 * self.step / total:.1f} %, {eta} left) "
                  f"{what} {self.loss_avg.item():.4f} {rate:.1f} samples/s", flush=True)

    def checkpoint(self, samples, names, export_path=None, export_f32_path=None):
        """Saves the state, a grid of `samples(ema)` (labelled by `names`) and the EMA weights."""
        torch.save({"model": self.model.state_dict(), "ema": self.ema.state_dict(), "opt": self.opt.state_dict(),
                    "gen": self.gen.get_state(), "step": self.step}, self.dir / "checkpoint.tmp")
        (self.dir / "checkpoint.tmp").replace(self.dir / "checkpoint.pt")
        self.ema.eval()
        save_grid(samples(self.ema), self.dir / f"samples_{self.step:06d}.png")
        (self.dir / "samples.txt").write_text("\n".join(names) + "\n")
        if export_path:
            export(self.ema, export_path)
        if export_f32_path:
            export_f32(self.ema, export_f32_path)
        with open(self.dir / "log.jsonl", "a") as f:
            f.write(json.dumps({"step": self.step, "loss": float(self.loss_avg), "time": time.time()}) + "\n")


def load_data(path, exclude_val=False, device="cpu", node_modules="../../node_modules", paint_workers=0):
    """The emoji data set (data.py) or, for a caption bank (scenes.py), scenes painted on the fly
    (by `paint_workers` processes, ahead of the training step, where more than 0)."""
    with np.load(path) as d:
        is_bank = "specs" in d
    if is_bank:
        from .scenes import SceneData
        return SceneData(path, node_modules, device, paint_workers)
    return Data(path, exclude_val, device)


def loss_weights(abt, min_snr):
    """Per-sample loss weights: min-SNR-gamma (Hang et al. 2023) in its v-prediction form,
    min(SNR, gamma) / (SNR + 1), which keeps the many easy low-noise steps from dominating; ones
    without --min-snr."""
    if min_snr is None:
        return torch.ones_like(abt)
    snr = abt / (1 - abt)
    return torch.clamp(snr, max=min_snr) / (snr + 1)


def pixel_weights(masks, object_weight):
    """Per-pixel loss weights that make the objects count `object_weight` times more than the
    scene around them, renormalised to a mean of 1 per picture (so that pictures keep their
    min-SNR weight): the scenes are learnt long before the objects are. None (uniform) without."""
    if object_weight is None:
        return None
    if masks is None:
        raise ValueError("--object-weight needs a scene bank (the emoji data set has no object masks)")
    w = 1.0 + (object_weight - 1.0) * masks
    return w / w.mean(dim=(1, 2, 3), keepdim=True)


def stop_after(minutes):
    """A step budget in wall time: True once `minutes` have passed (never without a limit)."""
    end = None if minutes is None else time.time() + 60 * minutes
    return lambda: end is not None and time.time() > end
