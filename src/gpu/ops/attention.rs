//! Multi-head self-attention over the pixels (shaders/attention.wgsl).

use crate::gpu::recorder::{expect_whole, grid_1d, shape_error, to_u32, uniform_params, Recorder};
use crate::gpu::tensor::GpuTensor;
use crate::Result;
use bytemuck::{Pod, Zeroable};

/// attention.wgsl keeps q and the accumulator in private arrays of this size (in vec4s).
pub const ATTENTION_MAX_HEAD_DIM: usize = 64;

uniform_params!(AttentionParams { batch: u32, heads: u32, head_dim: u32, pixels: u32, scale: f32, _pad: [u32; 3] });

// uniform blocks are laid out in 16-byte units; a size off by a field would read garbage
const _: () = assert!(std::mem::size_of::<AttentionParams>() == 32);

impl Recorder<'_> {
    /// Multi-head self-attention from the qkv projection (N, 3*C, H, W) → (N, C, H, W).
    pub fn attention(&mut self, label: &str, qkv: &GpuTensor, heads: usize) -> Result<GpuTensor> {
        let op = "attention";
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        expect_whole(op, label, &[("qkv", qkv)])?;
        let &[batch, three_c, h, w] = qkv.shape.as_slice() else {
            return Err(err(format!("qkv shape {:?} is not NCHW", qkv.shape)));
        };
        if heads == 0 || three_c % (3 * heads) != 0 {
            return Err(err(format!("{three_c} qkv channels do not split into 3 x {heads} heads")));
        }
        let channels = three_c / 3;
        let head_dim = channels / heads;
        if head_dim > ATTENTION_MAX_HEAD_DIM || !head_dim.is_multiple_of(4) {
            return Err(err(format!("head dimension {head_dim} must be a multiple of 4 and at most {ATTENTION_MAX_HEAD_DIM}")));
        }
        let output = self.tensor(label, &[batch, channels, h, w]);
        let params = AttentionParams {
            batch: to_u32(op, label, batch)?,
            heads: to_u32(op, label, heads)?,
            head_dim: to_u32(op, label, head_dim)?,
            pixels: to_u32(op, label, h * w)?,
            scale: (1.0 / (head_dim as f64).sqrt()) as f32,
            _pad: [0; 3],
        };
        let workgroups = grid_1d(op, label, batch * heads * h * w)?;
        // scores q·k and the weighted sum of v: pixels² × head_dim multiply-adds each, per head
        let flops = 2 * 2 * (batch * heads * (h * w) * (h * w) * head_dim) as u64;
        self.push(label, &kernels.attention, &params, &[&qkv.buffer, &output.buffer], workgroups, flops);
        Ok(output)
    }
}
