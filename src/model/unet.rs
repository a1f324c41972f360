//! The candle reference of the denoiser (CPU). Mirrors scripts/train/diffusion_lab/unet.py module
//! by module; the weight names are the PyTorch module names. The WGSL plan (src/gpu/plan.rs) is
//! tested against this, and this against a fixture saved by PyTorch.

use candle_core::{DType, Module, Tensor, D};
use candle_nn::{group_norm, linear, GroupNorm, Linear, VarBuilder};

use super::conv::Conv;

use super::UNetConfig;
use crate::Result;

const GN_EPS: f64 = 1e-5;

/// Sinusoidal embedding of (possibly fractional) timesteps: [cos | sin], shape (n, dim).
pub fn timestep_embedding(t: &Tensor, dim: usize) -> Result<Tensor> {
    let half = dim / 2;
    let freqs: Vec<f32> = (0..half).map(|i| (-(10000f64.ln()) * i as f64 / half as f64).exp() as f32).collect();
    let freqs = Tensor::from_vec(freqs, (1, half), t.device())?;
    let args = t.to_dtype(DType::F32)?.unsqueeze(1)?.broadcast_mul(&freqs)?;
    Ok(Tensor::cat(&[args.cos()?, args.sin()?], 1)?)
}

fn conv3(cin: usize, cout: usize, stride: usize, vb: VarBuilder) -> Result<Conv> {
    Conv::load(cin, cout, 3, stride, 1, vb)
}

fn conv1(cin: usize, cout: usize, vb: VarBuilder) -> Result<Conv> {
    Conv::load(cin, cout, 1, 1, 0, vb)
}

pub struct ResBlock {
    norm1: GroupNorm,
    conv1: Conv,
    film: Linear,
    norm2: GroupNorm,
    conv2: Conv,
    skip: Option<Conv>,
}

impl ResBlock {
    pub fn load(cin: usize, cout: usize, cfg: &UNetConfig, vb: VarBuilder) -> Result<Self> {
        let skip = if cin != cout { Some(conv1(cin, cout, vb.pp("skip"))?) } else { None };
        Ok(Self {
            norm1: group_norm(cfg.groups, cin, GN_EPS, vb.pp("norm1"))?,
            conv1: conv3(cin, cout, 1, vb.pp("conv1"))?,
            film: linear(cfg.cond_dim, 2 * cout, vb.pp("film"))?,
            norm2: group_norm(cfg.groups, cout, GN_EPS, vb.pp("norm2"))?,
            conv2: conv3(cout, cout, 1, vb.pp("conv2"))?,
            skip,
        })
    }

    pub fn forward(&self, x: &Tensor, cond: &Tensor) -> Result<Tensor> {
        let h = self.conv1.forward(&self.norm1.forward(x)?.silu()?)?;
        let film = self.film.forward(&cond.silu()?)?;
        let c = h.dim(1)?;
        let scale = film.narrow(1, 0, c)?.unsqueeze(2)?.unsqueeze(3)?;
        let shift = film.narrow(1, c, c)?.unsqueeze(2)?.unsqueeze(3)?;
        let h = self.norm2.forward(&h)?;
        let h = h.broadcast_mul(&(scale + 1.0)?)?.broadcast_add(&shift)?;
        let h = self.conv2.forward(&h.silu()?)?;
        let skip = match &self.skip {
            Some(s) => s.forward(x)?,
            None => x.clone(),
        };
        Ok((h + skip)?)
    }
}

pub struct SelfAttention {
    heads: usize,
    norm: GroupNorm,
    qkv: Conv,
    proj: Conv,
}

impl SelfAttention {
    pub fn load(channels: usize, cfg: &UNetConfig, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            heads: cfg.attn_heads,
            norm: group_norm(cfg.groups, channels, GN_EPS, vb.pp("norm"))?,
            qkv: conv1(channels, 3 * channels, vb.pp("qkv"))?,
            proj: conv1(channels, channels, vb.pp("proj"))?,
        })
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let d = c / self.heads;
        let qkv = self.qkv.forward(&self.norm.forward(x)?)?.reshape((b, 3, self.heads, d, h * w))?;
        // (b, heads, n, d) for q and v, (b, heads, d, n) for k
        let q = qkv.narrow(1, 0, 1)?.squeeze(1)?.transpose(2, 3)?.contiguous()?;
        let k = qkv.narrow(1, 1, 1)?.squeeze(1)?.contiguous()?;
        let v = qkv.narrow(1, 2, 1)?.squeeze(1)?.transpose(2, 3)?.contiguous()?;
        let scores = (q.matmul(&k)? / (d as f64).sqrt())?;
        let attn = candle_nn::ops::softmax(&scores, D::Minus1)?;
        let out = attn.matmul(&v)?; // (b, heads, n, d)
        let out = out.transpose(2, 3)?.reshape((b, c, h, w))?;
        Ok((x + self.proj.forward(&out)?)?)
    }
}

