// Multi-head self-attention over the pixels of a feature map (the UNet's middle block).
//
// Input: the output of the 1x1 `qkv` convolution, (N, 3*C, H*W), read exactly as the reference
// reshapes it: (N, 3, heads, d, HW) with d = C / heads, i.e. q, k and v of head h, feature j and
// pixel p at qkv[n, s, h, j, p] for s = 0, 1, 2.
// Output: (N, heads * d, HW) with channel h * d + j, the layout the `proj` convolution reads.
//
// One invocation per (sample, head, query pixel). It streams over the keys with an online
// softmax (running maximum, running denominator, rescaled accumulator), so the HW x HW score
// matrix never exists. Scores are scaled by 1 / sqrt(d).

const WORKGROUP_SIZE: u32 = 64u;
// Private arrays need a fixed size; the Rust side rejects larger heads.
const MAX_HEAD_DIM: u32 = 64u;

struct Params {
    batch: u32,
    heads: u32,
    head_dim: u32,
    pixels: u32,        // H * W: number of queries and of keys
    scale: f32,         // 1 / sqrt(head_dim)
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;

// Index of qkv[n, part, head, j, p] in the (N, 3, heads, d, HW) layout.
fn qkv_index(n: u32, part: u32, head: u32, j: u32, p: u32) -> u32 {
    return (((n * 3u + part) * params.heads + head) * params.head_dim + j) * params.pixels + p;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let index = gid.x;
    if (index >= params.batch * params.heads * params.pixels) {
        return;
    }
    let query = index % params.pixels;
    let head = (index / params.pixels) % params.heads;
    let n = index / (params.pixels * params.heads);
    let d = params.head_dim;

    // The scale is folded into q once instead of into every score.
    var q: array<f32, MAX_HEAD_DIM>;
    var acc: array<f32, MAX_HEAD_DIM>;
    for (var j = 0u; j < d; j++) {
        q[j] = qkv[qkv_index(n, 0u, head, j, query)] * params.scale;
        acc[j] = 0.0;
    }

    var running_max = -3.0e38;
    var denominator = 0.0;
    for (var key = 0u; key < params.pixels; key++) {
        var score = 0.0;
        for (var j = 0u; j < d; j++) {
            score += q[j] * qkv[qkv_index(n, 1u, head, j, key)];
        }
        let new_max = max(running_max, score);
        // exp(old - new) rescales what was accumulated under the old maximum.
        let correction = exp(running_max - new_max);
        let weight = exp(score - new_max);
        denominator = denominator * correction + weight;
        for (var j = 0u; j < d; j++) {
            acc[j] = acc[j] * correction + weight * qkv[qkv_index(n, 2u, head, j, key)];
        }
        running_max = new_max;
    }

    let channels = params.heads * d;
    for (var j = 0u; j < d; j++) {
        output[(n * channels + head * d + j) * params.pixels + query] = acc[j] / denominator;
    }
}
