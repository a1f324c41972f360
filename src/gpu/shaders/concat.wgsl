// Channel concatenation of two NCHW tensors with the same N, H, W:
// output (N, Ca + Cb, H, W) = [a | b] along the channels (the UNet's `cat([h, skip], 1)`).
// One invocation per output value.

const WORKGROUP_SIZE: u32 = 64u;

struct Params {
    batch: u32,
    channels_a: u32,
    channels_b: u32,
    pixels: u32,        // H * W
    threads_x: u32,     // invocations per row of the dispatch grid
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let index = gid.y * params.threads_x + gid.x;
    let channels = params.channels_a + params.channels_b;
    if (index >= params.batch * channels * params.pixels) {
        return;
    }
    let pixel = index % params.pixels;
    let c = (index / params.pixels) % channels;
    let n = index / (params.pixels * channels);
    if (c < params.channels_a) {
        output[index] = a[(n * params.channels_a + c) * params.pixels + pixel];
    } else {
        output[index] = b[(n * params.channels_b + (c - params.channels_a)) * params.pixels + pixel];
    }
}
