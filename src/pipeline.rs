//! Prompt → image, step by step, on a backend: our WGSL kernels through wgpu, or the candle
//! reference on the CPU. Shared by the wasm API (src/web.rs), the CLI and the tests.

use std::collections::HashMap;

use candle_core::{Device, Tensor};
use serde::Deserialize;

use crate::gpu::{GpuContext, UNetPlan};
use crate::model::{UNet, UNetConfig};
use crate::sampler::{guide, Sampler, SamplerKind, Step, MAX_STEPS};
use crate::schedule::{Prediction, Schedule};
use crate::text::TextEncoder;
use crate::weights::{self, Manifest};
use crate::{Error, Result};

pub const MAX_GUIDANCE: f32 = 20.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    WebGpu,
    Cpu,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::WebGpu => "webgpu",
            Backend::Cpu => "cpu",
        }
    }
}

/// Options of one generation, as the page sends them (missing fields take the defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateOptions {
    pub steps: f64,
    pub seed: f64,
    pub guidance: f64,
    pub sampler: String,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self { steps: 8.0, seed: 0.0, guidance: 3.0, sampler: "dpm".into() }
    }
}

/// Options checked and converted: every way a number can be wrong gets its own message.
#[derive(Debug, Clone, Copy)]
pub struct ValidOptions {
    pub steps: usize,
    pub seed: u64,
    pub guidance: f32,
    pub sampler: SamplerKind,
}

impl GenerateOptions {
    pub fn validate(&self) -> Result<ValidOptions> {
        let int_in = |v: f64, lo: f64, hi: f64, what: &str| -> Result<f64> {
            if !v.is_finite() || v.fract() != 0.0 || v < lo || v > hi {
                return Err(Error::Input(format!("{what} must be a whole number from {lo} to {hi}, got {v}")));
            }
            Ok(v)
        };
        let steps = int_in(self.steps, 1.0, MAX_STEPS as f64, "steps")? as usize;
        // 2^53: the largest integer a JS number carries exactly
        let seed = int_in(self.seed, 0.0, 9_007_199_254_740_991.0, "seed")? as u64;
        if !self.guidance.is_finite() || self.guidance < 0.0 || self.guidance > MAX_GUIDANCE as f64 {
            return Err(Error::Input(format!("guidance must be between 0 and {MAX_GUIDANCE}, got {}", self.guidance)));
        }
        Ok(ValidOptions { steps, seed, guidance: self.guidance as f32, sampler: SamplerKind::parse(&self.sampler)? })
    }
}

enum Denoiser {
    Gpu { ctx: GpuContext, plan: UNetPlan },
    Cpu(UNet),
}

/// A loaded model: text encoder, denoiser on one backend, schedule.
pub struct Lab {
    pub cfg: UNetConfig,
    schedule: Schedule,
    prediction: Prediction,
    text: TextEncoder,
    denoiser: Denoiser,
    /// Why the GPU is not used, when it is not ("" otherwise).
    pub fallback_reason: String,
    pub adapter: String,
}

/// CFG runs the conditional and the unconditional pass as one batch of two.
const BATCH: usize = 2;

impl Lab {
    /// Builds the model from the files the manifest lists, each checked for size and sha256 first.
    /// With `try_gpu` it takes the GPU when an adapter exists and falls back to the CPU otherwise.
    pub async fn from_files(manifest: &Manifest, files: HashMap<String, Vec<u8>>, try_gpu: bool) -> Result<Self> {
        for entry in &manifest.files {
            let bytes = files.get(&entry.name).ok_or_else(|| Error::Weights(format!("{} was not downloaded", entry.name)))?;
            weights::verify(entry, bytes)?;
        }
        Self::from_verified(manifest, files, try_gpu).await
    }

    /// As [`Lab::from_files`], for files the caller has already verified against the manifest
    /// (the web loader does, file by file, to decide what to keep in the browser cache).
    /// Takes the files by value: the weights move into the model instead of being copied.
    pub async fn from_verified(manifest: &Manifest, mut files: HashMap<String, Vec<u8>>, try_gpu: bool) -> Result<Self> {
        let mut file = |name: &str| -> Result<Vec<u8>> {
            manifest.entry(name)?;
            files.remove(name).ok_or_else(|| Error::Weights(format!("{name} was not downloaded")))
        };
        let cfg_text = String::from_utf8(file(&manifest.denoiser.config)?)
            .map_err(|_| Error::Weights("denoiser.json is not UTF-8".into()))?;
        let cfg = UNetConfig::from_json(&cfg_text)?;
        let prediction = Prediction::parse(&cfg.prediction).expect("validated by UNetConfig");
        let te = &manifest.text_encoder;
        let tokenizer = te.tokenizer.as_deref().ok_or_else(|| Error::Weights("manifest lacks the tokenizer".into()))?;
        let text = TextEncoder::from_bytes(&file(&te.config)?, file(&te.weights)?, &file(tokenizer)?)?;
        if text.dim != cfg.text_dim {
            return Err(Error::Weights(format!("text encoder gives {} values, the denoiser expects {}", text.dim, cfg.text_dim)));
        }
        let denoiser_bytes = file(&manifest.denoiser.weights)?;
        let mut fallback_reason = String::new();
        let mut adapter = String::new();
        let denoiser = if try_gpu {
            match GpuContext::new().await {
                Ok(ctx) => {
                    let map = weights::read_safetensors(&manifest.denoiser.weights, &denoiser_bytes)?;
                    let plan = UNetPlan::new(&ctx, &cfg, &map, BATCH)?;
                    adapter = ctx.adapter_name.clone();
                    Denoiser::Gpu { ctx, plan }
                }
                Err(e) => {
                    fallback_reason = e.to_string();
                    Denoiser::Cpu(UNet::from_safetensors(&cfg, denoiser_bytes)?)
                }
            }
        } else {
            fallback_reason = "the CPU path was requested".into();
            Denoiser::Cpu(UNet::from_safetensors(&cfg, denoiser_bytes)?)
        };
        Ok(Self { schedule: Schedule::cosine(cfg.train_timesteps), cfg, prediction, text, denoiser, fallback_reason, adapter })
    }

