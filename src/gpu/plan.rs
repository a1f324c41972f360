//! The denoiser on the GPU: every weight uploaded once, every intermediate buffer, uniform
//! buffer and bind group created once, and the forward pass as a fixed list of dispatches that
//! mirrors `model::UNet::forward` (src/model/unet.rs) line by line. The sampler's update runs
//! after it (ops/sampler_step.rs), so that in a reverse process the sample stays on the GPU: a
//! step costs two tiny uploads (t and the step's numbers), one compute pass, one submit and one
//! read-back of what the page draws, and the next step is queued before that read-back is done.

use super::ops::{
    plan_conv_split, plan_fuse_norms, ConditionLayers, Conv2dOptions, ConvLayer, FilmSlice, GroupNormOptions, InputNorm, SamplerStep,
};
use super::readback::{staging_buffer, submit, submit_and_read, PendingRead};
use super::GpuContext;
use super::{Dispatch, GpuTensor, Recorder};
use crate::model::UNetConfig;
use crate::sampler::StepCoefficients;
use crate::weights::{self, WeightMap};
use crate::{Error, Result};

pub struct UNetPlan {
    cfg: UNetConfig,
    batch: usize,
    /// Written by `forward` before each submit.
    x: GpuTensor,
    timesteps: GpuTensor,
    text: GpuTensor,
    output: GpuTensor,
    staging: wgpu::Buffer,
    dispatches: Vec<Dispatch>,
    /// The sampler's update after the forward, in a reverse process run on the GPU.
    sampler: SamplerStep,
    /// One read-back buffer per step in flight.
    step_staging: [wgpu::Buffer; STEPS_IN_FLIGHT],
    buffer_bytes: u64,
}

/// Steps of a reverse process queued on the GPU at once: the next one runs while the host reads
/// and draws the last. More would only delay a cancel.
pub const STEPS_IN_FLIGHT: usize = 2;

impl UNetPlan {
    /// `file` names the weights' file in the errors about a missing or misshapen tensor.
    pub fn new(ctx: &GpuContext, cfg: &UNetConfig, weights: &WeightMap, file: &str, batch: usize) -> Result<UNetPlan> {
        cfg.validate()?;
        if batch == 0 {
            return Err(Error::Input("the batch size must be at least 1".into()));
        }
        ctx.check()?;
        let mut builder = PlanBuilder { rec: Recorder::new(ctx), weights, file, cfg, film_offsets: Vec::new() };
        builder.rec.set_conv_split(plan_conv_split(ctx.is_software())?);
        builder.rec.set_fuse_input_norms(plan_fuse_norms()?);

        let size = cfg.image_size;
        let x = builder.rec.tensor("x", &[batch, cfg.in_channels, size, size]);
        let timesteps = builder.rec.tensor("t", &[batch]);
        let text = builder.rec.tensor("text", &[batch, cfg.text_dim]);
        let output = builder.unet(&x, &timesteps, &text)?;

        let sampler = builder.rec.sampler_step("sampler step", &output, &x)?;
        let staging = staging_buffer(&ctx.device, "denoiser output read-back", output.byte_len());
        let step_staging = std::array::from_fn(|_| staging_buffer(&ctx.device, "step read-back", sampler.step.byte_len()));
        let (dispatches, recorded_bytes) = builder.rec.finish();
        // Shader and bind group validation failures go to the device's error handler, not to
        // return values. Natively they have been recorded by now; in the browser they arrive
        // asynchronously and the next forward reports them.
        ctx.check()?;
        Ok(UNetPlan {
            cfg: cfg.clone(),
            batch,
            x,
            timesteps,
            text,
            output,
            buffer_bytes: recorded_bytes + staging.size() + step_staging.iter().map(wgpu::Buffer::size).sum::<u64>(),
            staging,
            dispatches,
            sampler,
            step_staging,
        })
    }

