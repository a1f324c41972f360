//! A linear layer (shaders/linear.wgsl), optionally on SiLU of its input and added into an
//! existing tensor.

use crate::gpu::recorder::{grid_1d, shape_error, to_u32, uniform_params, Recorder};
use crate::gpu::tensor::GpuTensor;
use crate::Result;
use bytemuck::{Pod, Zeroable};

uniform_params!(LinearParams { batch: u32, in_features: u32, out_features: u32, silu_input: u32, accumulate: u32, _pad: [u32; 3] });

// uniform blocks are laid out in 16-byte units; a size off by a field would read garbage
const _: () = assert!(std::mem::size_of::<LinearParams>() == 32);

/// Options of [`Recorder::linear`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LinearOptions<'a> {
    /// Apply SiLU to the input first.
    pub silu_input: bool,
    /// Add the result to this (batch, out) tensor instead of writing a new one.
    pub accumulate_into: Option<&'a GpuTensor>,
}

impl Recorder<'_> {
    /// y = W x + b for x (batch, in), W (out, in), b (out) → (batch, out).
    pub fn linear(
        &mut self,
        label: &str,
        x: &GpuTensor,
        weight: &GpuTensor,
        bias: &GpuTensor,
        options: LinearOptions<'_>,
    ) -> Result<GpuTensor> {
        let op = "linear";
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        let &[batch, in_features] = x.shape.as_slice() else {
            return Err(err(format!("input shape {:?} is not (batch, features)", x.shape)));
        };
        let &[out_features, weight_in] = weight.shape.as_slice() else {
            return Err(err(format!("weight shape {:?} is not (out, in)", weight.shape)));
        };
        if weight_in != in_features || bias.shape != [out_features] {
            return Err(err(format!("weight {:?} / bias {:?} do not fit input {:?}", weight.shape, bias.shape, x.shape)));
        }
        let output = match options.accumulate_into {
            Some(y) if y.shape == [batch, out_features] => y.clone(),
            Some(y) => return Err(err(format!("accumulator {:?} should be [{batch}, {out_features}]", y.shape))),
            None => self.tensor(label, &[batch, out_features]),
        };
        let params = LinearParams {
            batch: to_u32(op, label, batch)?,
            in_features: to_u32(op, label, in_features)?,
            out_features: to_u32(op, label, out_features)?,
            silu_input: options.silu_input as u32,
            accumulate: options.accumulate_into.is_some() as u32,
            _pad: [0; 3],
        };
        let workgroups = grid_1d(op, label, batch * out_features)?;
        self.push(
            label,
            &kernels.linear,
            &params,
            &[&x.buffer, &weight.buffer, &bias.buffer, &output.buffer],
            workgroups,
            2 * (batch * in_features * out_features) as u64,
        );
        Ok(output)
    }
}
