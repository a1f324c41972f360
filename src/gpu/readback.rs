//! Running recorded dispatches: one compute pass, one copy of the output, one read-back, awaited
//! at once or later (a pipelined reverse process keeps the next step queued meanwhile).

use super::recorder::Dispatch;
use super::tensor::GpuTensor;
use super::GpuContext;
use crate::{Error, Result};

/// A buffer the output is copied into to be read on the host.
pub fn staging_buffer(device: &wgpu::Device, label: &str, bytes: u64) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: bytes.max(4),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// Encodes `dispatches` in one compute pass, copies `output` into `staging`, submits once and
/// reads the staging buffer back.
pub async fn submit_and_read(ctx: &GpuContext, dispatches: &[Dispatch], output: &GpuTensor, staging: &wgpu::Buffer) -> Result<Vec<f32>> {
    submit(ctx, dispatches, output, staging)?.read(ctx).await
}

/// Encodes `dispatches` in one compute pass, copies `output` into `staging` and submits, without
/// waiting: the next submit may follow before this one's values are read.
pub fn submit<'d>(
    ctx: &GpuContext,
    dispatches: impl IntoIterator<Item = &'d Dispatch>,
    output: &GpuTensor,
    staging: &wgpu::Buffer,
) -> Result<PendingRead> {
    ctx.check()?;
    let bytes = output.byte_len();
    if staging.size() < bytes {
        return Err(Error::Gpu(format!("staging buffer of {} bytes is too small for {bytes}", staging.size())));
    }
    let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("forward") });
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("forward"), timestamp_writes: None });
        for dispatch in dispatches {
            dispatch.record(&mut pass);
        }
    }
    encoder.copy_buffer_to_buffer(&output.buffer, 0, staging, 0, bytes);
    ctx.queue.submit([encoder.finish()]);

    let (sender, receiver) = futures_channel::oneshot::channel();
    staging.map_async(wgpu::MapMode::Read, ..bytes, move |result| {
        // The receiver only disappears if the caller's future was dropped; nothing to tell then.
        let _ = sender.send(result);
    });
    Ok(PendingRead { staging: staging.clone(), bytes, receiver })
}

/// A submitted read-back; its staging buffer stays mapped for reading until `read` is done.
pub struct PendingRead {
    staging: wgpu::Buffer,
    bytes: u64,
    receiver: futures_channel::oneshot::Receiver<std::result::Result<(), wgpu::BufferAsyncError>>,
}

impl PendingRead {
    /// The values, once the GPU has written them.
    pub async fn read(self, ctx: &GpuContext) -> Result<Vec<f32>> {
        let PendingRead { staging, bytes, receiver } = self;
        ctx.wait_for_submissions()?;
        let mapped = ctx.unless_lost(receiver).await?.map_err(|_| Error::Gpu("the GPU dropped the read-back request".into()))?;
        if let Err(e) = mapped {
            ctx.check()?;
            return Err(Error::Gpu(format!("reading the result back failed: {e}")));
        }
        let values = {
            let view = staging.get_mapped_range(..bytes).map_err(|e| Error::Gpu(format!("reading the result back failed: {e}")))?;
            // pod_collect_to_vec copies, so the mapped bytes need no particular alignment.
            bytemuck::pod_collect_to_vec::<u8, f32>(&view)
        };
        staging.unmap();
        ctx.check()?;
        Ok(values)
    }
}

/// [`submit_and_read`] with a staging buffer made for this call (tests, one-off work).
pub async fn run(ctx: &GpuContext, dispatches: &[Dispatch], output: &GpuTensor) -> Result<Vec<f32>> {
    let staging = staging_buffer(&ctx.device, "read back", output.byte_len());
    submit_and_read(ctx, dispatches, output, &staging).await
}
