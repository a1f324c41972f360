"""The scene evaluation's detector: a small CNN that names the object and the scene of a 32 px
picture, trained on pictures the scene painter draws (scenes.py), so that a generated picture
counts as right when it shows what the painter would have drawn for its prompt.

Classes: the everyday nouns of lexicon.py (the objects learners type) and the scenes (plus
"none", the white background). Trained on single-noun specs (one to three of it, any colour,
size and place) on every scene, both emoji styles.
Usage: python -m diffusion_lab.detector NODE_MODULES OUT.safetensors [--steps 3000]
"""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from .scenes import COLOUR_NAMES, PLACES, SCENE_NAMES, Painter, everyday_nouns, load_concepts

SCENE_CLASSES = ["none"] + SCENE_NAMES


class Detector(nn.Module):
    def __init__(self, n_objects, n_scenes=len(SCENE_CLASSES)):
        super().__init__()
        chans = [3, 24, 48, 96, 192]
        self.convs = nn.ModuleList()
        for i in range(4):
            self.convs.append(nn.Conv2d(chans[i], chans[i + 1], 3, padding=1))
            self.convs.append(nn.Conv2d(chans[i + 1], chans[i + 1], 3, padding=1))
        self.norms = nn.ModuleList(nn.GroupNorm(8, c) for c in chans[1:] for _ in range(2))
        self.objects = nn.Linear(chans[-1] * 2, n_objects)
        self.scenes = nn.Linear(chans[-1] * 2, n_scenes)

    def forward(self, x):
        """x in -1..1, [n, 3, 32, 32] -> (object logits, scene logits)."""
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            x = F.silu(norm(conv(x)))
            if i % 2 == 1 and i < 7:
                x = F.max_pool2d(x, 2)
        h = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], dim=1)
        return self.objects(h), self.scenes(h)


def random_labelled_spec(nouns, rng):
    """A spec with one everyday noun (one to three of it) and its labels (noun index, scene index)."""
    k = int(rng.integers(len(nouns)))
    scene_k = int(rng.integers(len(SCENE_CLASSES)))
    count = int(rng.choice([1, 2, 3], p=[0.6, 0.25, 0.15]))
    colour = COLOUR_NAMES[rng.integers(len(COLOUR_NAMES))] if rng.random() < 0.25 else None
    size = None if rng.random() < 0.7 else ("small" if rng.random() < 0.5 else "big")
    place = list(PLACES)[rng.integers(4)] if rng.random() < 0.15 else None
    spec = {"objects": [(nouns[k], count, colour)], "scene": None if scene_k == 0 else SCENE_CLASSES[scene_k],
            "size": size, "place": place}
    return spec, k, scene_k


def to_tensor(images):
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def load(path):
    """The detector and its class names (object hexcodes, scenes) from `path`."""
    w = load_file(path)
    nouns = bytes(w.pop("meta.nouns").tolist()).decode().split(",")
    model = Detector(len(nouns))
    model.load_state_dict(w)
    return model.eval(), nouns


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("node_modules")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    concepts = load_concepts(a.node_modules)
    nouns = everyday_nouns(concepts)
    painter = Painter(a.node_modules, concepts)
    model = Detector(len(nouns))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=a.steps, pct_start=0.1)
    rng = np.random.default_rng(0)
    t0, acc_o, acc_s = time.time(), 0.0, 0.0
    for step in range(1, a.steps + 1):
        batch = [random_labelled_spec(nouns, rng) for _ in range(a.batch)]
        x = to_tensor([painter.paint(s, rng) for s, _, _ in batch])
        # a little noise and blur: generated pictures are softer than painted ones
        if rng.random() < 0.5:
            x = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1) * 0.5 + x * 0.5
        x = x + 0.05 * torch.randn_like(x) * float(rng.random())
        yo = torch.tensor([k for _, k, _ in batch])
        ys = torch.tensor([s for _, _, s in batch])
        lo, ls = model(x)
        loss = F.cross_entropy(lo, yo) + F.cross_entropy(ls, ys)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        acc_o = 0.98 * acc_o + 0.02 * (lo.argmax(1) == yo).float().mean().item()
        acc_s = 0.98 * acc_s + 0.02 * (ls.argmax(1) == ys).float().mean().item()
        if step % 100 == 0:
            print(f"step {step}/{a.steps} loss {loss.item():.3f} object {acc_o:.3f} scene {acc_s:.3f} "
                  f"{step * a.batch / (time.time() - t0):.0f} samples/s", flush=True)
    # held-out check: fresh pictures the detector never saw
    model.eval()
    rng = np.random.default_rng(12345)
    batch = [random_labelled_spec(nouns, rng) for _ in range(2000)]
    with torch.no_grad():
        lo, ls = model(to_tensor([painter.paint(s, rng) for s, _, _ in batch]))
    yo = torch.tensor([k for _, k, _ in batch])
    ys = torch.tensor([s for _, _, s in batch])
    top5 = (lo.topk(5, dim=1).indices == yo[:, None]).any(1).float().mean().item()
    print(f"fresh pictures: object top-1 {(lo.argmax(1) == yo).float().mean().item():.3f} top-5 {top5:.3f}, "
          f"scene {(ls.argmax(1) == ys).float().mean().item():.3f}")
    w = {k: v.contiguous() for k, v in model.state_dict().items()}
    w["meta.nouns"] = torch.tensor(list(",".join(nouns).encode()), dtype=torch.uint8)
    save_file(w, a.out)


if __name__ == "__main__":
    main()
