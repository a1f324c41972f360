//! The sinusoidal timestep embedding (shaders/timestep_embedding.wgsl).

use crate::gpu::recorder::{grid_1d, shape_error, to_u32, uniform_params, Recorder};
use crate::gpu::tensor::GpuTensor;
use crate::Result;
use bytemuck::{Pod, Zeroable};

uniform_params!(TimestepEmbeddingParams { batch: u32, half_dim: u32, _pad: [u32; 2] });

// uniform blocks are laid out in 16-byte units; a size off by a field would read garbage
const _: () = assert!(std::mem::size_of::<TimestepEmbeddingParams>() == 16);

impl Recorder<'_> {
    /// [cos | sin] embedding (N, dim) of N timesteps, as `model::unet::timestep_embedding`.
    pub fn timestep_embedding(&mut self, label: &str, timesteps: &GpuTensor, dim: usize) -> Result<GpuTensor> {
        let op = "timestep_embedding";
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        let &[batch] = timesteps.shape.as_slice() else {
            return Err(err(format!("timesteps {:?} should be one value per sample", timesteps.shape)));
        };
        if dim == 0 || !dim.is_multiple_of(2) {
            return Err(err(format!("dimension {dim} must be even and positive")));
        }
        let half = dim / 2;
        // Exactly the reference's f32 frequencies (computed in f64, then rounded).
        let freqs: Vec<f32> = (0..half).map(|i| (-(10000f64.ln()) * i as f64 / half as f64).exp() as f32).collect();
        let freqs = self.upload(&format!("{label}.freqs"), &freqs, &[half])?;
        let output = self.tensor(label, &[batch, dim]);
        let params = TimestepEmbeddingParams { batch: to_u32(op, label, batch)?, half_dim: to_u32(op, label, half)?, _pad: [0; 2] };
        let workgroups = grid_1d(op, label, batch * half)?;
        self.push(label, &kernels.timestep_embedding, &params, &[&timesteps.buffer, &freqs.buffer, &output.buffer], workgroups, 0);
        Ok(output)
    }
}
