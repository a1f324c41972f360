//! The recording API the plan (plan.rs) and the parity tests share, so that the tests exercise
//! exactly the code the model runs: a [`Recorder`] checks shapes, allocates the output, the
//! uniform buffer and the bind group of one operation and appends a [`Dispatch`]; the ops
//! themselves (one file each under ops/) add their methods to it.

use bytemuck::Pod;
use wgpu::util::DeviceExt;

use super::kernels::{Kernel, Kernels};
use super::tensor::{GpuTensor, TENSOR_USAGE};
use super::GpuContext;
use crate::{Error, Result};

/// `WORKGROUP_SIZE` of every kernel except group_norm.wgsl.
pub(crate) const WORKGROUP_SIZE: usize = 64;
/// WebGPU's default `maxComputeWorkgroupsPerDimension`, which we request.
pub(crate) const MAX_WORKGROUPS_PER_DIMENSION: usize = 65_535;

/// One recorded kernel launch: everything it needs was created when it was recorded.
#[derive(Debug)]
pub struct Dispatch {
    pub label: String,
    /// The kernel's name ("conv2d", "group_norm", "condition", "attention"), for profiles
    /// grouped by kernel.
    pub kind: &'static str,
    /// Floating-point operations, counted as `UNetConfig::flops_per_image` counts them: 2 per
    /// multiply-add of a convolution, linear layer (in condition) or attention (scores and weighted sum), for the
    /// whole batch; bias and residual adds, norms and softmax count 0. So a plan's
    /// dispatches add up to batch × `flops_per_image`.
    pub flops: u64,
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
}

impl Dispatch {
    pub fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        let [x, y, z] = self.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
}

/// A uniform block: the struct, and its fields as written, which the test
/// `params_match_the_shaders` compares with the shader's `struct Params` (names, types, order:
/// `_pad: [u32; N]` stands for the shader's `_pad0` … `_pad{N-1}`).
macro_rules! uniform_params {
    ($name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        #[repr(C)]
        #[derive(Clone, Copy, Pod, Zeroable)]
        pub(super) struct $name {
            $($field: $ty),*
        }
        #[cfg(test)]
        impl $name {
            pub(super) const FIELDS: &'static [(&'static str, &'static str)] = &[$((stringify!($field), stringify!($ty))),*];
        }
    };
}

pub(crate) use uniform_params;

/// Records operations: validates shapes, creates each output buffer, uniform buffer and bind
/// group once, and collects the dispatches in order.
pub struct Recorder<'a> {
    pub(crate) device: &'a wgpu::Device,
    pub(crate) kernels: &'a Kernels,
    dispatches: Vec<Dispatch>,
    allocated_bytes: u64,
    /// Forces conv2d's split-K factor where the options name none (see [`Conv2dOptions::split`]).
    pub(crate) conv_split: Option<usize>,
    /// A CPU adapter (lavapipe, SwiftShader): ops that spread small work over many workgroups
    /// for a GPU's many cores keep it together there.
    pub(crate) software_adapter: bool,
    /// conv2d applies an input's group norm itself where it can (else a group_norm dispatch
    /// runs first).
    pub(crate) fuse_input_norms: bool,
    /// Bound where a kernel's optional input (residual, FiLM) is switched off: WebGPU needs
    /// every declared binding bound.
    pub(crate) placeholder: wgpu::Buffer,
}

pub(crate) fn shape_error(op: &str, label: &str, message: String) -> Error {
    Error::Shape(format!("{op} `{label}`: {message}"))
}

/// An error unless every tensor is whole: the ops other than conv2d and group_norm read and
/// write whole tensors only.
pub(crate) fn expect_whole(op: &str, label: &str, tensors: &[(&str, &GpuTensor)]) -> Result<()> {
    match tensors.iter().find(|(_, t)| !t.is_whole()) {
        Some((name, _)) => Err(shape_error(op, label, format!("{name} is a channel slice; {op} reads whole tensors"))),
        None => Ok(()),
    }
}

pub(crate) fn to_u32(op: &str, label: &str, value: usize) -> Result<u32> {
    u32::try_from(value).map_err(|_| shape_error(op, label, format!("size {value} exceeds u32")))
}

