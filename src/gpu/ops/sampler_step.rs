//! The sampler's update on the GPU (shaders/sampler_step.wgsl): guidance, the split into noise
//! and clean image, and the next sample, written back into the denoiser's input.

use crate::gpu::recorder::{expect_whole, grid_1d, shape_error, to_u32, uniform_params, Recorder};
use crate::gpu::tensor::GpuTensor;
use crate::gpu::Dispatch;
use crate::sampler::StepCoefficients;
use crate::{Error, Result};
use bytemuck::{Pod, Zeroable};

uniform_params!(SamplerStepParams {
    len: u32,
    copies: u32,
    guided: u32,
    v_prediction: u32,
    guidance: f32,
    sqrt_alpha: f32,
    sqrt_one_minus_alpha: f32,
    x_coef: f32,
    x0_coef: f32,
    prev_x0_coef: f32,
    eps_coef: f32,
    _pad: [u32; 1],
});

const _: () = assert!(std::mem::size_of::<SamplerStepParams>() == 48);

/// The recorded step: one dispatch whose numbers [`SamplerStep::write`] sets before each submit.
pub struct SamplerStep {
    pub dispatch: Dispatch,
    params: wgpu::Buffer,
    len: usize,
    copies: usize,
    /// x_t, x_next, eps and x0 of one image, one after another: what a step reads back.
    pub step: GpuTensor,
}

impl SamplerStep {
    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.len
    }

    /// Sets the next submit's step: `c`, and classifier-free guidance with this scale when the
    /// denoiser's batch is a conditional and an unconditional image (None: one image per copy).
    pub fn write(&self, queue: &wgpu::Queue, c: &StepCoefficients, guidance: Option<f32>) -> Result<()> {
        let guided = guidance.is_some();
        if guided != (self.copies == 2) {
            return Err(Error::Input(format!(
                "a batch of {} image(s) runs {}; guidance needs a batch of 2 (conditional, unconditional)",
                self.copies,
                if guided { "without guidance" } else { "with guidance only" }
            )));
        }
        let params = SamplerStepParams {
            len: self.len as u32,
            copies: self.copies as u32,
            guided: guided as u32,
            v_prediction: c.v_prediction as u32,
            guidance: guidance.unwrap_or(1.0),
            sqrt_alpha: c.sqrt_alpha,
            sqrt_one_minus_alpha: c.sqrt_one_minus_alpha,
            x_coef: c.x_coef,
            x0_coef: c.x0_coef,
            prev_x0_coef: c.prev_x0_coef,
            eps_coef: c.eps_coef,
            _pad: [0],
        };
        queue.write_buffer(&self.params, 0, bytemuck::bytes_of(&params));
        Ok(())
    }
}

impl Recorder<'_> {
    /// The sampler's step after a denoiser whose input is `x` and output `model_output` (both
    /// N × image, N = 2 with guidance): it writes the next sample into every image of `x`. The
    /// dispatch is returned, not added to the recorded forward.
    pub fn sampler_step(&mut self, label: &str, model_output: &GpuTensor, x: &GpuTensor) -> Result<SamplerStep> {
        let op = "sampler_step";
        expect_whole(op, label, &[("model_output", model_output), ("x", x)])?;
        if model_output.shape != x.shape || x.shape.is_empty() {
            return Err(shape_error(op, label, format!("output {:?} and input {:?} must have one shape", model_output.shape, x.shape)));
        }
        let copies = x.shape[0];
        if !(1..=2).contains(&copies) {
            return Err(shape_error(op, label, format!("a batch of {copies}: one image, or two with guidance")));
        }
        let len = x.len() / copies;
        to_u32(op, label, 4 * len)?;
        let prev_x0 = self.tensor(&format!("{label} previous x0"), &[len]);
        let step = self.tensor(&format!("{label} x_t x_next eps x0"), &[4, len]);
        let params = self.writable_uniform(label, std::mem::size_of::<SamplerStepParams>() as u64);
        let workgroups = grid_1d(op, label, len)?;
        let kernel = &self.kernels.sampler_step;
        let dispatch =
            self.dispatch(label, kernel, &params, &[&model_output.buffer, &x.buffer, &prev_x0.buffer, &step.buffer], workgroups, 0);
        Ok(SamplerStep { dispatch, params, len, copies, step })
    }
}
