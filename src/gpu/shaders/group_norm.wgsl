// Group normalisation of an NCHW tensor, eps 1e-5, with a per-channel affine (gamma, beta).
// conv2d.wgsl can do the same on its input (its `norm` option); this kernel is for the layers
// where that does not fit.
//
// One workgroup per (sample, group). In NCHW the channels of one group are contiguous, so the
// group is one run of channels_per_group * H * W values. The mean and then the variance of that
// run are each reduced in workgroup memory (two passes: as accurate as the reference's
// mean-of-squared-deviations, unlike E[x^2] - E[x]^2).
//
// The input may be a channel slice of a larger NCHW buffer (channel c of sample n is channel
// `in_offset + c` of a buffer with `in_stride` channels per sample: the up path's [h | skip]);
// the output is a whole tensor.
//
// Optional, fused after the affine (flags in the params):
// - FiLM: y = y * (1 + scale[n, c]) + shift[n, c], read from a row of `film_stride` values per
//   sample (the output of condition.wgsl, every ResBlock's films side by side) whose C values
//   from `film_offset` on are the scales and the next C the shifts (this ResBlock's `film`);
// - SiLU: y = y * sigmoid(y).

const WORKGROUP_SIZE: u32 = 256u;
const EPS: f32 = 1e-5;

struct Params {
    channels: u32,
    pixels: u32,        // H * W
    groups: u32,
    film: u32,          // 1: apply FiLM from `film`
    silu: u32,          // 1: apply SiLU at the end
    film_offset: u32,
    film_stride: u32,
    in_offset: u32,
    in_stride: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> affine: array<f32>;   // gamma (C), then beta (C)
@group(0) @binding(3) var<storage, read> film: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

// Sum of `value` over the workgroup; every invocation gets the result.
fn workgroup_sum(local: u32, value: f32) -> f32 {
    partial[local] = value;
    workgroupBarrier();
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
        if (local < stride) {
            partial[local] += partial[local + stride];
        }
        workgroupBarrier();
    }
    let total = partial[0];
    // Nobody may overwrite partial[0] (next reduction) before everyone has read it.
    workgroupBarrier();
    return total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    let n = wid.x / params.groups;
    let group = wid.x % params.groups;
    let channels_per_group = params.channels / params.groups;
    let count = channels_per_group * params.pixels;
    let first_channel = group * channels_per_group;
    let base = (n * params.channels + first_channel) * params.pixels;
    let in_base = (n * params.in_stride + params.in_offset + first_channel) * params.pixels;

    var sum = 0.0;
    for (var i = local; i < count; i += WORKGROUP_SIZE) {
        sum += input[in_base + i];
    }
    let mean = workgroup_sum(local, sum) / f32(count);

    var squares = 0.0;
    for (var i = local; i < count; i += WORKGROUP_SIZE) {
        let d = input[in_base + i] - mean;
        squares += d * d;
    }
    let variance = workgroup_sum(local, squares) / f32(count);
    let inv_std = inverseSqrt(variance + EPS);

    for (var i = local; i < count; i += WORKGROUP_SIZE) {
        let c = first_channel + i / params.pixels;
        var y = (input[in_base + i] - mean) * inv_std * affine[c] + affine[params.channels + c];
        if (params.film == 1u) {
            let scale = film[n * params.film_stride + params.film_offset + c];
            let shift = film[n * params.film_stride + params.film_offset + params.channels + c];
            y = y * (1.0 + scale) + shift;
        }
        if (params.silu == 1u) {
            y = y / (1.0 + exp(-y));
        }
        output[base + i] = y;
    }
}
