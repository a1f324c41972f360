//! The WGSL kernels (one file each under shaders/), their pipelines, and a small recording API:
//! a [`Recorder`] checks shapes, allocates the output, the uniform buffer and the bind group of
//! one operation and appends a [`Dispatch`]; [`run`] / [`submit_and_read`] execute a list of
//! dispatches in one compute pass. The plan (plan.rs) and the parity tests both build on it, so
//! the tests exercise exactly the code the model runs.

use bytemuck::{Pod, Zeroable};
use wgpu::util::DeviceExt;

use super::GpuContext;
use crate::{Error, Result};

/// Output channels computed per invocation in conv2d.wgsl (`COUT_TILE`).
const CONV_COUT_TILE: usize = 16;
/// Horizontally adjacent output pixels computed per invocation in conv2d.wgsl (`PIXEL_TILE`).
const CONV_PIXEL_TILE: usize = 4;
/// `WORKGROUP_SIZE` of every kernel except group_norm.wgsl.
const WORKGROUP_SIZE: usize = 64;
/// conv2d's automatic split-K factor (see [`conv_split`]) aims for at least this many
/// invocations per convolution: 128 workgroups of 64, about one per SM of a large GPU (132 on an
/// H100 / H200). Small batches otherwise leave the 4x4 and 8x8 layers only a few workgroups.
const CONV_MIN_INVOCATIONS: usize = 8192;
/// The largest split-K factor: one tile per workgroup, all 64 invocations on its reduction.
pub const CONV_MAX_SPLIT: usize = WORKGROUP_SIZE;
/// The automatic rule keeps at least this many input channels per split, so that the
/// reduction in workgroup memory stays small next to the taps each split accumulates.
const CONV_MIN_CHANNELS_PER_SPLIT: usize = 4;
/// Environment variable that overrides conv2d's split-K policy of a plan (natively only), for
/// measurements: a factor S for every convolution, or `auto` for [`conv_split`] even on a CPU
/// adapter. See [`plan_conv_split`].
pub const CONV_SPLIT_ENV: &str = "LAB_CONV_SPLIT";
/// attention.wgsl keeps q and the accumulator in private arrays of this size (in vec4s).
pub const ATTENTION_MAX_HEAD_DIM: usize = 64;
/// WebGPU's default `maxComputeWorkgroupsPerDimension`, which we request.
const MAX_WORKGROUPS_PER_DIMENSION: usize = 65_535;

/// Tensors are read and written by kernels, written by the host (inputs) and copied out.
const TENSOR_USAGE: wgpu::BufferUsages =
    wgpu::BufferUsages::STORAGE.union(wgpu::BufferUsages::COPY_DST).union(wgpu::BufferUsages::COPY_SRC);

/// An f32 tensor in a storage buffer, row-major (NCHW for images).
#[derive(Debug, Clone)]
pub struct GpuTensor {
    pub buffer: wgpu::Buffer,
    pub shape: Vec<usize>,
}

impl GpuTensor {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn byte_len(&self) -> u64 {
        (self.len() * 4) as u64
    }
}