    /// x: batch × C × S × S noisy images, t: one (possibly fractional) timestep per sample,
    /// text: batch × text_dim embeddings (zeros = unconditional) → the model output, x's shape.
    /// One forward at a time per plan: it reuses its read-back buffer.
    pub async fn forward(&self, ctx: &GpuContext, x: &[f32], t: &[f32], text: &[f32]) -> Result<Vec<f32>> {
        let expect_len = |name: &str, got: usize, want: usize, what: String| {
            if got == want {
                Ok(())
            } else {
                Err(Error::Input(format!("{name} has {got} values but this plan expects {want} ({what})")))
            }
        };
        let (b, c, s) = (self.batch, self.cfg.in_channels, self.cfg.image_size);
        expect_len("x", x.len(), self.x.len(), format!("batch {b} × {c} channels × {s} × {s}"))?;
        expect_len("t", t.len(), self.timesteps.len(), format!("one timestep per sample, batch {b}"))?;
        expect_len("text", text.len(), self.text.len(), format!("batch {b} × text_dim {}", self.cfg.text_dim))?;
        ctx.queue.write_buffer(&self.x.buffer, 0, bytemuck::cast_slice(x));
        ctx.queue.write_buffer(&self.timesteps.buffer, 0, bytemuck::cast_slice(t));
        ctx.queue.write_buffer(&self.text.buffer, 0, bytemuck::cast_slice(text));
        submit_and_read(ctx, &self.dispatches, &self.output, &self.staging).await
    }

    /// Starts a reverse process on the GPU: the starting noise `x` (one image) into every image
    /// of the batch, and the condition `text`: with a batch of two the conditional and the
    /// unconditional one (zeros), for guidance.
    pub fn begin_sampling(&self, ctx: &GpuContext, x: &[f32], text: &[f32]) -> Result<()> {
        let (len, dim) = (self.sampler.image_len(), self.cfg.text_dim);
        if x.len() != len || text.len() != dim {
            return Err(Error::Input(format!(
                "a reverse process starts from one image of {len} values and a condition of {dim}, got {} and {}",
                x.len(),
                text.len()
            )));
        }
        let condition = match self.batch {
            2 => [text, &vec![0.0; dim]].concat(),
            b => text.repeat(b),
        };
        ctx.queue.write_buffer(&self.x.buffer, 0, bytemuck::cast_slice(&x.repeat(self.batch)));
        ctx.queue.write_buffer(&self.text.buffer, 0, bytemuck::cast_slice(&condition));
        Ok(())
    }

    /// Queues step `index` of the reverse process `begin_sampling` started: its timestep, the
    /// forward, the sampler's update by `c` (with `guidance` where the batch is guided) and the
    /// copy of x_t, x_next, eps and x0, one image each, into the step's read-back buffer. Steps
    /// run in the order they are queued, each on the sample the one before wrote; at most
    /// [`STEPS_IN_FLIGHT`] may wait to be read.
    pub fn submit_step(&self, ctx: &GpuContext, index: usize, c: &StepCoefficients, guidance: Option<f32>) -> Result<PendingRead> {
        self.sampler.write(&ctx.queue, c, guidance)?;
        ctx.queue.write_buffer(&self.timesteps.buffer, 0, bytemuck::cast_slice(&vec![c.t as f32; self.batch]));
        let staging = &self.step_staging[index % STEPS_IN_FLIGHT];
        submit(ctx, self.dispatches.iter().chain([&self.sampler.dispatch]), &self.sampler.step, staging)
    }

    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Kernel launches per forward.
    pub fn dispatch_count(&self) -> usize {
        self.dispatches.len()
    }

    /// The forward's dispatches in order, each with its kernel kind and FLOPs (`lab profile`
    /// times them one by one). They read the inputs the last `forward` wrote.
    pub fn dispatches(&self) -> &[Dispatch] {
        &self.dispatches
    }

    /// Bytes of every GPU buffer the plan holds: weights, activations, uniforms, read-back.
    pub fn buffer_bytes(&self) -> u64 {
        self.buffer_bytes
    }
}

/// Records the forward pass; every method mirrors the module of the same name in unet.rs and
/// reads its weights under the same prefix.
struct PlanBuilder<'a> {
    rec: Recorder<'a>,
    weights: &'a WeightMap,
    file: &'a str,
    cfg: &'a UNetConfig,
    /// Each ResBlock's prefix and the column of its FiLM values in `condition`'s output.
    film_offsets: Vec<(String, usize)>,
}

