//! The denoiser's conditioning (shaders/condition.wgsl): timestep embedding, time MLP, text
//! projection and every ResBlock's FiLM layer in one dispatch.

use crate::gpu::recorder::{expect_whole, shape_error, to_u32, uniform_params, Recorder, MAX_WORKGROUPS_PER_DIMENSION};
use crate::gpu::tensor::GpuTensor;
use crate::Result;
use bytemuck::{Pod, Zeroable};

/// The largest time_freq_dim and cond_dim condition.wgsl holds in workgroup memory
/// (`MAX_TIME_DIM`, `MAX_COND_DIM`).
pub const CONDITION_MAX_DIM: usize = 256;
/// Film outputs per workgroup (`WORKGROUP_SIZE` of condition.wgsl).
const FILMS_PER_WORKGROUP: usize = 256;

uniform_params!(ConditionParams {
    time_dim: u32,
    cond_dim: u32,
    text_dim: u32,
    film_features: u32,
    freqs: u32,
    time_w0: u32,
    time_b0: u32,
    time_w2: u32,
    time_b2: u32,
    text_w: u32,
    text_b: u32,
    film_w: u32,
    film_b: u32,
    chunks: u32,
    _pad: [u32; 2],
});

// uniform blocks are laid out in 16-byte units; a size off by a field would read garbage
const _: () = assert!(std::mem::size_of::<ConditionParams>() == 64);

/// The conditioning's layers as PyTorch stores them: (out, in) weights and (out) biases.
/// `film_weight` / `film_bias` are every ResBlock's film layer stacked row-wise.
pub struct ConditionLayers<'a> {
    pub time_dim: usize,
    pub cond_dim: usize,
    pub text_dim: usize,
    pub time_mlp0: (&'a [f32], &'a [f32]),
    pub time_mlp2: (&'a [f32], &'a [f32]),
    pub text_proj: (&'a [f32], &'a [f32]),
    pub films: (&'a [f32], &'a [f32]),
}

/// The layers of [`ConditionLayers`] in one GPU buffer, with their offsets.
pub struct ConditionWeights {
    packed: GpuTensor,
    params: ConditionParams,
    flops_per_sample: u64,
}

impl ConditionWeights {
    /// The film outputs per sample: the width of [`Recorder::condition`]'s result.
    pub fn film_features(&self) -> usize {
        self.params.film_features as usize
    }
}

impl Recorder<'_> {
    /// Uploads the conditioning's layers (and the timestep frequencies) as one buffer.
    pub fn condition_weights(&mut self, label: &str, layers: &ConditionLayers<'_>) -> Result<ConditionWeights> {
        let op = "condition";
        let err = |m: String| shape_error(op, label, m);
        let &ConditionLayers { time_dim, cond_dim, text_dim, .. } = layers;
        if time_dim == 0 || !time_dim.is_multiple_of(2) || time_dim > CONDITION_MAX_DIM {
            return Err(err(format!("time dimension {time_dim} must be even, from 2 to {CONDITION_MAX_DIM}")));
        }
        if cond_dim == 0 || cond_dim > CONDITION_MAX_DIM || text_dim == 0 {
            return Err(err(format!("cond dimension {cond_dim} must be 1 to {CONDITION_MAX_DIM}, text dimension {text_dim} at least 1")));
        }
        let film_features = layers.films.1.len();
        let linears = [
            ("time_mlp.0", layers.time_mlp0, cond_dim, time_dim),
            ("time_mlp.2", layers.time_mlp2, cond_dim, cond_dim),
            ("text_proj", layers.text_proj, cond_dim, text_dim),
            ("films", layers.films, film_features, cond_dim),
        ];
        // Exactly the reference's f32 frequencies (computed in f64, then rounded).
        let half = time_dim / 2;
        let mut packed: Vec<f32> = (0..half).map(|i| (-(10000f64.ln()) * i as f64 / half as f64).exp() as f32).collect();
        let mut offsets = Vec::with_capacity(2 * linears.len());
        let mut flops_per_sample = 0;
        for (name, (weight, bias), out, input) in linears {
            if weight.len() != out * input || bias.len() != out {
                return Err(err(format!("{name}: {} weights / {} biases do not fit ({out}, {input})", weight.len(), bias.len())));
            }
            offsets.push(to_u32(op, label, packed.len())?);
            packed.extend_from_slice(weight);
            offsets.push(to_u32(op, label, packed.len())?);
            packed.extend_from_slice(bias);
            flops_per_sample += 2 * (out * input) as u64;
        }
        let params = ConditionParams {
            time_dim: to_u32(op, label, time_dim)?,
            cond_dim: to_u32(op, label, cond_dim)?,
            text_dim: to_u32(op, label, text_dim)?,
            film_features: to_u32(op, label, film_features)?,
            freqs: 0,
            time_w0: offsets[0],
            time_b0: offsets[1],
            time_w2: offsets[2],
            time_b2: offsets[3],
            text_w: offsets[4],
            text_b: offsets[5],
            film_w: offsets[6],
            film_b: offsets[7],
            chunks: 1, // set per dispatch
            _pad: [0; 2],
        };
        let len = packed.len();
        Ok(ConditionWeights { packed: self.upload(label, &packed, &[len])?, params, flops_per_sample })
    }

    /// Timesteps (N) and text embeddings (N, text_dim) → every film output, (N, film_features).
    pub fn condition(&mut self, label: &str, timesteps: &GpuTensor, text: &GpuTensor, weights: &ConditionWeights) -> Result<GpuTensor> {
        let op = "condition";
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        expect_whole(op, label, &[("timesteps", timesteps), ("text", text)])?;
        let &[batch] = timesteps.shape.as_slice() else {
            return Err(err(format!("timesteps {:?} should be one value per sample", timesteps.shape)));
        };
        let text_dim = weights.params.text_dim as usize;
        if text.shape != [batch, text_dim] {
            return Err(err(format!("text {:?} should be [{batch}, {text_dim}]", text.shape)));
        }
        let film_features = weights.film_features();
        // see condition.wgsl: many chunks share the films on a GPU, one repeats nothing on a CPU
        let chunks = if self.software_adapter { 1 } else { film_features.div_ceil(FILMS_PER_WORKGROUP).max(1) };
        if batch > MAX_WORKGROUPS_PER_DIMENSION || chunks > MAX_WORKGROUPS_PER_DIMENSION {
            return Err(err(format!("batch {batch} × {film_features} film outputs exceed one dispatch")));
        }
        let output = self.tensor(label, &[batch, film_features]);
        let params = ConditionParams { chunks: to_u32(op, label, chunks)?, ..weights.params };
        self.push(
            label,
            &kernels.condition,
            &params,
            &[&timesteps.buffer, &text.buffer, &weights.packed.buffer, &output.buffer],
            [chunks as u32, batch as u32, 1],
            // each sample's linears once, as flops_per_image counts them (the kernel repeats the
            // time MLP and text projection per chunk)
            batch as u64 * weights.flops_per_sample,
        );
        Ok(output)
    }
}
