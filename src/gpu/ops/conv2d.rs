//! 2-D convolution (shaders/conv2d.wgsl): weights packed in tiles of 16 output channels, an
//! optional group norm (+ FiLM, SiLU) of the input, nearest 2x upsampling of the input, residual
//! add and second 1×1-convolved input, and a split-K factor for small batches on large GPUs.

use super::group_norm::{check_norm, InputNorm};
use crate::gpu::recorder::{grid_2d, shape_error, to_u32, uniform_params, Recorder, WORKGROUP_SIZE};
use crate::gpu::tensor::GpuTensor;
use crate::Error;
use crate::Result;
use bytemuck::{Pod, Zeroable};

/// Output channels computed per invocation in conv2d.wgsl (`COUT_TILE`).
const CONV_COUT_TILE: usize = 16;
/// Horizontally adjacent output pixels computed per invocation in conv2d.wgsl (`PIXEL_TILE`).
const CONV_PIXEL_TILE: usize = 4;
/// conv2d's automatic split-K factor (see [`conv_split`]) aims for at least this many
/// invocations per convolution: 128 workgroups of 64, about one per SM of a large GPU (132 on an
/// H100 / H200). Small batches otherwise leave the 4x4 and 8x8 layers only a few workgroups.
const CONV_MIN_INVOCATIONS: usize = 8192;
/// The largest split-K factor: one tile per workgroup, all 64 invocations on its reduction.
pub const CONV_MAX_SPLIT: usize = crate::gpu::recorder::WORKGROUP_SIZE;
/// The automatic rule keeps at least this many input channels per split, so that the
/// reduction in workgroup memory stays small next to the taps each split accumulates.
const CONV_MIN_CHANNELS_PER_SPLIT: usize = 4;
/// Environment variable that overrides conv2d's split-K policy of a plan (natively only), for
/// measurements: a factor S for every convolution, or `auto` for [`conv_split`] even on a CPU
/// adapter. See [`plan_conv_split`].
pub const CONV_SPLIT_ENV: &str = "LAB_CONV_SPLIT";
/// Environment variable that overrides whether a plan's convolutions normalise their inputs
/// themselves (natively only, for measurements): `1` yes, `0` a group_norm dispatch before each.
pub const FUSE_NORMS_ENV: &str = "LAB_FUSE_NORMS";
/// The most input channels conv2d.wgsl normalises itself: its workgroup memory holds two
/// vec4 rows of 64 for the statistics, then one vec4 of coefficients per channel.
const CONV_NORM_MAX_CHANNELS: usize = 16 * WORKGROUP_SIZE - 2 * WORKGROUP_SIZE;

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
    in_offset: u32,
    in_stride: u32,
    out_offset: u32,
    out_stride: u32,
    res_offset: u32,
    res_stride: u32,
    second_channels: u32,
    second_offset: u32,
    second_stride: u32,
    norm: u32,
    norm_groups: u32,
    norm_film: u32,
    norm_silu: u32,
    film_offset: u32,
    film_stride: u32,
    _pad: [u32; 3],
});

// uniform blocks are laid out in 16-byte units; a size off by a field would read garbage
const _: () = assert!(std::mem::size_of::<Conv2dParams>() == 128);

/// A convolution's weights packed for conv2d.wgsl (see [`Recorder::conv_weights`]) and its bias.
#[derive(Debug, Clone)]
pub struct ConvWeights {
    pub packed: GpuTensor,
    pub bias: GpuTensor,
    pub out_channels: usize,
    pub in_channels: usize,
    pub kernel: usize,
    /// Input channels of the 1×1 convolution of a second input packed behind the first
    /// ([`Recorder::conv_weights_with_second`]); 0: none.
    pub second_in_channels: usize,
}

/// One convolution layer as PyTorch stores it: weight (cout, cin, k, k) and bias (cout).
#[derive(Debug, Clone, Copy)]
pub struct ConvLayer<'a> {
    pub weight: &'a [f32],
    pub shape: &'a [usize],
    pub bias: &'a [f32],
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
    /// Write the result into this tensor of the output's shape (a channel slice of a larger
    /// one, where a skip goes) instead of a new one.
    pub output: Option<&'a GpuTensor>,
    /// The second input of weights from [`Recorder::conv_weights_with_second`] (and only of
    /// those): (N, second_in_channels, out_h, out_w), convolved 1×1 and added.
    pub second: Option<&'a GpuTensor>,
    /// Group-normalise the input first (`conv(silu(norm(input)))`), in the same dispatch where
    /// the recorder allows it ([`Recorder::set_fuse_input_norms`]) and each workgroup's tiles
    /// belong to one sample, else with a group_norm dispatch before.
    pub norm: Option<InputNorm<'a>>,
    /// The split-K factor S of conv2d.wgsl (a power of two, 1 to [`CONV_MAX_SPLIT`]); None:
    /// the recorder's override if set, else the automatic rule of [`conv_split`]. For tests and
    /// measurements: the result is the same up to float rounding.
    pub split: Option<usize>,
}

