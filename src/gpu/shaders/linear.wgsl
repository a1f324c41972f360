// Fully connected layer for a batch of vectors: y[b, o] = sum_i W[o, i] * x[b, i] + bias[o],
// with W stored (out, in) as PyTorch's nn.Linear.
//
// Optional (flags in the params):
// - silu_input: use silu(x) instead of x (the `film(silu(cond))` and `time_mlp` patterns);
// - accumulate: add the result to what y already holds (`temb + text_proj(text)`).
//
// One invocation per output value: the vectors here are a few hundred long and the batch is
// small, so this is a tiny fraction of a denoising step.

const WORKGROUP_SIZE: u32 = 64u;

struct Params {
    batch: u32,
    in_features: u32,
    out_features: u32,
    silu_input: u32,
    accumulate: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let index = gid.x;
    if (index >= params.batch * params.out_features) {
        return;
    }
    let b = index / params.out_features;
    let o = index % params.out_features;
    var acc = 0.0;
    for (var i = 0u; i < params.in_features; i++) {
        var v = x[b * params.in_features + i];
        if (params.silu_input == 1u) {
            v = v / (1.0 + exp(-v));
        }
        acc += weight[o * params.in_features + i] * v;
    }
    var result = acc + bias[o];
    if (params.accumulate == 1u) {
        result += y[index];
    }
    y[index] = result;
}