/// One recorded kernel launch: everything it needs was created when it was recorded.
#[derive(Debug)]
pub struct Dispatch {
    pub label: String,
    /// The kernel's name ("conv2d", "group_norm", "linear", "attention", "concat",
    /// "timestep_embedding"), for profiles grouped by kernel.
    pub kind: &'static str,
    /// Floating-point operations, counted as `UNetConfig::flops_per_image` counts them: 2 per
    /// multiply-add of a convolution, linear layer or attention (scores and weighted sum), for the
    /// whole batch; bias and residual adds, norms, softmax and copies count 0. So a plan's
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

// ---- uniform parameter blocks: field for field the `Params` struct of each shader ----

/// A uniform block: the struct, and its fields as written, which the test
/// `params_match_the_shaders` compares with the shader's `struct Params` (names, types, order:
/// `_pad: [u32; N]` stands for the shader's `_pad0` … `_pad{N-1}`).
macro_rules! uniform_params {
    ($name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        #[repr(C)]
        #[derive(Clone, Copy, Pod, Zeroable)]
        struct $name {
            $($field: $ty),*
        }
        #[cfg(test)]
        impl $name {
            const FIELDS: &'static [(&'static str, &'static str)] = &[$((stringify!($field), stringify!($ty))),*];
        }
    };
}

uniform_params!(Conv2dParams {
    batch: u32,
    in_channels: u32,
    in_h: u32,
    in_w: u32,
    out_channels: u32,
    out_h: u32,
    out_w: u32,
    kernel: u32,
    stride: u32,
    padding: u32,
    upsample: u32,
    residual: u32,
    threads_x: u32,
    split: u32,
    _pad: [u32; 2],
});

uniform_params!(GroupNormParams { channels: u32, pixels: u32, groups: u32, film: u32, silu: u32, _pad: [u32; 3] });

uniform_params!(LinearParams { batch: u32, in_features: u32, out_features: u32, silu_input: u32, accumulate: u32, _pad: [u32; 3] });

uniform_params!(AttentionParams { batch: u32, heads: u32, head_dim: u32, pixels: u32, scale: f32, _pad: [u32; 3] });

uniform_params!(ConcatParams { batch: u32, channels_a: u32, channels_b: u32, pixels: u32, threads_x: u32, _pad: [u32; 3] });

uniform_params!(TimestepEmbeddingParams { batch: u32, half_dim: u32, _pad: [u32; 2] });

// Uniform blocks are laid out in 16-byte units; a size off by a field would read garbage.
const _: () = {
    assert!(std::mem::size_of::<Conv2dParams>() == 64);
    assert!(std::mem::size_of::<GroupNormParams>() == 32);
    assert!(std::mem::size_of::<LinearParams>() == 32);
    assert!(std::mem::size_of::<AttentionParams>() == 32);
    assert!(std::mem::size_of::<ConcatParams>() == 32);
    assert!(std::mem::size_of::<TimestepEmbeddingParams>() == 16);
};

/// A compute pipeline and its (shader-derived) bind group layout.
struct Kernel {
    name: &'static str,
    pipeline: wgpu::ComputePipeline,
    layout: wgpu::BindGroupLayout,
}

impl Kernel {
    fn new(device: &wgpu::Device, name: &'static str, source: &str) -> Kernel {
        Kernel::entry(device, name, &Kernel::module(device, name, source), "main", true)
    }

    fn module(device: &wgpu::Device, name: &str, source: &str) -> wgpu::ShaderModule {
        device.create_shader_module(wgpu::ShaderModuleDescriptor { label: Some(name), source: wgpu::ShaderSource::Wgsl(source.into()) })
    }

    /// The pipeline of one entry point; `zero_workgroup_memory: false` skips (natively) the
    /// zeroing WebGPU requires, for kernels that write their workgroup memory before reading it.
    fn entry(
        device: &wgpu::Device,
        name: &'static str,
        module: &wgpu::ShaderModule,
        entry_point: &str,
        zero_workgroup_memory: bool,
    ) -> Kernel {
        // layout: None derives the bind group layout from the shader's declarations.
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(name),
            layout: None,
            module,
            entry_point: Some(entry_point),
            compilation_options: wgpu::PipelineCompilationOptions {
                zero_initialize_workgroup_memory: zero_workgroup_memory,
                ..Default::default()
            },
            cache: None,
        });
        let layout = pipeline.get_bind_group_layout(0);
        Kernel { name, pipeline, layout }
    }
}

/// Every pipeline, compiled once per device.
pub struct Kernels {
    /// conv2d.wgsl's `main` (split factor S = 1) and, compiled on first use, `main_split`
    /// (S > 1): SwiftShader takes ~2 s to compile it (`main`: 0.13 s), and plans on CPU
    /// adapters never use it.
    conv2d: Kernel,
    conv2d_module: wgpu::ShaderModule,
    conv2d_split: std::sync::OnceLock<Kernel>,
    group_norm: Kernel,
    linear: Kernel,
    attention: Kernel,
    concat: Kernel,
    timestep_embedding: Kernel,
}

