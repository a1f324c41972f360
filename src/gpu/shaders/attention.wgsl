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
//
// q and the accumulator are private arrays of vec4 (d must be a multiple of 4): CPU adapters
// keep dynamically indexed private arrays in memory, and vec4 elements quarter those accesses.

const WORKGROUP_SIZE: u32 = 64u;
// Private arrays need a fixed size; the Rust side rejects larger heads.
const MAX_HEAD_DIM: u32 = 64u;
const MAX_HEAD_VEC4: u32 = MAX_HEAD_DIM / 4u;

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

// qkv[n, part, head, 4*j4 .. 4*j4+3, p] of the (N, 3, heads, d, HW) layout: four features of
// one pixel, HW apart in memory.
fn qkv_vec4(n: u32, part: u32, head: u32, j4: u32, p: u32) -> vec4<f32> {
    let first = (((n * 3u + part) * params.heads + head) * params.head_dim + 4u * j4) * params.pixels + p;
    let hw = params.pixels;
    return vec4<f32>(qkv[first], qkv[first + hw], qkv[first + 2u * hw], qkv[first + 3u * hw]);
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
    let d4 = params.head_dim / 4u;

    // The scale is folded into q once instead of into every score.
    var q: array<vec4<f32>, MAX_HEAD_VEC4>;
    var acc: array<vec4<f32>, MAX_HEAD_VEC4>;
    for (var j4 = 0u; j4 < d4; j4++) {
        q[j4] = qkv_vec4(n, 0u, head, j4, query) * params.scale;
        acc[j4] = vec4<f32>(0.0);
    }

    var running_max = -3.0e38;
    var denominator = 0.0;
    for (var key = 0u; key < params.pixels; key++) {
        var score = 0.0;
        for (var j4 = 0u; j4 < d4; j4++) {
            score += dot(q[j4], qkv_vec4(n, 1u, head, j4, key));
        }
        let new_max = max(running_max, score);
        // exp(old - new) rescales what was accumulated under the old maximum.
        let correction = exp(running_max - new_max);
        let weight = exp(score - new_max);
        denominator = denominator * correction + weight;
        for (var j4 = 0u; j4 < d4; j4++) {
            acc[j4] = acc[j4] * correction + weight * qkv_vec4(n, 2u, head, j4, key);
        }
        running_max = new_max;
    }

    let channels = params.heads * params.head_dim;
    for (var j4 = 0u; j4 < d4; j4++) {
        let out = acc[j4] / denominator;
        let first = (n * channels + head * params.head_dim + 4u * j4) * params.pixels + query;
        output[first] = out.x;
        output[first + params.pixels] = out.y;
        output[first + 2u * params.pixels] = out.z;
        output[first + 3u * params.pixels] = out.w;
    }
}
