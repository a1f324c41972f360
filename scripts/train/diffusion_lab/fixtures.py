"""Fixtures that keep the candle reference equal to PyTorch (tests/reference_parity.rs).

- unet_torch.safetensors: a small seeded UNet (its config in unet_torch.json, its weights under
  the usual names), an input batch and PyTorch's output.
- unet_shipped.safetensors: the shipped teacher (MODELS_DIR/denoiser.safetensors, int8 rows
  dequantized by quantize.py) at the shipped config's shape: an input batch and PyTorch's output;
  candle reads the same weights file through src/weights.rs. Rewrite it when the weights change.
- text_torch.safetensors: the embeddings this package's encoder gives for a few prompts
  (listed in text_torch.json), from www/models/text_encoder.safetensors.
Usage: python -m diffusion_lab.fixtures MODELS_DIR OUT_DIR
"""
import json
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

from .quantize import load_torch
from .text_encoder import TextEncoder
from .unet import UNet, UNetConfig, load_config

FIXTURE_CONFIG = {
    "image_size": 16, "in_channels": 3, "channels": [16, 32], "groups": 4, "time_freq_dim": 16,
    "cond_dim": 32, "text_dim": 384, "attn_heads": 2, "prediction": "v", "train_timesteps": 1000,
}
PROMPTS = ["Hund", "a dog", "ein Hund", "roter Apfel", "🐶 كلب", "Straße und Äpfel"]


def main(models, out):
    models, out = Path(models), Path(out)
    torch.manual_seed(7)
    model = UNet(UNetConfig.from_dict(FIXTURE_CONFIG)).eval()
    with torch.no_grad():
        for p in model.parameters():  # GroupNorm starts at (1, 0): move it off to test the affine path
            p.add_(0.05 * torch.randn_like(p))
        x = torch.randn(2, 3, 16, 16)
        t = torch.tensor([999.0, 137.5])
        text = torch.randn(2, 384)
        text[1] = 0.0
        y = model(x, t, text)
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    tensors.update({"input.x": x, "input.t": t, "input.text": text, "output": y})
    save_file(tensors, out / "unet_torch.safetensors")
    (out / "unet_torch.json").write_text(json.dumps(FIXTURE_CONFIG, indent=2) + "\n")

    torch.manual_seed(11)
    shipped = UNet(load_config(models / "denoiser.json")).eval()
    shipped.load_state_dict(load_torch(str(models / "denoiser.safetensors")))
    with torch.no_grad():
        size = shipped.cfg.image_size
        x = torch.randn(2, 3, size, size)
        t = torch.tensor([749.0, 42.0])
        text = torch.nn.functional.normalize(torch.randn(2, 384), dim=1)
        text[1] = 0.0
        y = shipped(x, t, text)
    save_file({"input.x": x, "input.t": t, "input.text": text, "output": y}, out / "unet_shipped.safetensors")

    te = TextEncoder(str(models / "text_encoder.safetensors"), str(models / "tokenizer.json"), str(models / "text_encoder.json"))
    save_file({"embeddings": torch.stack([te.encode(p) for p in PROMPTS])}, out / "text_torch.safetensors")
    (out / "text_torch.json").write_text(json.dumps(PROMPTS, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
