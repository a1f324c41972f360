//! The loaded model: text encoder, teacher and (optional) student on one backend, and the
//! reverse process that runs them (classifier-free guidance for the teacher, a step at a time).

use std::collections::{HashMap, VecDeque};

use candle_core::{Device, Tensor};

use super::options::{BackendChoice, GenerateOptions, ModelKind, ValidOptions};
use crate::gpu::plan::STEPS_IN_FLIGHT;
use crate::gpu::{GpuContext, UNetPlan};
use crate::model::{UNet, UNetConfig};
use crate::sampler::{guide, Sampler, Step};
use crate::schedule::{Prediction, Schedule};
use crate::text::TextEncoder;
use crate::weights::{self, Manifest};
use crate::{Error, Result};

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

/// One denoiser on one backend. The GPU plan's batch is fixed: 2 for the teacher (CFG runs the
/// conditional and the unconditional pass as one batch), 1 for the student.
// A Lab holds two, made once at load: the variants' sizes (1 KB vs 0.4 KB) do not matter.
#[allow(clippy::large_enum_variant)]
/// The teacher and the (optional) student on the backend that runs them: GPU plans come with
/// their device, so no plan can exist without one.
pub(super) enum Denoisers {
    Gpu { ctx: GpuContext, teacher: UNetPlan, student: Option<UNetPlan> },
    Cpu { teacher: UNet, student: Option<UNet> },
}

