"""Does the pooled caption embedding (what the denoiser's FiLM sees) name the object and the scene?

A linear probe (and a one-hidden-layer MLP) trained on a caption bank's single-object captions
(every everyday noun x scene, both languages) predicts the noun and the scene; it is scored on
scene_eval's prompt sets, none of which it trained on: held-out wordings, held-out object x scene
combinations and the learner prompts. Near 100 % means the condition carries both, so a
denoiser that draws the scene but not the object lacks capacity or training, not information.
Usage: python -m diffusion_lab.probe BANK.npz [--node-modules DIR] [--models DIR]
"""
import argparse
import json

import numpy as np
import torch
import torch.nn.functional as F

from .scene_eval import held_out_sets, learner_set
from .scenes import SCENE_NAMES, everyday_nouns, load_concepts
from .text_encoder import TextEncoder


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bank")
    ap.add_argument("--node-modules", default="../../node_modules")
    ap.add_argument("--models", default="../../www/models")
    ap.add_argument("--steps", type=int, default=3000)
    a = ap.parse_args()
    torch.manual_seed(0)
    d = np.load(a.bank)
    concepts = load_concepts(a.node_modules)
    nouns = everyday_nouns(concepts)
    noun_index = {h: i for i, h in enumerate(nouns)}
    scenes = list(SCENE_NAMES) + [None]
    emb = torch.from_numpy(d["embeddings"].astype(np.float32))
    rows, objects, places = [], [], []
    for spec, pair in zip(d["specs"], d["caption_pairs"]):
        spec = json.loads(spec)
        if "plain" in spec or len(spec["objects"]) != 1 or spec["objects"][0][0] not in noun_index:
            continue
        for c in pair:
            rows.append(c)
            objects.append(noun_index[spec["objects"][0][0]])
            places.append(scenes.index(spec["scene"]))
    x, objects, places = emb[torch.tensor(rows)], torch.tensor(objects), torch.tensor(places)
    te = TextEncoder(f"{a.models}/text_encoder.safetensors", f"{a.models}/tokenizer.json", f"{a.models}/text_encoder.json")
    prompts = learner_set(concepts) + held_out_sets(concepts, np.random.default_rng(3), 60)
    test = te.encode_many([p[2] for p in prompts])
    print(f"trained on {len(x)} captions of {len(nouns)} nouns; scored on {len(prompts)} prompts")
    print("| probe | prompts | lang | n | object top-1 | object top-5 | scene |\n|---|---|---|---|---|---|---|")
    k = len(nouns)
    for name, hidden in (("linear", None), ("MLP 512", 512)):
        out = k + len(scenes)
        net = torch.nn.Linear(384, out) if hidden is None else torch.nn.Sequential(
            torch.nn.Linear(384, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, out))
        opt = torch.optim.Adam(net.parameters(), 3e-3)
        for _ in range(a.steps):
            i = torch.randint(0, len(x), (512,))
            o = net(x[i] * 10)  # unit vectors: scaled so that the logits can grow quickly
            loss = F.cross_entropy(o[:, :k], objects[i]) + F.cross_entropy(o[:, k:], places[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            o = net(test * 10)
        for kind in ("held-out wordings", "held-out combinations", "learner prompts"):
            for lang in ("de", "en"):
                r = [i for i, p in enumerate(prompts) if p[0] == kind and p[1] == lang]
                top5 = o[r, :k].topk(5, 1).indices
                want = torch.tensor([noun_index[prompts[i][3]] for i in r])
                place = torch.tensor([scenes.index(prompts[i][4]) for i in r])
                pct = lambda t: f"{100 * t.float().mean():.1f} %"
                print(f"| {name} | {kind} | {lang} | {len(r)} | {pct(top5[:, 0] == want)} | "
                      f"{pct((top5 == want[:, None]).any(1))} | {pct(o[r, k:].argmax(1) == place)} |")


if __name__ == "__main__":
    main()
