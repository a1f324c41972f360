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

/// Which denoiser runs: the distilled student (few steps, guidance baked in) or the teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    Student,
    Teacher,
}

impl ModelKind {
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Student => "student",
            ModelKind::Teacher => "teacher",
        }
    }

    /// How each model is sampled by default, and its limits.
    pub fn defaults(self) -> ModelDefaults {
        match self {
            // trained for the 1–4 step trailing DDIM schedules (scripts/train/diffusion_lab/distill.py)
            ModelKind::Student => {
                ModelDefaults { steps: 4, max_steps: STUDENT_MAX_STEPS, passes_per_step: 1, guidance: None, sampler: SamplerKind::Ddim }
            }
            ModelKind::Teacher => {
                ModelDefaults { steps: 8, max_steps: MAX_STEPS, passes_per_step: 2, guidance: Some(3.0), sampler: SamplerKind::DpmSolver2M }
            }
        }
    }
}

pub const STUDENT_MAX_STEPS: usize = 4;

#[derive(Debug, Clone, Copy)]
pub struct ModelDefaults {
    pub steps: usize,
    pub max_steps: usize,
    /// Denoiser passes per step: 2 for classifier-free guidance, 1 when it is baked in.
    pub passes_per_step: usize,
    /// None: guidance is baked into the weights.
    pub guidance: Option<f32>,
    pub sampler: SamplerKind,
}

/// Options of one generation, as the page sends them; what is missing takes the model's default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateOptions {
    /// "student" | "teacher" (default: the student where the model files have one)
    pub model: Option<String>,
    pub steps: Option<f64>,
    pub seed: f64,
    /// Teacher only; the student ignores it (its guidance is baked in).
    pub guidance: Option<f64>,
    /// Teacher only ("ddim" | "dpm"); the student always takes DDIM steps.
    pub sampler: Option<String>,
    /// A second prompt, and how far (0..1) the condition moves from the prompt's embedding
    /// towards its one ("Hund" … "Katze"): the denoiser was trained on blends of captions.
    #[serde(rename = "blendPrompt")]
    pub blend_prompt: Option<String>,
    pub blend: Option<f64>,
}

