"""The text-conditioned UNet denoiser, PyTorch side.

Module names here *are* the weight names: the candle reference (src/model/unet.rs) and the
WGSL plan (src/gpu/plan.rs) read the same safetensors keys, and the parity tests bind them.
Config: www/models/denoiser.json, read into UNetConfig (src/model/config.rs reads the same file).
"""
import dataclasses
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclasses.dataclass(frozen=True)
class UNetConfig:
    """The denoiser's shape and schedule: www/models/denoiser.json, field for field."""

    image_size: int
    in_channels: int
    channels: tuple
    groups: int
    time_freq_dim: int
    cond_dim: int
    text_dim: int
    attn_heads: int
    prediction: str
    train_timesteps: int

    @classmethod
    def from_dict(cls, d):
        names = {f.name for f in dataclasses.fields(cls)}
        if set(d) != names:
            raise ValueError(f"denoiser config: unknown {sorted(set(d) - names)}, missing {sorted(names - set(d))}")
        return cls(**{**d, "channels": tuple(d["channels"])})

    def to_dict(self):
        return {**dataclasses.asdict(self), "channels": list(self.channels)}

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def load_config(path):
    with open(path) as f:
        return UNetConfig.from_dict(json.load(f))


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


class DownLevel(nn.Module):
    """A resolution on the way down: a ResBlock, then (all but the last) a stride-2 convolution."""

    def __init__(self, cin, cout, cond_dim, groups, downsample):
        super().__init__()
        self.res = ResBlock(cin, cout, cond_dim, groups)
        self.downsample = nn.Conv2d(cout, cout, 3, stride=2, padding=1) if downsample else None


class MidBlock(nn.Module):
    """The lowest resolution: ResBlock, self-attention, ResBlock."""

    def __init__(self, channels, cond_dim, groups, heads):
        super().__init__()
        self.res1 = ResBlock(channels, channels, cond_dim, groups)
        self.attn = SelfAttention(channels, heads, groups)
        self.res2 = ResBlock(channels, channels, cond_dim, groups)


class UpLevel(nn.Module):
    """A resolution on the way up: a ResBlock on [h | skip], then (all but the first) a nearest 2x
    upsampling and a convolution to the next level's channels."""

    def __init__(self, channels, cout_up, cond_dim, groups):
        super().__init__()
        self.res = ResBlock(2 * channels, channels, cond_dim, groups)
        self.upsample = nn.Conv2d(channels, cout_up, 3, padding=1) if cout_up else None


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        ch, g, cd = cfg.channels, cfg.groups, cfg.cond_dim
        self.time_mlp = nn.Sequential(nn.Linear(cfg.time_freq_dim, cd), nn.SiLU(), nn.Linear(cd, cd))
        self.text_proj = nn.Linear(cfg.text_dim, cd)
        self.conv_in = nn.Conv2d(cfg.in_channels, ch[0], 3, padding=1)
        cins = [ch[0]] + list(ch[:-1])
        self.down = nn.ModuleList(DownLevel(cin, c, cd, g, i < len(ch) - 1) for i, (cin, c) in enumerate(zip(cins, ch)))
        self.mid = MidBlock(ch[-1], cd, g, cfg.attn_heads)
        self.up = nn.ModuleList(UpLevel(c, ch[i - 1] if i > 0 else 0, cd, g) for i, c in enumerate(ch))
        self.out_norm = nn.GroupNorm(g, ch[0], eps=1e-5)
        self.out_conv = nn.Conv2d(ch[0], cfg.in_channels, 3, padding=1)

    def condition(self, t, text):
        """The per-sample condition vector: time MLP + projected text embedding (zeros = unconditional)."""
        return self.time_mlp(timestep_embedding(t, self.cfg.time_freq_dim)) + self.text_proj(text)

    def forward(self, x, t, text):
        cond = self.condition(t, text)
        h = self.conv_in(x)
        skips = []
        for i, lvl in enumerate(self.down):
            h = lvl.res(h, cond)
            skips.append(h)
            if lvl.downsample is not None:
                h = lvl.downsample(h)
        h = self.mid.res1(h, cond)
        h = self.mid.attn(h)
        h = self.mid.res2(h, cond)
        for i in reversed(range(len(self.up))):
            lvl = self.up[i]
            h = lvl.res(torch.cat([h, skips[i]], dim=1), cond)
            if lvl.upsample is not None:
                h = lvl.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.out_conv(F.silu(self.out_norm(h)))