/// A loaded model: text encoder, teacher and (optional) student denoisers on one backend, schedule.
pub struct Lab {
    pub cfg: UNetConfig,
    pub(super) schedule: Schedule,
    pub(super) prediction: Prediction,
    pub(super) text: TextEncoder,
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
            String::from_utf8(file(&manifest.teacher.config)?).map_err(|_| Error::Weights("denoiser.json is not UTF-8".into()))?;
        let cfg = UNetConfig::from_json(&cfg_text)?;
        let prediction = Prediction::parse(&cfg.prediction).expect("validated by UNetConfig");
        let te = &manifest.text_encoder;
        let tokenizer = te.tokenizer.as_deref().ok_or_else(|| Error::Weights("manifest lacks the tokenizer".into()))?;
        let text = TextEncoder::from_bytes(&file(&te.config)?, file(&te.weights)?, &file(tokenizer)?)?;
        if text.dim != cfg.text_dim {
            return Err(Error::Weights(format!("text encoder gives {} values, the denoiser expects {}", text.dim, cfg.text_dim)));
        }
        let teacher_bytes = file(&manifest.teacher.weights)?;
        let student_bytes = match &manifest.student {
            Some(s) if s.config != manifest.teacher.config => {
                return Err(Error::Weights(format!("the student must share the teacher's config {}", manifest.teacher.config)))
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
        let teacher_name = manifest.teacher.weights.as_str();
        let denoisers = match gpu {
            Some(ctx) => {
                // the teacher runs guided: its conditional and unconditional pass as one batch of two
                let plan =
                    |name: &str, bytes: &[u8], batch| UNetPlan::new(&ctx, &cfg, &weights::read_safetensors(name, bytes)?, name, batch);
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

    pub(super) fn gpu(&self) -> Option<&GpuContext> {
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
                let plan = pick(model, teacher, student)?;
                plan.forward(ctx, x, t, text).await
            }
            Denoisers::Cpu { teacher, student } => {
                let unet = pick(model, teacher, student)?;
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

    /// Generates from a condition already made ([`Lab::condition`]). On the GPU the sampler
    /// runs there too and the next step is queued while the host draws the last.
    pub async fn generate_from(&self, text: &[f32], o: &ValidOptions, mut on_step: impl FnMut(&Step) -> Result<()>) -> Result<Vec<f32>> {
        let mut sampler = self.sampler(o)?;
        match &self.denoisers {
            Denoisers::Gpu { ctx, teacher, student } => {
                let plan = pick(o.model, teacher, student)?;
                let mut pending = VecDeque::with_capacity(STEPS_IN_FLIGHT);
                let result = sample_on_gpu(ctx, plan, &mut sampler, text, o.guidance, &mut pending, &mut on_step).await;
                // a step still queued holds its read-back buffer: wait for it, or the next run
                // could not use that buffer (a cancel costs at most this one step)
                for read in pending {
                    let _ = read.read(ctx).await;
                }
                result?;
            }
            Denoisers::Cpu { .. } => self.sample_on_host(&mut sampler, text, o, on_step).await?,
        }
        Ok(sampler.sample().to_vec())
    }

    /// As [`Lab::generate_from`] with the sampler on the host on any backend: each step's model
    /// output read back, the update computed here, the next sample uploaded. What the CPU path
    /// does; on the GPU the reference the GPU sampler is tested and measured against.
    pub async fn generate_with_host_sampler(
        &self,
        text: &[f32],
        o: &ValidOptions,
        on_step: impl FnMut(&Step) -> Result<()>,
    ) -> Result<Vec<f32>> {
        let mut sampler = self.sampler(o)?;
        self.sample_on_host(&mut sampler, text, o, on_step).await?;
        Ok(sampler.sample().to_vec())
    }

    fn sampler(&self, o: &ValidOptions) -> Result<Sampler> {
        Sampler::new(o.sampler, self.schedule.clone(), self.prediction, o.steps, o.seed, self.cfg.image_len())
    }

    async fn sample_on_host(
        &self,
        sampler: &mut Sampler,
        text: &[f32],
        o: &ValidOptions,
        mut on_step: impl FnMut(&Step) -> Result<()>,
    ) -> Result<()> {
        while !sampler.is_done() {
            let (x, t) = sampler.current();
            let out = self.denoise(o, x, t, text).await?;
            let step = sampler.advance(&out)?;
            on_step(&step)?;
            crate::event_loop::yield_now().await;
        }
        Ok(())
    }
}

/// The teacher's or the student's denoiser (GPU plan or CPU model), or an error where the model
/// files have no student.
fn pick<'m, M>(model: ModelKind, teacher: &'m M, student: &'m Option<M>) -> Result<&'m M> {
    match model {
        ModelKind::Teacher => Ok(teacher),
        ModelKind::Student => student.as_ref().ok_or_else(|| Error::Input("these model files have no distilled student".into())),
    }
}

/// The reverse process on the GPU: up to [`STEPS_IN_FLIGHT`] steps queued, each read back (x_t,
/// x_next, eps, x0) and shown to `on_step` in order. Reads still queued when it returns (a
/// cancel, an error) are left in `pending`.
async fn sample_on_gpu(
    ctx: &GpuContext,
    plan: &UNetPlan,
    sampler: &mut Sampler,
    text: &[f32],
    guidance: Option<f32>,
    pending: &mut VecDeque<crate::gpu::readback::PendingRead>,
    on_step: &mut impl FnMut(&Step) -> Result<()>,
) -> Result<()> {
    plan.begin_sampling(ctx, sampler.sample(), text)?;
    let mut queued = 0;
    while !sampler.is_done() {
        while queued < sampler.total() && pending.len() < STEPS_IN_FLIGHT {
            pending.push_back(plan.submit_step(ctx, queued, &sampler.coefficients(queued)?, guidance)?);
            queued += 1;
        }
        let values = pending.pop_front().expect("a step is queued until the last").read(ctx).await?;
        let len = sampler.sample().len();
        let mut parts = values.chunks_exact(len).map(<[f32]>::to_vec);
        let mut part = || parts.next().ok_or_else(|| Error::Gpu(format!("a step read back {} values, not 4 × {len}", values.len())));
        let (x_t, x_next, eps, x0) = (part()?, part()?, part()?, part()?);
        let step = sampler.advance_to(x_t, x_next, eps, x0)?;
        on_step(&step)?;
        crate::event_loop::yield_now().await;
    }
    Ok(())
}