impl<'a> PlanBuilder<'a> {
    /// A convolution with k×k kernel, `cout` outputs and the input's channel count.
    fn conv(&mut self, prefix: &str, x: &GpuTensor, cout: usize, kernel: usize, options: Conv2dOptions<'_>) -> Result<GpuTensor> {
        let shape = [cout, x.shape[1], kernel, kernel];
        let layer = self.conv_layer(prefix, &shape)?;
        let packed = self.rec.conv_weights(prefix, layer.weight, layer.shape, layer.bias)?;
        self.rec.conv2d(prefix, x, &packed, options)
    }

    /// The weight and bias of the convolution `prefix`, checked against `shape`.
    fn conv_layer<'s>(&self, prefix: &str, shape: &'s [usize]) -> Result<ConvLayer<'s>>
    where
        'a: 's,
    {
        let weight = weights::expect(self.weights, self.file, &format!("{prefix}.weight"), shape)?;
        let bias = weights::expect(self.weights, self.file, &format!("{prefix}.bias"), &shape[..1])?;
        Ok(ConvLayer { weight: &weight.data, shape, bias: &bias.data })
    }

    /// `conv3` of unet.rs: 3×3, padding 1.
    fn conv3(&mut self, prefix: &str, x: &GpuTensor, cout: usize, stride: usize) -> Result<GpuTensor> {
        self.conv(prefix, x, cout, 3, Conv2dOptions { stride, padding: 1, ..Default::default() })
    }

    /// The group norm `prefix`'s gamma and beta, for the convolution that reads its output.
    fn norm_affine(&mut self, prefix: &str, channels: usize) -> Result<GpuTensor> {
        let gamma = weights::expect(self.weights, self.file, &format!("{prefix}.weight"), &[channels])?;
        let beta = weights::expect(self.weights, self.file, &format!("{prefix}.bias"), &[channels])?;
        self.rec.norm_affine(prefix, &gamma.data, &beta.data)
    }

    fn norm_options<'f>(&self, film: Option<FilmSlice<'f>>, silu: bool) -> GroupNormOptions<'f> {
        GroupNormOptions { groups: self.cfg.groups, film, silu }
    }

    /// ResBlock::forward: conv1(silu(norm1(x))), conv2(silu(norm2(..) with FiLM)) (this block's
    /// columns of `films`, from `condition`), each norm inside its convolution, with the skip
    /// added in conv2: x itself as a residual, or the 1×1 `skip` conv of x as conv2's second
    /// input. `into`: where the result goes (a slice of an up-path input) instead of a new tensor.
    fn res_block(&mut self, prefix: &str, x: &GpuTensor, cout: usize, films: &GpuTensor, into: Option<&GpuTensor>) -> Result<GpuTensor> {
        let cin = x.shape[1];
        let norm1 = self.norm_affine(&format!("{prefix}.norm1"), cin)?;
        let norm = Some(InputNorm { affine: &norm1, options: self.norm_options(None, true) });
        let h = self.conv(&format!("{prefix}.conv1"), x, cout, 3, Conv2dOptions { padding: 1, norm, ..Default::default() })?;
        let Some(&(_, offset)) = self.film_offsets.iter().find(|(p, _)| p == prefix) else {
            return Err(Error::Shape(format!("the plan has no FiLM columns for `{prefix}`")));
        };
        let norm2 = self.norm_affine(&format!("{prefix}.norm2"), cout)?;
        let norm = Some(InputNorm { affine: &norm2, options: self.norm_options(Some(FilmSlice { tensor: films, offset }), true) });
        let conv2 = format!("{prefix}.conv2");
        let options = Conv2dOptions { stride: 1, padding: 1, output: into, norm, ..Default::default() };
        if cin == cout {
            return self.conv(&conv2, &h, cout, 3, Conv2dOptions { residual: Some(x), ..options });
        }
        let (shape, skip_shape) = ([cout, cout, 3, 3], [cout, cin, 1, 1]);
        let (layer, skip) = (self.conv_layer(&conv2, &shape)?, self.conv_layer(&format!("{prefix}.skip"), &skip_shape)?);
        let packed = self.rec.conv_weights_with_second(&conv2, layer, skip)?;
        self.rec.conv2d(&conv2, &h, &packed, Conv2dOptions { second: Some(x), ..options })
    }

    /// SelfAttention::forward: x + proj(attention(qkv(norm(x)))), the norm fused into qkv and
    /// the residual into proj.
    fn self_attention(&mut self, prefix: &str, x: &GpuTensor) -> Result<GpuTensor> {
        let channels = x.shape[1];
        let one_by_one = Conv2dOptions::default();
        let affine = self.norm_affine(&format!("{prefix}.norm"), channels)?;
        let norm = Some(InputNorm { affine: &affine, options: self.norm_options(None, false) });
        let qkv = self.conv(&format!("{prefix}.qkv"), x, 3 * channels, 1, Conv2dOptions { norm, ..one_by_one })?;
        let attended = self.rec.attention(&format!("{prefix}.attention"), &qkv, self.cfg.attn_heads)?;
        let proj = Conv2dOptions { residual: Some(x), ..one_by_one };
        self.conv(&format!("{prefix}.proj"), &attended, channels, 1, proj)
    }

    /// Every ResBlock's prefix and output channels, in the order `unet` runs them.
    fn res_blocks(&self) -> Vec<(String, usize)> {
        let channels = &self.cfg.channels;
        let top = channels[channels.len() - 1];
        let down = channels.iter().enumerate().map(|(i, &c)| (format!("down.{i}.res"), c));
        let mid = [("mid.res1".to_string(), top), ("mid.res2".to_string(), top)];
        let up = channels.iter().enumerate().rev().map(|(i, &c)| (format!("up.{i}.res"), c));
        down.chain(mid).chain(up).collect()
    }

    /// UNet::condition (time_mlp.2(silu(time_mlp.0(temb))) + text_proj(text)) and every
    /// ResBlock's film(silu(cond)) in one dispatch: the blocks' film layers are stacked, and
    /// `film_offsets` says where each block's columns are.
    fn condition(&mut self, timesteps: &GpuTensor, text: &GpuTensor) -> Result<GpuTensor> {
        let cfg = self.cfg;
        let (time, cond, text_dim) = (cfg.time_freq_dim, cfg.cond_dim, cfg.text_dim);
        let layer = |name: &str, out: usize, input: usize| -> Result<(&[f32], &[f32])> {
            let weight = weights::expect(self.weights, self.file, &format!("{name}.weight"), &[out, input])?;
            let bias = weights::expect(self.weights, self.file, &format!("{name}.bias"), &[out])?;
            Ok((&weight.data, &bias.data))
        };
        let (time_mlp0, time_mlp2, text_proj) =
            (layer("time_mlp.0", cond, time)?, layer("time_mlp.2", cond, cond)?, layer("text_proj", cond, text_dim)?);
        let (mut film_weight, mut film_bias, mut film_offsets) = (Vec::new(), Vec::new(), Vec::new());
        for (prefix, cout) in self.res_blocks() {
            let (w, b) = layer(&format!("{prefix}.film"), 2 * cout, cond)?;
            film_offsets.push((prefix, film_bias.len()));
            film_weight.extend_from_slice(w);
            film_bias.extend_from_slice(b);
        }
        let layers = ConditionLayers {
            time_dim: time,
            cond_dim: cond,
            text_dim,
            time_mlp0,
            time_mlp2,
            text_proj,
            films: (&film_weight, &film_bias),
        };
        let packed = self.rec.condition_weights("condition", &layers)?;
        self.film_offsets = film_offsets;
        self.rec.condition("condition", timesteps, text, &packed)
    }

    /// UNet::forward.
    fn unet(&mut self, x: &GpuTensor, timesteps: &GpuTensor, text: &GpuTensor) -> Result<GpuTensor> {
        let cfg = self.cfg;
        let channels = &cfg.channels;
        let levels = channels.len();
        let films = self.condition(timesteps, text)?;

        // The up path's inputs [h | skip] of each level, allocated first: the down path writes
        // each skip into the second half (it is read from there too), the level below (or the
        // middle block) writes h into the first, so nothing is concatenated. h and the skip have
        // channels[i] channels each.
        let batch = x.shape[0];
        let mut up_inputs = Vec::with_capacity(levels);
        for (i, &c) in channels.iter().enumerate() {
            let size = cfg.image_size >> i;
            up_inputs.push(self.rec.tensor(&format!("up.{i}.input"), &[batch, 2 * c, size, size]));
        }
        let half = |i: usize, which: usize| up_inputs[i].channel_slice(which * channels[i], channels[i]);

        let mut h = self.conv3("conv_in", x, channels[0], 1)?;
        for (i, &c) in channels.iter().enumerate() {
            h = self.res_block(&format!("down.{i}.res"), &h, c, &films, Some(&half(i, 1)?))?;
            if i + 1 < levels {
                h = self.conv3(&format!("down.{i}.downsample"), &h, c, 2)?;
            }
        }

        let top = channels[levels - 1];
        h = self.res_block("mid.res1", &h, top, &films, None)?;
        h = self.self_attention("mid.attn", &h)?;
        self.res_block("mid.res2", &h, top, &films, Some(&half(levels - 1, 0)?))?;

        for i in (0..levels).rev() {
            h = self.res_block(&format!("up.{i}.res"), &up_inputs[i], channels[i], &films, None)?;
            if i > 0 {
                // upsample(F.interpolate(h, 2)): the nearest-2x read is fused into the conv.
                let into = half(i - 1, 0)?;
                let options = Conv2dOptions { padding: 1, upsample: true, output: Some(&into), ..Default::default() };
                self.conv(&format!("up.{i}.upsample"), &h, channels[i - 1], 3, options)?;
            }
        }

        let affine = self.norm_affine("out_norm", channels[0])?;
        let norm = Some(InputNorm { affine: &affine, options: self.norm_options(None, true) });
        self.conv("out_conv", &h, cfg.in_channels, 3, Conv2dOptions { padding: 1, norm, ..Default::default() })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))] // pollster and a native adapter