    pub fn backend(&self) -> Backend {
        match self.denoiser {
            Denoiser::Gpu { .. } => Backend::WebGpu,
            Denoiser::Cpu(_) => Backend::Cpu,
        }
    }

    /// The raw model output for a batch (x: n images, t: n timesteps, text: n embeddings).
    pub async fn denoise_batch(&self, x: &[f32], t: &[f32], text: &[f32]) -> Result<Vec<f32>> {
        match &self.denoiser {
            Denoiser::Gpu { ctx, plan } => plan.forward(ctx, x, t, text).await,
            Denoiser::Cpu(unet) => {
                let (n, s) = (t.len(), self.cfg.image_size);
                let dev = Device::Cpu;
                let xt = Tensor::from_slice(x, (n, self.cfg.in_channels, s, s), &dev)?;
                let tt = Tensor::from_slice(t, (n,), &dev)?;
                let te = Tensor::from_slice(text, (n, self.cfg.text_dim), &dev)?;
                Ok(unet.forward(&xt, &tt, &te)?.flatten_all()?.to_vec1::<f32>()?)
            }
        }
    }

    /// The guided model output for one image at timestep t.
    async fn denoise_guided(&self, x: &[f32], t: usize, text: &[f32], guidance: f32) -> Result<Vec<f32>> {
        let xb = [x, x].concat();
        let tb = [t as f32; BATCH];
        let textb = [text.to_vec(), vec![0.0; text.len()]].concat();
        let out = self.denoise_batch(&xb, &tb, &textb).await?;
        let (cond, uncond) = out.split_at(x.len());
        Ok(guide(cond, uncond, guidance))
    }

    /// Runs the whole reverse process; `on_step` sees every step and may stop the run by
    /// returning an error. Returns the final image (C×S×S, values in [-1, 1]).
    pub async fn generate(
        &self,
        prompt: &str,
        opts: &GenerateOptions,
        mut on_step: impl FnMut(&Step) -> Result<()>,
    ) -> Result<Vec<f32>> {
        let o = opts.validate()?;
        let text = self.text.encode(prompt)?;
        let mut sampler = Sampler::new(o.sampler, self.schedule.clone(), self.prediction, o.steps, o.seed, self.cfg.image_len())?;
        while !sampler.is_done() {
            let (x, t) = sampler.current();
            let out = self.denoise_guided(x, t, &text, o.guidance).await?;
            let step = sampler.advance(&out)?;
            on_step(&step)?;
        }
        Ok(sampler.sample().to_vec())
    }
}

/// CHW floats → RGBA bytes: `lo` maps to 0 and `hi` to 255 (images: -1..1; noise: -2..2).
pub fn to_rgba(chw: &[f32], channels: usize, size: usize, lo: f32, hi: f32) -> Vec<u8> {
    let plane = size * size;
    let mut out = vec![255u8; plane * 4];
    for p in 0..plane {
        for c in 0..3 {
            let v = chw[(c % channels) * plane + p];
            out[p * 4 + c] = (((v - lo) / (hi - lo)) * 255.0).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

/// Reads www/models (or any folder with a manifest.json) from disk: native CLI and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_model_dir(dir: &std::path::Path) -> Result<(Manifest, HashMap<String, Vec<u8>>)> {
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| Error::Weights(format!("cannot read {}: {e}", manifest_path.display())))?;
    let manifest = Manifest::from_json(&text)?;
    let mut files = HashMap::new();
    for name in manifest.all_names() {
        let path = dir.join(&name);
        let bytes = std::fs::read(&path).map_err(|e| Error::Weights(format!("cannot read {}: {e}", path.display())))?;
        files.insert(name, bytes);
    }
    Ok((manifest, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_validated_with_messages() {
        let ok = GenerateOptions::default().validate().unwrap();
        assert_eq!((ok.steps, ok.seed), (8, 0));
        let bad = |o: GenerateOptions, needle: &str| {
            let e = o.validate().unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        };
        bad(GenerateOptions { steps: 0.0, ..Default::default() }, "steps must be a whole number from 1 to 100");
        bad(GenerateOptions { steps: 10_000.0, ..Default::default() }, "steps");
        bad(GenerateOptions { steps: 2.5, ..Default::default() }, "steps");
        bad(GenerateOptions { seed: -1.0, ..Default::default() }, "seed");
        bad(GenerateOptions { seed: f64::NAN, ..Default::default() }, "seed");
        bad(GenerateOptions { guidance: 1e9, ..Default::default() }, "guidance");
        bad(GenerateOptions { sampler: "euler".into(), ..Default::default() }, "unknown sampler");
    }

    #[test]
    fn rgba_maps_range_and_fills_alpha() {
        // one pixel, three channels; out-of-range values clamp
        assert_eq!(to_rgba(&[-1.0, 0.0, 1.0], 3, 1, -1.0, 1.0), vec![0, 128, 255, 255]);
        assert_eq!(to_rgba(&[-5.0, 9.0, 0.5], 3, 1, -1.0, 1.0), vec![0, 255, 191, 255]);
    }
}