impl Kernels {
    pub fn new(device: &wgpu::Device) -> Kernels {
        let conv2d_module = Kernel::module(device, "conv2d", include_str!("shaders/conv2d.wgsl"));
        Kernels {
            conv2d: Kernel::entry(device, "conv2d", &conv2d_module, "main", true),
            conv2d_module,
            conv2d_split: std::sync::OnceLock::new(),
            group_norm: Kernel::new(device, "group_norm", include_str!("shaders/group_norm.wgsl")),
            linear: Kernel::new(device, "linear", include_str!("shaders/linear.wgsl")),
            attention: Kernel::new(device, "attention", include_str!("shaders/attention.wgsl")),
            concat: Kernel::new(device, "concat", include_str!("shaders/concat.wgsl")),
            timestep_embedding: Kernel::new(device, "timestep_embedding", include_str!("shaders/timestep_embedding.wgsl")),
        }
    }

    fn conv2d_split(&self, device: &wgpu::Device) -> &Kernel {
        self.conv2d_split.get_or_init(|| {
            // main_split writes all of its workgroup memory before the barrier, then reads it.
            Kernel::entry(device, "conv2d", &self.conv2d_module, "main_split", false)
        })
    }
}

/// A convolution's weights packed for conv2d.wgsl (see [`Recorder::conv_weights`]) and its bias.
#[derive(Debug, Clone)]
pub struct ConvWeights {
    pub packed: GpuTensor,
    pub bias: GpuTensor,
    pub out_channels: usize,
    pub in_channels: usize,
    pub kernel: usize,
}

/// Options of [`Recorder::conv2d`]; the default is stride 1, no padding, nothing fused.
#[derive(Debug, Clone, Copy)]
pub struct Conv2dOptions<'a> {
    pub stride: usize,
    pub padding: usize,
    /// Read the input nearest-upsampled 2x (`conv(F.interpolate(h, scale_factor=2))`).
    pub upsample: bool,
    /// Add this tensor (the output's shape) to the result.
    pub residual: Option<&'a GpuTensor>,
    /// The split-K factor S of conv2d.wgsl (a power of two, 1 to [`CONV_MAX_SPLIT`]); None:
    /// the recorder's override if set, else the automatic rule of [`conv_split`]. For tests and
    /// measurements: the result is the same up to float rounding.
    pub split: Option<usize>,
}

impl Default for Conv2dOptions<'_> {
    fn default() -> Self {
        Conv2dOptions { stride: 1, padding: 0, upsample: false, residual: None, split: None }
    }
}

/// conv2d's automatic split-K factor for `tiles` (sample, 16-channel tile, 4-pixel strip)
/// work items of `in_channels` each: the smallest power of two S with tiles × S ≥
/// [`CONV_MIN_INVOCATIONS`], but at most [`CONV_MAX_SPLIT`] and at most in_channels / 4 (at
/// least 1). Large batches and large layers get S = 1. Plans on CPU adapters use S = 1
/// throughout ([`plan_conv_split`]).
pub fn conv_split(tiles: usize, in_channels: usize) -> usize {
    let mut split = 1;
    while tiles * split < CONV_MIN_INVOCATIONS && split * 2 <= CONV_MAX_SPLIT && split * 2 * CONV_MIN_CHANNELS_PER_SPLIT <= in_channels {
        split *= 2;
    }
    split
}