struct DownLevel {
    res: ResBlock,
    downsample: Option<Conv>,
}

struct UpLevel {
    res: ResBlock,
    upsample: Option<Conv>,
}

pub struct UNet {
    pub cfg: UNetConfig,
    time_mlp0: Linear,
    time_mlp2: Linear,
    text_proj: Linear,
    conv_in: Conv,
    down: Vec<DownLevel>,
    mid_res1: ResBlock,
    mid_attn: SelfAttention,
    mid_res2: ResBlock,
    up: Vec<UpLevel>,
    out_norm: GroupNorm,
    out_conv: Conv,
}

impl UNet {
    pub fn load(cfg: &UNetConfig, vb: VarBuilder) -> Result<Self> {
        cfg.validate()?;
        let ch = &cfg.channels;
        let levels = ch.len();
        let mut down = Vec::with_capacity(levels);
        let mut cin = ch[0];
        for (i, &c) in ch.iter().enumerate() {
            let vbl = vb.pp(format!("down.{i}"));
            down.push(DownLevel {
                res: ResBlock::load(cin, c, cfg, vbl.pp("res"))?,
                downsample: if i + 1 < levels { Some(conv3(c, c, 2, vbl.pp("downsample"))?) } else { None },
            });
            cin = c;
        }
        let mut up = Vec::with_capacity(levels);
        for (i, &c) in ch.iter().enumerate() {
            let vbl = vb.pp(format!("up.{i}"));
            up.push(UpLevel {
                res: ResBlock::load(2 * c, c, cfg, vbl.pp("res"))?,
                upsample: if i > 0 { Some(conv3(c, ch[i - 1], 1, vbl.pp("upsample"))?) } else { None },
            });
        }
        let top = ch[levels - 1];
        Ok(Self {
            cfg: cfg.clone(),
            time_mlp0: linear(cfg.time_freq_dim, cfg.cond_dim, vb.pp("time_mlp.0"))?,
            time_mlp2: linear(cfg.cond_dim, cfg.cond_dim, vb.pp("time_mlp.2"))?,
            text_proj: linear(cfg.text_dim, cfg.cond_dim, vb.pp("text_proj"))?,
            conv_in: conv3(cfg.in_channels, ch[0], 1, vb.pp("conv_in"))?,
            down,
            mid_res1: ResBlock::load(top, top, cfg, vb.pp("mid.res1"))?,
            mid_attn: SelfAttention::load(top, cfg, vb.pp("mid.attn"))?,
            mid_res2: ResBlock::load(top, top, cfg, vb.pp("mid.res2"))?,
            up,
            out_norm: group_norm(cfg.groups, ch[0], GN_EPS, vb.pp("out_norm"))?,
            out_conv: conv3(ch[0], cfg.in_channels, 1, vb.pp("out_conv"))?,
        })
    }

    /// Loads f16/f32 safetensors bytes as f32 on the CPU.
    pub fn from_safetensors(cfg: &UNetConfig, bytes: Vec<u8>) -> Result<Self> {
        let vb = crate::weights::var_builder("denoiser weights", &bytes)?;
        Self::load(cfg, vb)
    }

    /// The condition vector: time MLP + projected text embedding (zeros = unconditional).
    pub fn condition(&self, t: &Tensor, text: &Tensor) -> Result<Tensor> {
        let temb = timestep_embedding(t, self.cfg.time_freq_dim)?;
        let temb = self.time_mlp2.forward(&self.time_mlp0.forward(&temb)?.silu()?)?;
        Ok((temb + self.text_proj.forward(text)?)?)
    }

    /// x: (n, c, s, s), t: (n,) f32 timesteps, text: (n, text_dim) → model output (n, c, s, s).
    pub fn forward(&self, x: &Tensor, t: &Tensor, text: &Tensor) -> Result<Tensor> {
        let cond = self.condition(t, text)?;
        let mut h = self.conv_in.forward(x)?;
        let mut skips = Vec::with_capacity(self.down.len());
        for lvl in &self.down {
            h = lvl.res.forward(&h, &cond)?;
            skips.push(h.clone());
            if let Some(ds) = &lvl.downsample {
                h = ds.forward(&h)?;
            }
        }
        h = self.mid_res1.forward(&h, &cond)?;
        h = self.mid_attn.forward(&h)?;
        h = self.mid_res2.forward(&h, &cond)?;
        for (lvl, skip) in self.up.iter().zip(skips.iter()).rev() {
            h = lvl.res.forward(&Tensor::cat(&[&h, skip], 1)?, &cond)?;
            if let Some(us) = &lvl.upsample {
                h = us.forward(&h.upsample_nearest2d(h.dim(2)? * 2, h.dim(3)? * 2)?)?;
            }
        }
        self.out_conv.forward(&self.out_norm.forward(&h)?.silu()?)
    }
}