impl Default for Conv2dOptions<'_> {
    fn default() -> Self {
        Conv2dOptions { stride: 1, padding: 0, upsample: false, residual: None, output: None, second: None, norm: None, split: None }
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

/// Whether a plan's convolutions normalise their inputs themselves
/// ([`Recorder::set_fuse_input_norms`]): yes unless [`FUSE_NORMS_ENV`] says otherwise.
pub fn plan_fuse_norms() -> Result<bool> {
    match std::env::var(FUSE_NORMS_ENV).ok().as_deref().map(str::trim) {
        None | Some("1") => Ok(true),
        Some("0") => Ok(false),
        Some(value) => Err(Error::Input(format!("{FUSE_NORMS_ENV}={value:?}: expected 0 or 1"))),
    }
}

fn valid_split(split: usize) -> bool {
    split.is_power_of_two() && split <= CONV_MAX_SPLIT
}

impl Recorder<'_> {
    /// Packs a convolution's PyTorch-layout weight (cout, cin, k, k) and bias (cout) for
    /// conv2d.wgsl: tiles of 16 output channels, (ceil(cout/16), cin, k, k, 16), zero-padded.
    pub fn conv_weights(&mut self, label: &str, weight: &[f32], shape: &[usize], bias: &[f32]) -> Result<ConvWeights> {
        self.pack_conv(label, ConvLayer { weight, shape, bias }, None)
    }

    /// [`Recorder::conv_weights`] of `layer` followed by the 1×1 `second` layer (cout, cin2,
    /// 1, 1) in the same layout, and the two biases summed: conv2d then computes
    /// `layer(input) + second(options.second)` in one dispatch (a ResBlock's conv2 and skip).
    pub fn conv_weights_with_second(&mut self, label: &str, layer: ConvLayer<'_>, second: ConvLayer<'_>) -> Result<ConvWeights> {
        self.pack_conv(label, layer, Some(second))
    }

    fn pack_conv(&mut self, label: &str, layer: ConvLayer<'_>, second: Option<ConvLayer<'_>>) -> Result<ConvWeights> {
        let err = |m: String| shape_error("conv_weights", label, m);
        let check = |l: &ConvLayer<'_>| -> Result<[usize; 3]> {
            let (shape, weight, bias) = (l.shape, l.weight, l.bias);
            let &[out_channels, in_channels, kernel, kernel_w] = shape else {
                return Err(err(format!("weight shape {shape:?} is not (cout, cin, k, k)")));
            };
            if kernel != kernel_w || kernel == 0 {
                return Err(err(format!("weight shape {shape:?}: only square kernels are supported")));
            }
            if weight.len() != shape.iter().product::<usize>() || bias.len() != out_channels {
                return Err(err(format!("{} weights / {} biases do not fit shape {shape:?}", weight.len(), bias.len())));
            }
            Ok([out_channels, in_channels, kernel])
        };
        let [out_channels, in_channels, kernel] = check(&layer)?;
        let second_in_channels = match &second {
            None => 0,
            Some(s) => match check(s)? {
                [cout, cin, 1] if cout == out_channels => cin,
                _ => return Err(err(format!("the second layer {:?} should be ({out_channels}, cin, 1, 1)", s.shape))),
            },
        };
        let tiles = out_channels.div_ceil(CONV_COUT_TILE);
        let mut packed = Vec::new();
        let mut bias = layer.bias.to_vec();
        for l in std::iter::once(&layer).chain(&second) {
            let taps: usize = l.shape[1..].iter().product(); // weights per output channel
            let start = packed.len();
            packed.resize(start + tiles * taps * CONV_COUT_TILE, 0.0);
            for co in 0..out_channels {
                let (tile, lane) = (co / CONV_COUT_TILE, co % CONV_COUT_TILE);
                for tap in 0..taps {
                    packed[start + (tile * taps + tap) * CONV_COUT_TILE + lane] = l.weight[co * taps + tap];
                }
            }
        }
        if let Some(s) = &second {
            bias.iter_mut().zip(s.bias).for_each(|(b, s)| *b += s);
        }
        // (tiles, cin, k, k, 16) then (tiles, cin2, 16): one row of 16 per tile and tap
        let rows = tiles * (in_channels * kernel * kernel + second_in_channels);
        Ok(ConvWeights {
            packed: self.upload(label, &packed, &[rows, CONV_COUT_TILE])?,
            bias: self.upload(&format!("{label}.bias"), &bias, &[out_channels])?,
            out_channels,
            in_channels,
            kernel,
            second_in_channels,
        })
    }

    /// 2-D convolution of an (N, Cin, H, W) input with weights from [`Recorder::conv_weights`]
    /// (or [`Recorder::conv_weights_with_second`] and a second input); the inputs, the residual
    /// and the output may be channel slices.
    pub fn conv2d(&mut self, label: &str, input: &GpuTensor, weights: &ConvWeights, options: Conv2dOptions<'_>) -> Result<GpuTensor> {
        let op = "conv2d";
        // A copy of the shared reference, so that `self` stays free to be borrowed mutably.
        let kernels = self.kernels;
        let err = |m: String| shape_error(op, label, m);
        let &[batch, in_channels, in_h, in_w] = input.shape.as_slice() else {
            return Err(err(format!("input shape {:?} is not NCHW", input.shape)));
        };
        let ConvWeights { out_channels, kernel, second_in_channels, .. } = *weights;
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
        let second_shape = [batch, second_in_channels, out_h, out_w];
        match options.second {
            Some(second) if second_in_channels == 0 => {
                return Err(err(format!("a second input {:?} was given, but the weights have no second layer", second.shape)));
            }
            Some(second) if second.shape != second_shape => {
                return Err(err(format!("second input {:?} should be {second_shape:?} (1×1 at the output's size)", second.shape)));
            }
            None if second_in_channels > 0 => {
                return Err(err(format!("the weights' second layer needs a second input of shape {second_shape:?}")));
            }
            _ => {}
        }
        // `split` invocations per (sample, channel tile, pixel tile), see conv2d.wgsl; each takes
        // its share of both inputs' channels. The main input's k×k taps are most of the work, so
        // its channel count bounds the split (at least 4 per split, as documented at conv_split).
        let pixel_tiles = out_h * out_w.div_ceil(CONV_PIXEL_TILE);
        let tiles = batch * out_channels.div_ceil(CONV_COUT_TILE) * pixel_tiles;
        let split = options.split.or(self.conv_split).unwrap_or_else(|| conv_split(tiles, in_channels));
        if !valid_split(split) {
            return Err(err(format!("split-K factor {split} is not a power of two from 1 to {CONV_MAX_SPLIT}")));
        }
        let (film_offset, film_stride) = match options.norm {
            None => (0, 0),
            Some(norm) => {
                let columns = check_norm(op, label, batch, in_channels, norm.affine, &norm.options)?;
                let groups = norm.options.groups;
                let tiles_per_workgroup = WORKGROUP_SIZE / split;
                let fits = WORKGROUP_SIZE.is_multiple_of(groups)
                    && in_channels <= CONV_NORM_MAX_CHANNELS
                    && (tiles / batch).is_multiple_of(tiles_per_workgroup);
                if !(fits && self.fuse_input_norms) {
                    let normalised = self.group_norm(&format!("{label}.norm"), input, norm.affine, norm.options)?;
                    return self.conv2d(label, &normalised, weights, Conv2dOptions { norm: None, ..options });
                }
                columns
            }
        };
        let output = match options.output {
            Some(out) if out.shape == out_shape => out.clone(),
            Some(out) => return Err(err(format!("output {:?} should be {out_shape:?}", out.shape))),
            None => self.tensor(label, &out_shape),
        };
        let residual = options.residual.unwrap_or(&output);
        let second = options.second.unwrap_or(input);
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
            in_offset: to_u32(op, label, input.channel_offset)?,
            in_stride: to_u32(op, label, input.buffer_channels)?,
            out_offset: to_u32(op, label, output.channel_offset)?,
            out_stride: to_u32(op, label, output.buffer_channels)?,
            res_offset: to_u32(op, label, residual.channel_offset)?,
            res_stride: to_u32(op, label, residual.buffer_channels)?,
            second_channels: to_u32(op, label, second_in_channels)?,
            second_offset: to_u32(op, label, second.channel_offset)?,
            second_stride: to_u32(op, label, second.buffer_channels)?,
            norm: options.norm.is_some() as u32,
            norm_groups: options.norm.map_or(Ok(1), |n| to_u32(op, label, n.options.groups))?,
            norm_film: options.norm.is_some_and(|n| n.options.film.is_some()) as u32,
            norm_silu: options.norm.is_some_and(|n| n.options.silu) as u32,
            film_offset: to_u32(op, label, film_offset)?,
            film_stride: to_u32(op, label, film_stride)?,
            _pad: [0; 3],
        };
        let residual = options.residual.map_or(&self.placeholder, |r| &r.buffer).clone();
        let second = options.second.map_or(&self.placeholder, |s| &s.buffer).clone();
        let affine = options.norm.map_or(&self.placeholder, |n| &n.affine.buffer).clone();
        let film = options.norm.and_then(|n| n.options.film).map_or(&self.placeholder, |f| &f.tensor.buffer).clone();
        // one multiply-add per output value and tap (the zero padding included, as counted)
        let flops = 2 * (output.len() * (in_channels * kernel * kernel + second_in_channels)) as u64;
        self.push(
            label,
            if split == 1 { &kernels.conv2d } else { kernels.conv2d_split(self.device) },
            &params,
            &[&input.buffer, &weights.packed.buffer, &weights.bias.buffer, &residual, &second, &output.buffer, &affine, &film],
            workgroups,
            flops,
        );
        Ok(output)
    }
}