/// The split-K factor a plan forces on every convolution ([`Recorder::set_conv_split`]), None
/// for the automatic [`conv_split`]: on CPU adapters 1, on GPUs None. The split is for GPUs
/// whose many cores a small batch leaves idle; a CPU adapter's few cores are busy without it,
/// and its barrier and reduction cost lavapipe 20-35 % per image and SwiftShader (the browser's
/// fallback adapter) ~2.6x per 3x3 convolution. [`CONV_SPLIT_ENV`] overrides this (in the browser it is unset).
pub fn plan_conv_split(software_adapter: bool) -> Result<Option<usize>> {
    let text = std::env::var(CONV_SPLIT_ENV).ok();
    match text.as_deref().map(str::trim) {
        None => Ok(software_adapter.then_some(1)),
        Some("auto") => Ok(None),
        Some(value) => match value.parse::<usize>() {
            Ok(split) if valid_split(split) => Ok(Some(split)),
            _ => Err(Error::Input(format!("{CONV_SPLIT_ENV}={value:?}: expected auto or a power of two from 1 to {CONV_MAX_SPLIT}"))),
        },
    }
}

fn valid_split(split: usize) -> bool {
    split.is_power_of_two() && split <= CONV_MAX_SPLIT
}

/// Options of [`Recorder::group_norm`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupNormOptions<'a> {
    pub groups: usize,
    /// (N, 2*C): per-sample scales then shifts, applied as `y * (1 + scale) + shift`.
    pub film: Option<&'a GpuTensor>,
    /// Apply SiLU at the end.
    pub silu: bool,
}

/// Options of [`Recorder::linear`].
#[derive(Debug, Clone, Copy, Default)]
pub struct LinearOptions<'a> {
    /// Apply SiLU to the input first.
    pub silu_input: bool,
    /// Add the result to this (batch, out) tensor instead of writing a new one.
    pub accumulate_into: Option<&'a GpuTensor>,
}

/// Records operations: validates shapes, creates each output buffer, uniform buffer and bind
/// group once, and collects the dispatches in order.
pub struct Recorder<'a> {
    device: &'a wgpu::Device,
    kernels: &'a Kernels,
    dispatches: Vec<Dispatch>,
    allocated_bytes: u64,
    /// Forces conv2d's split-K factor where the options name none (see [`Conv2dOptions::split`]).
    conv_split: Option<usize>,
    /// Bound where a kernel's optional input (residual, FiLM) is switched off: WebGPU needs
    /// every declared binding bound.
    placeholder: wgpu::Buffer,
}

fn shape_error(op: &str, label: &str, message: String) -> Error {
    Error::Shape(format!("{op} `{label}`: {message}"))
}

