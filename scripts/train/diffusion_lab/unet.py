"""The text-conditioned UNet denoiser, PyTorch side.

Module names here *are* the weight names: the candle reference (src/model/unet.rs) and the
WGSL plan (src/gpu/plan.rs) read the same safetensors keys, and the parity tests bind them.
Config: www/models/denoiser.json.
"""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def load_config(path):
    with open(path) as f:
        return json.load(f)


def timestep_embedding(t, dim):
    """Sinusoidal embedding of (possibly fractional) timesteps: [cos | sin], as in src/model/unet.rs."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-Conv, FiLM from the condition (scale, shift), GroupNorm-SiLU-Conv, residual."""

    def __init__(self, cin, cout, cond_dim, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, cond):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.film(F.silu(cond)).chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        h = self.conv2(F.silu(h))
        return h + (self.skip(x) if self.skip is not None else x)


class SelfAttention(nn.Module):
    """Multi-head self-attention over the pixels of the lowest resolution, with a residual."""

    def __init__(self, channels, heads, groups):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        d = c // self.heads
        qkv = self.qkv(self.norm(x)).reshape(b, 3, self.heads, d, h * w)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]  # (b, heads, d, n)
        attn = torch.softmax(torch.einsum("bhdn,bhdm->bhnm", q, k) / math.sqrt(d), dim=-1)
        out = torch.einsum("bhnm,bhdm->bhdn", attn, v).reshape(b, c, h, w)
        return x + self.proj(out)


class Level(nn.Module):
    pass


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        ch, g, cd = cfg["channels"], cfg["groups"], cfg["cond_dim"]
        self.time_mlp = nn.Sequential(nn.Linear(cfg["time_freq_dim"], cd), nn.SiLU(), nn.Linear(cd, cd))
        self.text_proj = nn.Linear(cfg["text_dim"], cd)
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        cin = ch[0]
        for i, c in enumerate(ch):
            lvl = Level()
            lvl.res = ResBlock(cin, c, cd, g)
            if i < len(ch) - 1:
                lvl.downsample = nn.Conv2d(c, c, 3, stride=2, padding=1)
            self.down.append(lvl)
            cin = c
        self.mid = Level()
        self.mid.res1 = ResBlock(ch[-1], ch[-1], cd, g)
        self.mid.attn = SelfAttention(ch[-1], cfg["attn_heads"], g)
        self.mid.res2 = ResBlock(ch[-1], ch[-1], cd, g)
        self.up = nn.ModuleList()
        for i, c in enumerate(ch):
            lvl = Level()
            lvl.res = ResBlock(2 * c, c, cd, g)
            if i > 0:
                lvl.upsample = nn.Conv2d(c, ch[i - 1], 3, padding=1)
            self.up.append(lvl)
        self.out_norm = nn.GroupNorm(g, ch[0], eps=1e-5)
        self.out_conv = nn.Conv2d(ch[0], cfg["in_channels"], 3, padding=1)

    def condition(self, t, text):
        """The per-sample condition vector: time MLP + projected text embedding (zeros = unconditional)."""
        return self.time_mlp(timestep_embedding(t, self.cfg["time_freq_dim"])) + self.text_proj(text)

    def forward(self, x, t, text):
        cond = self.condition(t, text)
        h = self.conv_in(x)
        skips = []
        for i, lvl in enumerate(self.down):
            h = lvl.res(h, cond)
            skips.append(h)
            if hasattr(lvl, "downsample"):
                h = lvl.downsample(h)
        h = self.mid.res1(h, cond)
        h = self.mid.attn(h)
        h = self.mid.res2(h, cond)
        for i in reversed(range(len(self.up))):
            lvl = self.up[i]
            h = lvl.res(torch.cat([h, skips[i]], dim=1), cond)
            if hasattr(lvl, "upsample"):
                h = lvl.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.out_conv(F.silu(self.out_norm(h)))
