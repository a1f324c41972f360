//! Concatenation along the channels (shaders/concat.wgsl), for the UNet's skip connections.

use crate::gpu::recorder::{grid_2d, shape_error, to_u32, uniform_params, Recorder};
use crate::gpu::tensor::GpuTensor;
use crate::Result;
use bytemuck::{Pod, Zeroable};

uniform_params!(ConcatParams { batch: u32, channels_a: u32, channels_b: u32, pixels: u32, threads_x: u32, _pad: [u32; 3] });

// uniform blocks are laid out in 16-byte units; a size off by a field would read garbage
const _: () = assert!(std::mem::size_of::<ConcatParams>() == 32);

impl Recorder<'_> {
    /// [a | b] along the channels of two (N, _, H, W) tensors.
    pub fn concat(&mut self, label: &str, a: &GpuTensor, b: &GpuTensor) -> Result<GpuTensor> {
        let op = "concat";
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        let (&[n, ca, h, w], &[nb, cb, hb, wb]) = (a.shape.as_slice(), b.shape.as_slice()) else {
            return Err(err(format!("shapes {:?} and {:?} are not both NCHW", a.shape, b.shape)));
        };
        if (n, h, w) != (nb, hb, wb) {
            return Err(err(format!("shapes {:?} and {:?} differ outside the channels", a.shape, b.shape)));
        }
        let output = self.tensor(label, &[n, ca + cb, h, w]);
        let (workgroups, threads_x) = grid_2d(op, label, output.len())?;
        let params = ConcatParams {
            batch: to_u32(op, label, n)?,
            channels_a: to_u32(op, label, ca)?,
            channels_b: to_u32(op, label, cb)?,
            pixels: to_u32(op, label, h * w)?,
            threads_x,
            _pad: [0; 3],
        };
        self.push(label, &kernels.concat, &params, &[&a.buffer, &b.buffer, &output.buffer], workgroups, 0);
        Ok(output)
    }
}