mod tests {
    use super::*;

    /// The FLOPs the Recorder counts per dispatch, from the shapes it checks, against
    /// `UNetConfig::flops_per_image`, counted independently from the config.
    #[test]
    fn dispatch_flops_add_up_to_flops_per_image() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/www/models");
        let cfg = UNetConfig::from_json(&std::fs::read_to_string(format!("{dir}/denoiser.json")).unwrap()).unwrap();
        let bytes = std::fs::read(format!("{dir}/denoiser.safetensors")).unwrap();
        let weights = weights::read_safetensors("denoiser.safetensors", &bytes).unwrap();
        let ctx = match pollster::block_on(GpuContext::new()) {
            Ok(ctx) => ctx,
            Err(e) => return eprintln!("skipped, no GPU adapter: {e}"),
        };
        // flops_per_image counts the attention's scores and weighted sum (2 × 2·n²·C at the
        // lowest level, n pixels) beside the convolutions and linear layers; the attention
        // dispatch carries exactly that part, the conv2d and linear dispatches the rest.
        let top = *cfg.channels.last().unwrap() as u64;
        let n = (cfg.image_size >> (cfg.channels.len() - 1)).pow(2) as u64;
        let attention_per_image = 2 * 2 * n * n * top;
        // One plan runs `batch` images through every layer, so each count scales with the batch.
        for batch in [1usize, 2] {
            let plan = UNetPlan::new(&ctx, &cfg, &weights, "denoiser.safetensors", batch).unwrap();
            let of_kind = |kinds: &[&str]| -> u64 { plan.dispatches().iter().filter(|d| kinds.contains(&d.kind)).map(|d| d.flops).sum() };
            let b = batch as u64;
            assert_eq!(of_kind(&["conv2d", "condition"]), b * (cfg.flops_per_image() - attention_per_image));
            assert_eq!(of_kind(&["attention"]), b * attention_per_image);
            let total: u64 = plan.dispatches().iter().map(|d| d.flops).sum();
            assert_eq!(total, b * cfg.flops_per_image());
            // every other dispatch is of a kind that counts no FLOPs (norms, copies)
            assert_eq!(of_kind(&["conv2d", "condition", "attention", "group_norm"]), total);
            assert_eq!(of_kind(&["group_norm"]), 0);
        }
    }
}
