// 2-D convolution, NCHW, weight (cout, cin, k, k) as PyTorch stores it, plus bias.
//
// Each invocation computes COUT_TILE output channels of one output pixel: every input value it
// loads is used COUT_TILE times. Neighbouring invocations handle neighbouring pixels of the same
// channel tile, so they read neighbouring input values and the same weights.
//
// Optional fusions (flags in the params):
// - upsample: the input is read as if it had been nearest-neighbour upsampled 2x first
//   (logical size 2*in_h x 2*in_w, value at (y, x) = input at (y/2, x/2)), which implements
//   `conv(F.interpolate(h, scale_factor=2))` without materialising the upsampled tensor;
// - residual: a second buffer of the output's shape is added to the result (`conv(h) + skip`).

const COUT_TILE: u32 = 4u;
const WORKGROUP_SIZE: u32 = 64u;

struct Params {
    batch: u32,
    in_channels: u32,
    in_h: u32,          // stored input height (before the optional upsampling)
    in_w: u32,
    out_channels: u32,
    out_h: u32,
    out_w: u32,
    kernel: u32,
    stride: u32,
    padding: u32,
    upsample: u32,      // 1: read the input nearest-upsampled 2x
    residual: u32,      // 1: add `residual` to the output
    threads_x: u32,     // invocations per row of the dispatch grid (see linear_index)
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    // Large dispatches are spread over a 2-D grid (65535 workgroups per dimension at most).
    let index = gid.y * params.threads_x + gid.x;
    let pixels = params.out_h * params.out_w;
    let tiles = (params.out_channels + COUT_TILE - 1u) / COUT_TILE;
    if (index >= params.batch * tiles * pixels) {
        return;
    }
    // Pixel fastest, then channel tile, then batch.
    let pixel = index % pixels;
    let tile = (index / pixels) % tiles;
    let n = index / (pixels * tiles);
    let oy = pixel / params.out_w;
    let ox = pixel % params.out_w;
    let co0 = tile * COUT_TILE;

    // Channels past out_channels (last tile) read the last valid channel's weights and are not
    // written, which keeps every load in bounds without branching in the inner loop.
    var co: array<u32, COUT_TILE>;
    for (var j = 0u; j < COUT_TILE; j++) {
        co[j] = min(co0 + j, params.out_channels - 1u);
    }

    let up = params.upsample;
    let logical_h = params.in_h << up;
    let logical_w = params.in_w << up;
    let k = params.kernel;
    let kk = k * k;

    var acc = vec4<f32>(0.0);
    for (var ci = 0u; ci < params.in_channels; ci++) {
        let in_base = (n * params.in_channels + ci) * params.in_h * params.in_w;
        for (var ky = 0u; ky < k; ky++) {
            // i32: the padding makes the first rows/columns negative.
            let iy = i32(oy * params.stride + ky) - i32(params.padding);
            if (iy < 0 || iy >= i32(logical_h)) {
                continue;
            }
            let row = in_base + (u32(iy) >> up) * params.in_w;
            for (var kx = 0u; kx < k; kx++) {
                let ix = i32(ox * params.stride + kx) - i32(params.padding);
                if (ix < 0 || ix >= i32(logical_w)) {
                    continue;
                }
                let x = input[row + (u32(ix) >> up)];
                let w_offset = ci * kk + ky * k + kx;
                let w = vec4<f32>(
                    weight[co[0] * params.in_channels * kk + w_offset],
                    weight[co[1] * params.in_channels * kk + w_offset],
                    weight[co[2] * params.in_channels * kk + w_offset],
                    weight[co[3] * params.in_channels * kk + w_offset],
                );
                acc += x * w;
            }
        }
    }

    for (var j = 0u; j < COUT_TILE; j++) {
        let c = co0 + j;
        if (c >= params.out_channels) {
            break;
        }
        let out_index = (n * params.out_channels + c) * pixels + pixel;
        var value = acc[j] + bias[c];
        if (params.residual == 1u) {
            value += residual[out_index];
        }
        output[out_index] = value;
    }
}