impl<'a> Recorder<'a> {
    /// Records on `ctx`'s device with its shared pipelines ([`GpuContext::kernels`]).
    pub fn new(ctx: &'a GpuContext) -> Recorder<'a> {
        let (device, kernels) = (&ctx.device, ctx.kernels());
        let placeholder = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("unused optional input"),
            size: 16,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let dispatches = Vec::new();
        let software_adapter = ctx.is_software();
        Recorder {
            device,
            kernels,
            dispatches,
            allocated_bytes: 16,
            conv_split: None,
            software_adapter,
            fuse_input_norms: true,
            placeholder,
        }
    }

    /// Forces the split-K factor of the convolutions recorded from now on (None: automatic);
    /// checked when a convolution is recorded.
    pub fn set_conv_split(&mut self, split: Option<usize>) {
        self.conv_split = split;
    }

    /// Whether conv2d normalises its input itself where it can (true, the default) or always
    /// leaves that to a group_norm dispatch before it (`Conv2dOptions::norm`).
    pub fn set_fuse_input_norms(&mut self, fuse: bool) {
        self.fuse_input_norms = fuse;
    }

    /// Records as for a CPU adapter (true) or a GPU (false) whatever the device is, so that a
    /// test on lavapipe runs the GPU's work split too.
    pub fn set_software_adapter(&mut self, software: bool) {
        self.software_adapter = software;
    }

    /// The recorded dispatches and the bytes of every buffer created on the way.
    pub fn finish(self) -> (Vec<Dispatch>, u64) {
        (self.dispatches, self.allocated_bytes)
    }

    /// A storage tensor with the given contents (weights, test inputs).
    pub fn upload(&mut self, label: &str, data: &[f32], shape: &[usize]) -> Result<GpuTensor> {
        let len: usize = shape.iter().product();
        if data.len() != len {
            return Err(shape_error("upload", label, format!("{} values for shape {shape:?} ({len} values)", data.len())));
        }
        // Filled at creation (mapped), so recording needs no queue and no ordering care.
        self.allocated_bytes += (data.len() * 4) as u64;
        let buffer = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(data),
            usage: TENSOR_USAGE,
        });
        Ok(GpuTensor::whole(buffer, shape))
    }

    /// An uninitialised storage tensor (intermediate results, inputs written per call).
    pub fn tensor(&mut self, label: &str, shape: &[usize]) -> GpuTensor {
        let len: usize = shape.iter().product();
        // Zero-sized bindings are invalid; such a tensor only ever occurs in a broken config.
        let size = (len.max(1) * 4) as u64;
        self.allocated_bytes += size;
        let buffer =
            self.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage: TENSOR_USAGE, mapped_at_creation: false });
        GpuTensor::whole(buffer, shape)
    }

    pub(crate) fn push<P: Pod>(
        &mut self,
        label: &str,
        kernel: &Kernel,
        params: &P,
        buffers: &[&wgpu::Buffer],
        workgroups: [u32; 3],
        flops: u64,
    ) {
        let uniform = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        self.allocated_bytes += std::mem::size_of::<P>() as u64;
        let dispatch = self.dispatch(label, kernel, &uniform, buffers, workgroups, flops);
        self.dispatches.push(dispatch);
    }

    /// A dispatch of `kernel` with `uniform` at binding 0 and `buffers` from binding 1 on, not
    /// added to the recorded list (for work run apart from it, such as the sampler's step).
    pub(crate) fn dispatch(
        &self,
        label: &str,
        kernel: &Kernel,
        uniform: &wgpu::Buffer,
        buffers: &[&wgpu::Buffer],
        workgroups: [u32; 3],
        flops: u64,
    ) -> Dispatch {
        let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
        for (i, buffer) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry { binding: i as u32 + 1, resource: buffer.as_entire_binding() });
        }
        let bind_group =
            self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout: &kernel.layout, entries: &entries });
        Dispatch { label: label.to_string(), kind: kernel.name, flops, pipeline: kernel.pipeline.clone(), bind_group, workgroups }
    }

    /// A uniform buffer the host rewrites between submits, counted in the plan's bytes.
    pub(crate) fn writable_uniform(&mut self, label: &str, bytes: u64) -> wgpu::Buffer {
        self.allocated_bytes += bytes;
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: bytes,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        })
    }
}

/// Workgroups for one invocation per item along x.
pub(crate) fn grid_1d(op: &str, label: &str, items: usize) -> Result<[u32; 3]> {
    let groups = items.div_ceil(WORKGROUP_SIZE);
    if groups > MAX_WORKGROUPS_PER_DIMENSION {
        return Err(shape_error(op, label, format!("{items} invocations exceed one dispatch row")));
    }
    Ok([groups as u32, 1, 1])
}

/// Workgroups for one invocation per item, folded into rows of at most 65535 workgroups; also
/// returns the invocations per row, from which the shader rebuilds the linear index.
pub(crate) fn grid_2d(op: &str, label: &str, items: usize) -> Result<([u32; 3], u32)> {
    let groups = items.div_ceil(WORKGROUP_SIZE).max(1);
    let x = groups.min(MAX_WORKGROUPS_PER_DIMENSION);
    let y = groups.div_ceil(x);
    if y > MAX_WORKGROUPS_PER_DIMENSION {
        return Err(shape_error(op, label, format!("{items} invocations exceed one dispatch")));
    }
    Ok(([x as u32, y as u32, 1], to_u32(op, label, x * WORKGROUP_SIZE)?))
}
