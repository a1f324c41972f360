//! Group normalisation (shaders/group_norm.wgsl) with optional FiLM (per-sample scale and shift)
//! and SiLU folded in. conv2d can apply the same to its input ([`InputNorm`]); the checks here
//! serve both.

use crate::gpu::recorder::{expect_whole, shape_error, to_u32, uniform_params, Recorder, MAX_WORKGROUPS_PER_DIMENSION};
use crate::gpu::tensor::GpuTensor;
use crate::Result;
use bytemuck::{Pod, Zeroable};

uniform_params!(GroupNormParams {
    channels: u32,
    pixels: u32,
    groups: u32,
    film: u32,
    silu: u32,
    film_offset: u32,
    film_stride: u32,
    in_offset: u32,
    in_stride: u32,
    _pad: [u32; 3]
});

// uniform blocks are laid out in 16-byte units; a size off by a field would read garbage
const _: () = assert!(std::mem::size_of::<GroupNormParams>() == 48);

/// Options of [`Recorder::group_norm`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GroupNormOptions<'a> {
    pub groups: usize,
    /// Per-sample scales then shifts, applied as `y * (1 + scale) + shift`.
    pub film: Option<FilmSlice<'a>>,
    /// Apply SiLU at the end.
    pub silu: bool,
}

/// A group norm applied to a convolution's input (`Conv2dOptions::norm`): gamma then beta in
/// one tensor of 2C values ([`Recorder::norm_affine`]), and the options.
#[derive(Debug, Clone, Copy)]
pub struct InputNorm<'a> {
    pub affine: &'a GpuTensor,
    pub options: GroupNormOptions<'a>,
}

/// A ResBlock's FiLM values: in each (N, F) row of `tensor`, C scales from `offset` on, then C
/// shifts (the output of [`Recorder::condition`] holds every block's side by side).
#[derive(Debug, Clone, Copy)]
pub struct FilmSlice<'a> {
    pub tensor: &'a GpuTensor,
    pub offset: usize,
}

/// Checks a group norm of `batch` samples of `channels` channels: the groups, the affine's
/// shape and the FiLM slice; returns the FiLM's (column offset, row length), (0, 0) without.
pub(crate) fn check_norm(
    op: &str,
    label: &str,
    batch: usize,
    channels: usize,
    affine: &GpuTensor,
    options: &GroupNormOptions<'_>,
) -> Result<(usize, usize)> {
    let err = |m: String| shape_error(op, label, m);
    if options.groups == 0 || !channels.is_multiple_of(options.groups) {
        return Err(err(format!("{channels} channels do not split into {} groups", options.groups)));
    }
    if affine.shape != [2 * channels] {
        return Err(err(format!("the norm's gamma and beta {:?} should be [{}]", affine.shape, 2 * channels)));
    }
    expect_whole(op, label, &[("the norm's gamma and beta", affine)])?;
    match options.film {
        None => Ok((0, 0)),
        Some(FilmSlice { tensor, offset }) => {
            expect_whole(op, label, &[("FiLM", tensor)])?;
            match tensor.shape.as_slice() {
                &[n, stride] if n == batch && offset + 2 * channels <= stride => Ok((offset, stride)),
                _ => Err(err(format!("FiLM {:?} has no [{batch}, {}] slice at column {offset}", tensor.shape, 2 * channels))),
            }
        }
    }
}

impl Recorder<'_> {
    /// A norm's gamma and beta (C each) side by side, as group_norm and conv2d's input norm read them.
    pub fn norm_affine(&mut self, label: &str, gamma: &[f32], beta: &[f32]) -> Result<GpuTensor> {
        if gamma.len() != beta.len() {
            return Err(shape_error("norm_affine", label, format!("{} gammas but {} betas", gamma.len(), beta.len())));
        }
        self.upload(label, &[gamma, beta].concat(), &[2 * gamma.len()])
    }

    /// Group normalisation of (N, C, H, W) (a whole tensor or a channel slice) with gamma and
    /// beta from [`Recorder::norm_affine`], optional FiLM and SiLU, into a new whole tensor.
    pub fn group_norm(&mut self, label: &str, input: &GpuTensor, affine: &GpuTensor, options: GroupNormOptions<'_>) -> Result<GpuTensor> {
        let op = "group_norm";
        let kernels = self.kernels;
        let &[batch, channels, h, w] = input.shape.as_slice() else {
            return Err(shape_error(op, label, format!("input shape {:?} is not NCHW", input.shape)));
        };
        let (film_offset, film_stride) = check_norm(op, label, batch, channels, affine, &options)?;
        let workgroup_count = batch * options.groups;
        if workgroup_count > MAX_WORKGROUPS_PER_DIMENSION {
            return Err(shape_error(op, label, format!("{workgroup_count} (sample, group) pairs exceed one dispatch")));
        }
        let output = self.tensor(label, &input.shape);
        let params = GroupNormParams {
            channels: to_u32(op, label, channels)?,
            pixels: to_u32(op, label, h * w)?,
            groups: to_u32(op, label, options.groups)?,
            film: options.film.is_some() as u32,
            silu: options.silu as u32,
            film_offset: to_u32(op, label, film_offset)?,
            film_stride: to_u32(op, label, film_stride)?,
            in_offset: to_u32(op, label, input.channel_offset)?,
            in_stride: to_u32(op, label, input.buffer_channels)?,
            _pad: [0; 3],
        };
        let film = options.film.map_or(&self.placeholder, |f| &f.tensor.buffer).clone();
        self.push(
            label,
            &kernels.group_norm,
            &params,
            &[&input.buffer, &affine.buffer, &film, &output.buffer],
            [workgroup_count as u32, 1, 1],
            0, // no multiply-adds counted: a few operations per value, memory-bound
        );
        Ok(output)
    }
}
