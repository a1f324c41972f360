//! The tensors the kernels read and write: f32 storage buffers with a shape.

use crate::{Error, Result};

/// Tensors are read and written by kernels, written by the host (inputs) and copied out.
pub(crate) const TENSOR_USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::COPY_DST).union(wgpu::BufferUsages::COPY_SRC);

/// An f32 tensor in a storage buffer, row-major (NCHW for images), or a channel slice of an
/// NCHW one: channels `channel_offset ..` of a buffer that holds `buffer_channels` per sample.
/// The UNet writes each skip into a slice of the up path's input, so that the up path reads
/// [h | skip] as one tensor and nothing is concatenated.
#[derive(Debug, Clone)]
pub struct GpuTensor {
    pub buffer: wgpu::Buffer,
    pub shape: Vec<usize>,
    pub channel_offset: usize,
    /// shape[1] for a whole NCHW tensor (and for other ranks, which are always whole).
    pub buffer_channels: usize,
}

impl GpuTensor {
    pub(crate) fn whole(buffer: wgpu::Buffer, shape: &[usize]) -> GpuTensor {
        let buffer_channels = shape.get(1).copied().unwrap_or(0);
        GpuTensor { buffer, shape: shape.to_vec(), channel_offset: 0, buffer_channels }
    }

    /// Channels `offset .. offset + count` of this whole NCHW tensor.
    pub fn channel_slice(&self, offset: usize, count: usize) -> Result<GpuTensor> {
        match *self.shape.as_slice() {
            [n, c, h, w] if self.is_whole() && offset + count <= c && count > 0 => {
                Ok(GpuTensor { buffer: self.buffer.clone(), shape: vec![n, count, h, w], channel_offset: offset, buffer_channels: c })
            }
            _ => Err(Error::Shape(format!("no slice of {count} channels from {offset} in a tensor of shape {:?}", self.shape))),
        }
    }

    /// Not a slice: the buffer holds exactly this tensor.
    pub fn is_whole(&self) -> bool {
        self.channel_offset == 0 && self.buffer_channels == self.shape.get(1).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes of a whole tensor (a slice's values are not contiguous).
    pub fn byte_len(&self) -> u64 {
        debug_assert!(self.is_whole(), "byte_len of a channel slice");
        (self.len() * 4) as u64
    }
}