/// The field names serde reads for `T` (what its `deserialize_struct` is told, renames applied):
/// serde-wasm-bindgen reads only these keys of a JS object and never reports the others, so the
/// wasm API checks option keys against this list.
pub fn field_names<T: for<'de> Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{self, Visitor};
    struct Probe(Option<&'static [&'static str]>);
    impl<'de> de::Deserializer<'de> for &mut Probe {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> std::result::Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Self::Error> {
            self.0 = Some(fields);
            Err(de::Error::custom("probed"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut probe = Probe(None);
    let _ = T::deserialize(&mut probe);
    probe.0.unwrap_or(&[])
}

/// Options checked and converted: every way a number can be wrong gets its own message.
#[derive(Debug, Clone, Copy)]
pub struct ValidOptions {
    pub model: ModelKind,
    pub steps: usize,
    pub seed: u64,
    /// None: no classifier-free guidance pass (the student).
    pub guidance: Option<f32>,
    pub sampler: SamplerKind,
}

fn whole_number(v: f64, lo: f64, hi: f64, what: &str) -> Result<f64> {
    if !v.is_finite() || v.fract() != 0.0 || v < lo || v > hi {
        return Err(Error::Input(format!("{what} must be a whole number from {lo} to {hi}, got {v}")));
    }
    Ok(v)
}

/// 2^53 - 1: the largest integer a JS number carries exactly.
pub const MAX_SEED: f64 = 9_007_199_254_740_991.0;

impl GenerateOptions {
    /// `has_student`: whether the loaded model files include the distilled student.
    pub fn validate(&self, has_student: bool) -> Result<ValidOptions> {
        let model = match self.model.as_deref() {
            None => {
                if has_student {
                    ModelKind::Student
                } else {
                    ModelKind::Teacher
                }
            }
            Some("student") if has_student => ModelKind::Student,
            Some("student") => return Err(Error::Input("these model files have no distilled student; use \"teacher\"".into())),
            Some("teacher") => ModelKind::Teacher,
            Some(other) => return Err(Error::Input(format!("unknown model \"{other}\" (use \"student\" or \"teacher\")"))),
        };
        let d = model.defaults();
        let what = format!("steps for the {}", model.name());
        let steps = whole_number(self.steps.unwrap_or(d.steps as f64), 1.0, d.max_steps as f64, &what)? as usize;
        let seed = whole_number(self.seed, 0.0, MAX_SEED, "seed")? as u64;
        if let Some(g) = self.guidance {
            if !g.is_finite() || !(0.0..=MAX_GUIDANCE as f64).contains(&g) {
                return Err(Error::Input(format!("guidance must be between 0 and {MAX_GUIDANCE}, got {g}")));
            }
        }
        let sampler = match &self.sampler {
            Some(s) => SamplerKind::parse(s)?,
            None => d.sampler,
        };
        Ok(match model {
            ModelKind::Student => ValidOptions { model, steps, seed, guidance: None, sampler: SamplerKind::Ddim },
            ModelKind::Teacher => {
                ValidOptions { model, steps, seed, guidance: Some(self.guidance.map_or(d.guidance.unwrap_or(1.0), |g| g as f32)), sampler }
            }
        })
    }
}

/// One denoiser on one backend. The GPU plan's batch is fixed: 2 for the teacher (CFG runs the
/// conditional and the unconditional pass as one batch), 1 for the student.
// A Lab holds two, made once at load: the variants' sizes (1 KB vs 0.4 KB) do not matter.
#[allow(clippy::large_enum_variant)]
/// The teacher and the (optional) student on the backend that runs them: GPU plans come with
/// their device, so no plan can exist without one.
enum Denoisers {
    Gpu { ctx: GpuContext, teacher: UNetPlan, student: Option<UNetPlan> },
    Cpu { teacher: UNet, student: Option<UNet> },
}

/// The forward process at one noise level, and what the model makes of it.
pub struct ForwardView {
    pub t: usize,
    pub alpha_bar: f64,
    pub x_t: Vec<f32>,
    /// The noise that was added.
    pub noise: Vec<f32>,
    /// The teacher's estimate of that noise.
    pub eps_hat: Vec<f32>,
    /// The clean image the estimate implies.
    pub x0_hat: Vec<f32>,
    /// Mean squared difference between the noise and its estimate.
    pub noise_error: f64,
}

/// Which backend a load may take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendChoice {
    /// WebGPU on a real GPU; the CPU path when there is none or the adapter is emulated in
    /// software (SwiftShader, lavapipe, WARP): measured there, the CPU path is several times faster.
    #[default]
    Auto,
    /// WebGPU whenever an adapter exists, a software one too (the CPU path only without any).
    #[serde(rename = "webgpu")]
    WebGpu,
    /// The CPU path.
    Cpu,
}

/// A loaded model: text encoder, teacher and (optional) student denoisers on one backend, schedule.
pub struct Lab {
    pub cfg: UNetConfig,
    schedule: Schedule,
    prediction: Prediction,
    text: TextEncoder,
    denoisers: Denoisers,
    /// Why the GPU is not used, when it is not ("" otherwise).
    pub fallback_reason: String,
    pub adapter: String,
    /// Whether `BackendChoice::Auto` passed over a software adapter for the CPU path.
    pub skipped_software_adapter: bool,
}

impl Lab {
    /// The noise schedule the model was trained with (ᾱ_t, the sampler's timesteps).
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Builds the model from the files the manifest lists, each checked for size and sha256 first,
    /// on the backend `choice` allows (the CPU path when it finds no adapter).
    pub async fn from_files(manifest: &Manifest, files: HashMap<String, Vec<u8>>, choice: BackendChoice) -> Result<Self> {
        for entry in &manifest.files {
            let bytes = files.get(&entry.name).ok_or_else(|| Error::Weights(format!("{} was not downloaded", entry.name)))?;
            weights::verify(entry, bytes)?;
        }
        Self::from_verified(manifest, files, choice).await
    }

    /// As [`Lab::from_files`], for files the caller has already verified against the manifest
    /// (the web loader does, file by file, to decide what to keep in the browser cache).
    /// Takes the files by value: the weights move into the model instead of being copied.
    pub async fn from_verified(manifest: &Manifest, mut files: HashMap<String, Vec<u8>>, choice: BackendChoice) -> Result<Self> {
        let mut file = |name: &str| -> Result<Vec<u8>> {
            manifest.entry(name)?;
            files.remove(name).ok_or_else(|| Error::Weights(format!("{name} was not downloaded")))
        };
        let cfg_text =
            String::from_utf8(file(&manifest.denoiser.config)?).map_err(|_| Error::Weights("denoiser.json is not UTF-8".into()))?;
        let cfg = UNetConfig::from_json(&cfg_text)?;
        let prediction = Prediction::parse(&cfg.prediction).expect("validated by UNetConfig");
        let te = &manifest.text_encoder;
        let tokenizer = te.tokenizer.as_deref().ok_or_else(|| Error::Weights("manifest lacks the tokenizer".into()))?;
        let text = TextEncoder::from_bytes(&file(&te.config)?, file(&te.weights)?, &file(tokenizer)?)?;
        if text.dim != cfg.text_dim {
            return Err(Error::Weights(format!("text encoder gives {} values, the denoiser expects {}", text.dim, cfg.text_dim)));
        }
        let teacher_bytes = file(&manifest.denoiser.weights)?;
        let student_bytes = match &manifest.student {
            Some(s) if s.config != manifest.denoiser.config => {
                return Err(Error::Weights(format!("the student must share the teacher's config {}", manifest.denoiser.config)))
            }
            Some(s) => Some((s.weights.clone(), file(&s.weights)?)),
            None => None,
        };
        let mut fallback_reason = String::new();
        let mut adapter = String::new();
        let mut skipped_software_adapter = false;
        let mut gpu = None;
        if choice == BackendChoice::Cpu {
            fallback_reason = "the CPU path was requested".into();
        } else {
            match GpuContext::new().await {
                Ok(ctx) if choice == BackendChoice::Auto && ctx.is_software() => {
                    // in the browser the adapter has no name to show
                    let name = if ctx.adapter_name.is_empty() { String::new() } else { format!(" ({})", ctx.adapter_name) };
                    fallback_reason =
                        format!("the WebGPU adapter{name} is emulated in software on the processor, where the CPU path is faster");
                    skipped_software_adapter = true;
                }
                Ok(ctx) => gpu = Some(ctx),
                Err(e) => fallback_reason = e.to_string(),
            }
        }
        let teacher_name = manifest.denoiser.weights.as_str();
        let denoisers = match gpu {
            Some(ctx) => {
                // the teacher runs guided: its conditional and unconditional pass as one batch of two
                let plan = |name: &str, bytes: &[u8], batch| UNetPlan::new(&ctx, &cfg, &weights::read_safetensors(name, bytes)?, batch);
                let teacher = plan(teacher_name, &teacher_bytes, 2)?;
                let student = student_bytes.map(|(name, bytes)| plan(&name, &bytes, 1)).transpose()?;
                adapter = ctx.adapter_name.clone();
                Denoisers::Gpu { ctx, teacher, student }
            }
            None => Denoisers::Cpu {
                teacher: UNet::from_safetensors(&cfg, teacher_bytes)?,
                student: student_bytes.map(|(_, bytes)| UNet::from_safetensors(&cfg, bytes)).transpose()?,
            },
        };
        Ok(Self {
            schedule: Schedule::cosine(cfg.train_timesteps),
            cfg,
            prediction,
            text,
            denoisers,
            fallback_reason,
            adapter,
            skipped_software_adapter,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.denoisers {
            Denoisers::Gpu { .. } => Backend::WebGpu,
            Denoisers::Cpu { .. } => Backend::Cpu,
        }
    }

    fn gpu(&self) -> Option<&GpuContext> {
        match &self.denoisers {
            Denoisers::Gpu { ctx, .. } => Some(ctx),
            Denoisers::Cpu { .. } => None,
        }
    }

    /// Whether the GPU is emulated in software on the processor: lavapipe natively, the browser's
    /// fallback adapter (SwiftShader in Chromium). The page says so instead of "graphics card".
    pub fn software_adapter(&self) -> bool {
        self.gpu().is_some_and(GpuContext::is_software)
    }

    pub fn has_student(&self) -> bool {
        match &self.denoisers {
            Denoisers::Gpu { student, .. } => student.is_some(),
            Denoisers::Cpu { student, .. } => student.is_some(),
        }
    }

    /// The prompt's text embedding (what conditions the denoiser).
    pub fn encode_text(&self, prompt: &str) -> Result<Vec<f32>> {
        self.text.encode(prompt)
    }

    /// Bytes of every GPU buffer both plans hold (weights, activations, uniforms, read-back);
    /// 0 on the CPU. The plans allocate everything up front, so this is also the peak.
    pub fn gpu_buffer_bytes(&self) -> u64 {
        match &self.denoisers {
            Denoisers::Gpu { teacher, student, .. } => teacher.buffer_bytes() + student.as_ref().map_or(0, UNetPlan::buffer_bytes),
            Denoisers::Cpu { .. } => 0,
        }
    }

    pub fn model_kind(&self, name: &str) -> Result<ModelKind> {
        Ok(GenerateOptions { model: Some(name.into()), ..Default::default() }.validate(self.has_student())?.model)
    }

    fn no_student() -> Error {
        Error::Input("these model files have no distilled student".into())
    }

    /// Test hook: loses the GPU device (destroys it, as a driver reset or a crashed GPU process
    /// would lose it) and returns once the loss is recorded: every later GPU call then fails at
    /// once with `Error::Gpu`. False on the CPU, where there is no device to lose.
    pub async fn lose_gpu_device_for_test(&self) -> bool {
        match self.gpu() {
            Some(ctx) => {
                ctx.lose_device_for_test().await;
                true
            }
            None => false,
        }
    }

    /// The raw output of one model for a batch (x: n images, t: n timesteps, text: n embeddings;
    /// n = 2 for the teacher and 1 for the student on the GPU, any n on the CPU).
    pub async fn denoise_batch(&self, model: ModelKind, x: &[f32], t: &[f32], text: &[f32]) -> Result<Vec<f32>> {
        match &self.denoisers {
            Denoisers::Gpu { ctx, teacher, student } => {
                let plan = match model {
                    ModelKind::Teacher => teacher,
                    ModelKind::Student => student.as_ref().ok_or_else(Self::no_student)?,
                };
                plan.forward(ctx, x, t, text).await
            }
            Denoisers::Cpu { teacher, student } => {
                let unet = match model {
                    ModelKind::Teacher => teacher,
                    ModelKind::Student => student.as_ref().ok_or_else(Self::no_student)?,
                };
                let (n, s) = (t.len(), self.cfg.image_size);
                let dev = Device::Cpu;
                let xt = Tensor::from_slice(x, (n, self.cfg.in_channels, s, s), &dev)?;
                let tt = Tensor::from_slice(t, (n,), &dev)?;
                let te = Tensor::from_slice(text, (n, self.cfg.text_dim), &dev)?;
                Ok(unet.forward(&xt, &tt, &te)?.flatten_all()?.to_vec1::<f32>()?)
            }
        }
    }

    /// The model output for one image at timestep t: the student in one pass, the teacher with
    /// classifier-free guidance (conditional and unconditional pass as one batch of two).
    async fn denoise(&self, o: &ValidOptions, x: &[f32], t: usize, text: &[f32]) -> Result<Vec<f32>> {
        match o.guidance {
            None => self.denoise_batch(o.model, x, &[t as f32], text).await,
            Some(g) => {
                let out =
                    self.denoise_batch(o.model, &[x, x].concat(), &[t as f32; 2], &[text.to_vec(), vec![0.0; text.len()]].concat()).await?;
                let (cond, uncond) = out.split_at(x.len());
                Ok(guide(cond, uncond, g))
            }
        }
    }

    /// Runs the whole reverse process; `on_step` sees every step and may stop the run by
    /// returning an error. Returns the final image (C×S×S, values in [-1, 1]).
    pub async fn generate(&self, prompt: &str, opts: &GenerateOptions, on_step: impl FnMut(&Step) -> Result<()>) -> Result<Vec<f32>> {
        let o = opts.validate(self.has_student())?;
        self.generate_from(&self.condition(prompt, opts)?, &o, on_step).await
    }

    /// The condition for `prompt`, moved `blend` of the way to `blend_prompt`'s embedding and
    /// renormalised, as training blends two captions.
    pub fn condition(&self, prompt: &str, opts: &GenerateOptions) -> Result<Vec<f32>> {
        let text = self.text.encode(prompt)?;
        let (other, w) = match (&opts.blend_prompt, opts.blend) {
            (None, None) => return Ok(text),
            (Some(other), Some(w)) if w.is_finite() && (0.0..=1.0).contains(&w) => (other, w as f32),
            (Some(_), Some(w)) => return Err(Error::Input(format!("blend must be a number from 0 to 1, got {w}"))),
            (None, Some(_)) => return Err(Error::Input("blend needs blendPrompt, the prompt to blend towards".into())),
            (Some(_), None) => return Err(Error::Input("blendPrompt needs blend, how far to go towards it (0 to 1)".into())),
        };
        let second = self.text.encode(other)?;
        let mixed: Vec<f32> = text.iter().zip(&second).map(|(a, b)| (1.0 - w) * a + w * b).collect();
        let norm = mixed.iter().map(|v| v * v).sum::<f32>().sqrt();
        // opposite embeddings halfway would cancel: then the unconditional model draws
        Ok(if norm > 1e-6 { mixed.iter().map(|v| v / norm).collect() } else { mixed })
    }

    /// Generates from a condition already made ([`Lab::condition`]).
    pub async fn generate_from(&self, text: &[f32], o: &ValidOptions, mut on_step: impl FnMut(&Step) -> Result<()>) -> Result<Vec<f32>> {
        let text = text.to_vec();
        let mut sampler = Sampler::new(o.sampler, self.schedule.clone(), self.prediction, o.steps, o.seed, self.cfg.image_len())?;
        while !sampler.is_done() {
            let (x, t) = sampler.current();
            let out = self.denoise(o, x, t, &text).await?;
            let step = sampler.advance(&out)?;
            on_step(&step)?;
            crate::event_loop::yield_now().await;
        }
        Ok(sampler.sample().to_vec())
    }

    /// The forward process q(x_t | x_0) at timestep `t` with the seed's noise, and the teacher's
    /// (conditional) estimate of that noise: what "the model learns how much noise was added"
    /// looks like. `x0`: C×S×S in [-1, 1]. An empty prompt gives the unconditional estimate.
    pub async fn forward_process(&self, x0: &[f32], prompt: &str, t: f64, seed: f64) -> Result<ForwardView> {
        if x0.len() != self.cfg.image_len() {
            return Err(Error::Input(format!("the image has {} values, expected {}", x0.len(), self.cfg.image_len())));
        }
        let t = whole_number(t, 0.0, (self.cfg.train_timesteps - 1) as f64, "t")? as usize;
        let seed = whole_number(seed, 0.0, MAX_SEED, "seed")? as u64;
        let text = if prompt.trim().is_empty() { vec![0.0; self.cfg.text_dim] } else { self.text.encode(prompt)? };
        let noise = crate::rng::Rng::new(seed).normal_vec(x0.len());
        let x_t = self.schedule.q_sample(x0, &noise, t);
        // the teacher's GPU plan runs batches of two (the same input twice); the CPU runs one
        let copies = if self.gpu().is_some() { 2 } else { 1 };
        let out = self.denoise_batch(ModelKind::Teacher, &x_t.repeat(copies), &vec![t as f32; copies], &text.repeat(copies)).await?;
        let (eps_hat, x0_hat) = self.schedule.eps_and_x0(self.prediction, &x_t, &out[..x_t.len()], t);
        let noise_error = noise.iter().zip(&eps_hat).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>() / noise.len() as f64;
        Ok(ForwardView { t, alpha_bar: self.schedule.alpha_bar(t), x_t, noise, eps_hat, x0_hat, noise_error })
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

/// RGBA bytes → CHW floats in [-1, 1] (alpha ignored): images the page hands in.
pub fn from_rgba(rgba: &[u8], channels: usize, size: usize) -> Vec<f32> {
    let plane = size * size;
    let mut out = vec![0.0; channels * plane];
    for p in 0..plane {
        for c in 0..channels {
            out[c * plane + p] = rgba[p * 4 + c.min(2)] as f32 / 127.5 - 1.0;
        }
    }
    out
}

/// Reads www/models (or any folder with a manifest.json) from disk: native CLI and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_model_dir(dir: &std::path::Path) -> Result<(Manifest, HashMap<String, Vec<u8>>)> {
    let manifest = read_manifest(dir)?;
    let mut files = HashMap::new();
    for name in manifest.all_names() {
        let bytes = read_model_file(dir, &name)?;
        files.insert(name, bytes);
    }
    Ok((manifest, files))
}

/// The manifest.json of a model folder on disk.
#[cfg(not(target_arch = "wasm32"))]
pub fn read_manifest(dir: &std::path::Path) -> Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Weights(format!("cannot read {}: {e}", path.display())))?;
    Manifest::from_json(&text)
}

/// One file of a model folder on disk, unchecked (the caller verifies it against the manifest).
#[cfg(not(target_arch = "wasm32"))]
pub fn read_model_file(dir: &std::path::Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    std::fs::read(&path).map_err(|e| Error::Weights(format!("cannot read {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// www/lab/limits.js is what the page checks before it asks; it must say what the Lab checks.
    #[test]
    fn the_page_limits_are_the_labs() {
        let js = include_str!("../www/lab/limits.js");
        let limit = |name: &str| -> f64 {
            let rest = &js[js.find(&format!("{name}:")).unwrap_or_else(|| panic!("limits.js has no {name}")) + name.len() + 1..];
            let value = rest[..rest.find(',').unwrap()].trim();
            if value == "Number.MAX_SAFE_INTEGER" {
                MAX_SEED
            } else {
                value.parse().unwrap()
            }
        };
        assert_eq!(limit("stepsMin"), 1.0);
        assert_eq!(limit("stepsMax"), crate::sampler::MAX_STEPS as f64);
        assert_eq!(limit("promptMaxChars"), crate::text::MAX_PROMPT_CHARS as f64);
        assert_eq!(limit("seedMax"), MAX_SEED);
        assert_eq!(limit("guidanceMin"), 0.0);
        assert_eq!(limit("guidanceMax"), MAX_GUIDANCE as f64);
        let cfg: crate::model::UNetConfig = serde_json::from_str(include_str!("../www/models/denoiser.json")).unwrap();
        assert_eq!(limit("forwardTMax"), (cfg.train_timesteps - 1) as f64);
        let list = &js[js.find("BACKENDS = Object.freeze([").expect("limits.js has no BACKENDS") + 26..];
        let names: Vec<&str> = list[..list.find(']').unwrap()].split(',').map(|n| n.trim().trim_matches('\'')).collect();
        let choices: Vec<BackendChoice> = names.iter().map(|n| serde_json::from_str(&format!("\"{n}\"")).unwrap()).collect();
        assert_eq!(choices, [BackendChoice::Auto, BackendChoice::WebGpu, BackendChoice::Cpu]);
        assert!(serde_json::from_str::<BackendChoice>("\"gpu\"").is_err());
    }

    /// The student is distilled for the steps and from the guidance the Lab runs it with.
    #[test]
    fn the_distillation_trains_what_the_lab_runs() {
        let py = include_str!("../scripts/train/diffusion_lab/distill.py");
        let value = |name: &str| -> f64 {
            let line = py.lines().find(|l| l.starts_with(&format!("{name} = "))).unwrap_or_else(|| panic!("distill.py has no {name}"));
            line[name.len() + 3..].trim().parse().unwrap()
        };
        assert_eq!(value("MAX_STUDENT_STEPS"), STUDENT_MAX_STEPS as f64);
        assert_eq!(Some(value("GUIDANCE") as f32), ModelKind::Teacher.defaults().guidance);
    }

    #[test]
    fn options_are_validated_with_messages() {
        assert_eq!(field_names::<GenerateOptions>(), ["model", "steps", "seed", "guidance", "sampler", "blendPrompt", "blend"]);
        assert_eq!(field_names::<u32>(), [] as [&str; 0]);
        let ok = GenerateOptions::default().validate(true).unwrap();
        assert_eq!((ok.model, ok.steps, ok.seed, ok.guidance, ok.sampler), (ModelKind::Student, 4, 0, None, SamplerKind::Ddim));
        let ok = GenerateOptions::default().validate(false).unwrap();
        assert_eq!((ok.model, ok.steps, ok.guidance, ok.sampler), (ModelKind::Teacher, 8, Some(3.0), SamplerKind::DpmSolver2M));
        let teacher = || GenerateOptions { model: Some("teacher".into()), ..Default::default() };
        let bad = |o: GenerateOptions, needle: &str| {
            let e = o.validate(true).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        };
        bad(GenerateOptions { steps: Some(0.0), ..teacher() }, "steps for the teacher must be a whole number from 1 to 100");
        bad(GenerateOptions { steps: Some(10_000.0), ..teacher() }, "steps");
        bad(GenerateOptions { steps: Some(2.5), ..teacher() }, "steps");
        bad(GenerateOptions { steps: Some(5.0), ..Default::default() }, "steps for the student must be a whole number from 1 to 4");
        bad(GenerateOptions { seed: -1.0, ..Default::default() }, "seed");
        bad(GenerateOptions { seed: f64::NAN, ..Default::default() }, "seed");
        bad(GenerateOptions { guidance: Some(1e9), ..teacher() }, "guidance");
        bad(GenerateOptions { sampler: Some("euler".into()), ..teacher() }, "unknown sampler");
        bad(GenerateOptions { model: Some("giant".into()), ..Default::default() }, "unknown model");
        let e = GenerateOptions { model: Some("student".into()), ..Default::default() }.validate(false).unwrap_err();
        assert!(e.to_string().contains("no distilled student"), "{e}");
    }

    #[test]
    fn rgba_maps_range_and_fills_alpha() {
        // one pixel, three channels; out-of-range values clamp
        assert_eq!(to_rgba(&[-1.0, 0.0, 1.0], 3, 1, -1.0, 1.0), vec![0, 128, 255, 255]);
        assert_eq!(to_rgba(&[-5.0, 9.0, 0.5], 3, 1, -1.0, 1.0), vec![0, 255, 191, 255]);
        assert_eq!(to_rgba(&from_rgba(&[0, 128, 255, 7], 3, 1), 3, 1, -1.0, 1.0), vec![0, 128, 255, 255]);
    }
}