fn to_u32(op: &str, label: &str, value: usize) -> Result<u32> {
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
        Recorder { device, kernels, dispatches, allocated_bytes: 16, conv_split: None, placeholder }
    }

    /// Forces the split-K factor of the convolutions recorded from now on (None: automatic);
    /// checked when a convolution is recorded.
    pub fn set_conv_split(&mut self, split: Option<usize>) {
        self.conv_split = split;
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
        Ok(GpuTensor { buffer, shape: shape.to_vec() })
    }

    /// An uninitialised storage tensor (intermediate results, inputs written per call).
    pub fn tensor(&mut self, label: &str, shape: &[usize]) -> GpuTensor {
        let len: usize = shape.iter().product();
        // Zero-sized bindings are invalid; such a tensor only ever occurs in a broken config.
        let size = (len.max(1) * 4) as u64;
        self.allocated_bytes += size;
        let buffer =
            self.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size, usage: TENSOR_USAGE, mapped_at_creation: false });
        GpuTensor { buffer, shape: shape.to_vec() }
    }

    fn push<P: Pod>(&mut self, label: &str, kernel: &Kernel, params: &P, buffers: &[&wgpu::Buffer], workgroups: [u32; 3], flops: u64) {
        let uniform = self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM,
        });
        self.allocated_bytes += std::mem::size_of::<P>() as u64;
        let mut entries = vec![wgpu::BindGroupEntry { binding: 0, resource: uniform.as_entire_binding() }];
        for (i, buffer) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry { binding: i as u32 + 1, resource: buffer.as_entire_binding() });
        }
        let bind_group =
            self.device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(label), layout: &kernel.layout, entries: &entries });
        self.dispatches.push(Dispatch {
            label: label.to_string(),
            kind: kernel.name,
            flops,
            pipeline: kernel.pipeline.clone(),
            bind_group,
            workgroups,
        });
    }

    /// Packs a convolution's PyTorch-layout weight (cout, cin, k, k) and bias (cout) for
    /// conv2d.wgsl: tiles of 16 output channels, (ceil(cout/16), cin, k, k, 16), zero-padded.
    pub fn conv_weights(&mut self, label: &str, weight: &[f32], shape: &[usize], bias: &[f32]) -> Result<ConvWeights> {
        let err = |m: String| shape_error("conv_weights", label, m);
        let &[out_channels, in_channels, kernel, kernel_w] = shape else {
            return Err(err(format!("weight shape {shape:?} is not (cout, cin, k, k)")));
        };
        if kernel != kernel_w || kernel == 0 {
            return Err(err(format!("weight shape {shape:?}: only square kernels are supported")));
        }
        if weight.len() != shape.iter().product::<usize>() || bias.len() != out_channels {
            return Err(err(format!("{} weights / {} biases do not fit shape {shape:?}", weight.len(), bias.len())));
        }
        let taps = in_channels * kernel * kernel; // weights per output channel
        let tiles = out_channels.div_ceil(CONV_COUT_TILE);
        let mut packed = vec![0.0f32; tiles * taps * CONV_COUT_TILE];
        for co in 0..out_channels {
            let (tile, lane) = (co / CONV_COUT_TILE, co % CONV_COUT_TILE);
            for tap in 0..taps {
                packed[(tile * taps + tap) * CONV_COUT_TILE + lane] = weight[co * taps + tap];
            }
        }
        Ok(ConvWeights {
            packed: self.upload(label, &packed, &[tiles, in_channels, kernel, kernel, CONV_COUT_TILE])?,
            bias: self.upload(&format!("{label}.bias"), bias, &[out_channels])?,
            out_channels,
            in_channels,
            kernel,
        })
    }

    /// 2-D convolution of an (N, Cin, H, W) input with weights from [`Recorder::conv_weights`].
    pub fn conv2d(&mut self, label: &str, input: &GpuTensor, weights: &ConvWeights, options: Conv2dOptions<'_>) -> Result<GpuTensor> {
        let op = "conv2d";
        // A copy of the shared reference, so that `self` stays free to be borrowed mutably.
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        let &[batch, in_channels, in_h, in_w] = input.shape.as_slice() else {
            return Err(err(format!("input shape {:?} is not NCHW", input.shape)));
        };
        let ConvWeights { out_channels, kernel, .. } = *weights;
        if weights.in_channels != in_channels {
            return Err(err(format!(
                "the weights expect {} input channels, the input {:?} has {in_channels}",
                weights.in_channels, input.shape
            )));
        }
        let stride = options.stride;
        if stride == 0 {
            return Err(err("stride must be at least 1".into()));
        }
        let scale = if options.upsample { 2 } else { 1 };
        let (logical_h, logical_w) = (in_h * scale, in_w * scale);
        if logical_h + 2 * options.padding < kernel || logical_w + 2 * options.padding < kernel {
            return Err(err(format!("kernel {kernel} is larger than the padded input {:?}", input.shape)));
        }
        let out_h = (logical_h + 2 * options.padding - kernel) / stride + 1;
        let out_w = (logical_w + 2 * options.padding - kernel) / stride + 1;
        let out_shape = [batch, out_channels, out_h, out_w];
        if let Some(residual) = options.residual {
            if residual.shape != out_shape {
                return Err(err(format!("residual {:?} should be {out_shape:?}", residual.shape)));
            }
        }
        // `split` invocations per (sample, channel tile, pixel tile), see conv2d.wgsl.
        let pixel_tiles = out_h * out_w.div_ceil(CONV_PIXEL_TILE);
        let tiles = batch * out_channels.div_ceil(CONV_COUT_TILE) * pixel_tiles;
        let split = options.split.or(self.conv_split).unwrap_or_else(|| conv_split(tiles, in_channels));
        if !valid_split(split) {
            return Err(err(format!("split-K factor {split} is not a power of two from 1 to {CONV_MAX_SPLIT}")));
        }
        let output = self.tensor(label, &out_shape);
        let (workgroups, threads_x) = grid_2d(op, label, tiles * split)?;
        let params = Conv2dParams {
            batch: to_u32(op, label, batch)?,
            in_channels: to_u32(op, label, in_channels)?,
            in_h: to_u32(op, label, in_h)?,
            in_w: to_u32(op, label, in_w)?,
            out_channels: to_u32(op, label, out_channels)?,
            out_h: to_u32(op, label, out_h)?,
            out_w: to_u32(op, label, out_w)?,
            kernel: to_u32(op, label, kernel)?,
            stride: to_u32(op, label, stride)?,
            padding: to_u32(op, label, options.padding)?,
            upsample: options.upsample as u32,
            residual: options.residual.is_some() as u32,
            threads_x,
            split: split as u32,
            _pad: [0; 2],
        };
        let residual = options.residual.map_or(&self.placeholder, |r| &r.buffer).clone();
        // one multiply-add per output value and tap (the zero padding included, as counted)
        let flops = 2 * (output.len() * in_channels * kernel * kernel) as u64;
        self.push(
            label,
            if split == 1 { &kernels.conv2d } else { kernels.conv2d_split(self.device) },
            &params,
            &[&input.buffer, &weights.packed.buffer, &weights.bias.buffer, &residual, &output.buffer],
            workgroups,
            flops,
        );
        Ok(output)
    }

    /// Group normalisation of (N, C, H, W) with gamma, beta (C), optional FiLM and SiLU.
    pub fn group_norm(
        &mut self,
        label: &str,
        input: &GpuTensor,
        gamma: &GpuTensor,
        beta: &GpuTensor,
        options: GroupNormOptions<'_>,
    ) -> Result<GpuTensor> {
        let op = "group_norm";
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        let &[batch, channels, h, w] = input.shape.as_slice() else {
            return Err(err(format!("input shape {:?} is not NCHW", input.shape)));
        };
        if options.groups == 0 || channels % options.groups != 0 {
            return Err(err(format!("{channels} channels do not split into {} groups", options.groups)));
        }
        if gamma.shape != [channels] || beta.shape != [channels] {
            return Err(err(format!("gamma {:?} / beta {:?} should be [{channels}]", gamma.shape, beta.shape)));
        }
        if let Some(film) = options.film {
            if film.shape != [batch, 2 * channels] {
                return Err(err(format!("FiLM {:?} should be [{batch}, {}]", film.shape, 2 * channels)));
            }
        }
        let workgroup_count = batch * options.groups;
        if workgroup_count > MAX_WORKGROUPS_PER_DIMENSION {
            return Err(err(format!("{workgroup_count} (sample, group) pairs exceed one dispatch")));
        }
        let output = self.tensor(label, &input.shape);
        let params = GroupNormParams {
            channels: to_u32(op, label, channels)?,
            pixels: to_u32(op, label, h * w)?,
            groups: to_u32(op, label, options.groups)?,
            film: options.film.is_some() as u32,
            silu: options.silu as u32,
            _pad: [0; 3],
        };
        let film = options.film.map_or(&self.placeholder, |f| &f.buffer).clone();
        self.push(
            label,
            &kernels.group_norm,
            &params,
            &[&input.buffer, &gamma.buffer, &beta.buffer, &film, &output.buffer],
            [workgroup_count as u32, 1, 1],
            0, // no multiply-adds counted: a few operations per value, memory-bound
        );
        Ok(output)
    }

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

    /// Multi-head self-attention from the qkv projection (N, 3*C, H, W) → (N, C, H, W).
    pub fn attention(&mut self, label: &str, qkv: &GpuTensor, heads: usize) -> Result<GpuTensor> {
        let op = "attention";
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
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

/// Workgroups for one invocation per item along x.
fn grid_1d(op: &str, label: &str, items: usize) -> Result<[u32; 3]> {
    let groups = items.div_ceil(WORKGROUP_SIZE);
    if groups > MAX_WORKGROUPS_PER_DIMENSION {
        return Err(shape_error(op, label, format!("{items} invocations exceed one dispatch row")));
    }
    Ok([groups as u32, 1, 1])
}

/// Workgroups for one invocation per item, folded into rows of at most 65535 workgroups; also
/// returns the invocations per row, from which the shader rebuilds the linear index.
fn grid_2d(op: &str, label: &str, items: usize) -> Result<([u32; 3], u32)> {
    let groups = items.div_ceil(WORKGROUP_SIZE).max(1);
    let x = groups.min(MAX_WORKGROUPS_PER_DIMENSION);
    let y = groups.div_ceil(x);
    if y > MAX_WORKGROUPS_PER_DIMENSION {
        return Err(shape_error(op, label, format!("{items} invocations exceed one dispatch")));
    }
    Ok(([x as u32, y as u32, 1], to_u32(op, label, x * WORKGROUP_SIZE)?))
}

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

/// [`submit_and_read`] with a staging buffer made for this call (tests, one-off work).
pub async fn run(ctx: &GpuContext, dispatches: &[Dispatch], output: &GpuTensor) -> Result<Vec<f32>> {
    let staging = staging_buffer(&ctx.device, "read back", output.byte_len());
    submit_and_read(ctx, dispatches, output, &staging).await
}

/// Encodes `dispatches`, in order, `reps` times in one compute pass, submits once and waits for
/// the GPU; returns the seconds from the submit to completion (encoding left out). For
/// `lab profile`: with enough repetitions the submit and wait overhead is spread thin, so the
/// time per repetition approaches the kernels' steady-state time. Native only: in the browser
/// nothing can wait for the GPU synchronously.
#[cfg(not(target_arch = "wasm32"))]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `struct Params` of a shader as (name, type) pairs.
    fn shader_params(source: &str) -> Vec<(String, String)> {
        let body = &source[source.find("struct Params {").expect("the shader declares struct Params") + 15..];
        body[..body.find('}').unwrap()]
            .lines()
            .map(|line| line.split("//").next().unwrap().trim().trim_end_matches(','))
            .filter(|line| !line.is_empty())
            .map(|line| {
                let (name, ty) = line.split_once(':').unwrap();
                (name.trim().to_string(), ty.trim().to_string())
            })
            .collect()
    }

    /// The Rust fields with `[u32; N]` padding spelled out as the shaders write it.
    fn rust_params(fields: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, ty) in fields {
            let ty = ty.replace(' ', "");
            match ty.strip_prefix("[u32;").and_then(|n| n.strip_suffix(']')) {
                Some(n) => (0..n.parse().unwrap()).for_each(|i| out.push((format!("{name}{i}"), "u32".to_string()))),
                None => out.push((name.to_string(), ty)),
            }
        }
        out
    }

    #[test]
    fn params_match_the_shaders() {
        for (shader, source, fields) in [
            ("conv2d", include_str!("shaders/conv2d.wgsl"), Conv2dParams::FIELDS),
            ("group_norm", include_str!("shaders/group_norm.wgsl"), GroupNormParams::FIELDS),
            ("linear", include_str!("shaders/linear.wgsl"), LinearParams::FIELDS),
            ("attention", include_str!("shaders/attention.wgsl"), AttentionParams::FIELDS),
            ("concat", include_str!("shaders/concat.wgsl"), ConcatParams::FIELDS),
            ("timestep_embedding", include_str!("shaders/timestep_embedding.wgsl"), TimestepEmbeddingParams::FIELDS),
        ] {
            assert_eq!(rust_params(fields), shader_params(source), "{shader}.wgsl's Params and the Rust struct differ");
        }
    }
}
