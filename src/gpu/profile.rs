//! Timing recorded dispatches on the GPU, for `lab profile`.

use super::recorder::Dispatch;
use super::GpuContext;
use crate::Result;

/// Encodes `dispatches`, in order, `reps` times in one compute pass, submits once and waits for
/// the GPU; returns the seconds from the submit to completion (encoding left out). For
/// `lab profile`: with enough repetitions the submit and wait overhead is spread thin, so the
/// time per repetition approaches the kernels' steady-state time. Native only: in the browser
/// nothing can wait for the GPU synchronously (so the module is native only).
pub fn time_repeated(ctx: &GpuContext, dispatches: &[Dispatch], reps: usize) -> Result<f64> {
    ctx.check()?;
    let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("profile") });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("profile"), timestamp_writes: None });
        for _ in 0..reps {
            for dispatch in dispatches {
                dispatch.record(&mut pass);
            }
        }
    }
    let commands = encoder.finish();
    let start = std::time::Instant::now();
    ctx.queue.submit([commands]);
    ctx.wait_for_submissions()?;
    let seconds = start.elapsed().as_secs_f64();
    ctx.check()?;
    Ok(seconds)
}
