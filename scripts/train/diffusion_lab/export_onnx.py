"""Exports the UNet denoiser with given safetensors weights to ONNX, for the browser benchmark
(www/bench.html runs the same model in onnxruntime-web next to our WGSL kernels).

    python -m diffusion_lab.export_onnx --config ../../www/models/denoiser.json \
        --weights ../../www/models/denoiser.safetensors --out ../../www/bench-build --batch 1 2

Writes one file per batch size, `{name}-b{N}.onnx` (fixed shapes: x [N,3,S,S], t [N] float
timesteps, text [N,text_dim] -> v [N,3,S,S]; f32 weights, upcast from the f16 file), checks each
with onnx.checker and against PyTorch on a random input (ONNX's reference evaluator, so no
runtime beyond the `onnx` package is needed), and prints the largest absolute difference.
Needs torch and onnx (scripts/bench.sh installs onnx into .cache/bench-venv).
"""
import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from .quantize import load_torch
from .unet import UNet, load_config


def load_unet(config, weights):
    model = UNet(load_config(config))
    model.load_state_dict(load_torch(weights))
    return model.eval()


def export(model, batch, path, opset):
    cfg = model.cfg
    s, c = cfg.image_size, cfg.in_channels
    example = (torch.zeros(batch, c, s, s), torch.zeros(batch), torch.zeros(batch, cfg.text_dim))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, example, str(path),
            input_names=["x", "t", "text"], output_names=["v"],
            opset_version=opset, dynamo=False, do_constant_folding=True,
        )


def check(model, batch, path, seed=0):
    import onnx
    from onnx.reference import ReferenceEvaluator

    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    cfg = model.cfg
    s, c = cfg.image_size, cfg.in_channels
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, c, s, s, generator=g)
    t = torch.rand(batch, generator=g) * (cfg.train_timesteps - 1)
    text = torch.randn(batch, cfg.text_dim, generator=g) * 0.1
    with torch.no_grad():
        want = model(x, t, text).numpy()
    got = ReferenceEvaluator(proto).run(None, {"x": x.numpy(), "t": t.numpy(), "text": text.numpy()})[0]
    return float(np.abs(got - want).max()), float(np.abs(want).max())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, help="denoiser.json")
    p.add_argument("--weights", required=True, help="safetensors weights (f16 or f32)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 2], help="batch sizes, one file each")
    p.add_argument("--name", default="unet", help="file name prefix: NAME-bN.onnx")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--tolerance", type=float, default=1e-4, help="max abs error vs PyTorch")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    model = load_unet(a.config, a.weights)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"weights": str(a.weights), "opset": a.opset, "files": {}}
    ok = True
    for n in a.batch:
        path = out / f"{a.name}-b{n}.onnx"
        export(model, n, path, a.opset)
        err, scale = check(model, n, path)
        ok &= err <= a.tolerance
        report["files"][path.name] = {"batch": n, "bytes": path.stat().st_size, "max_abs_err_vs_torch": err}
        print(f"[export_onnx] {path} batch {n}: {path.stat().st_size / 1e6:.1f} MB, onnx.checker ok, "
              f"max abs error vs PyTorch {err:.2e} (output max |v| {scale:.2f})")
    (out / f"{a.name}.export.json").write_text(json.dumps(report, indent=2) + "\n")
    if not ok:
        print(f"[export_onnx] error above tolerance {a.tolerance}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
