// 2-D convolution, NCHW, plus bias. The weights come packed by the host (see
// `Recorder::conv_weights` in ops/conv2d.rs): PyTorch's (cout, cin, k, k) regrouped into tiles of
// 16 output channels, (ceil(cout/16), cin, k, k, 16), zero-padded, so that the 16 weights one
// tap needs are four aligned vec4 loads. With a second input (see below) its 1x1 weights follow
// in the same layout, (ceil(cout/16), second_channels, 16), and `bias` holds both biases summed.
//
// Each invocation computes 16 output channels x 4 horizontally adjacent output pixels. Loads,
// not arithmetic, bound this kernel (above all on CPU adapters such as lavapipe and SwiftShader,
// where every per-invocation load is a gather), and with this tile one tap costs 4 weight loads
// and 4 input loads for 64 multiply-adds; on lavapipe that made the UNet ~5x faster than one
// output value per invocation. The accumulators are separate variables rather than an array:
// CPU drivers keep those in registers but spill a dynamically indexed array to memory.
// The loops have no branches: taps outside the image read a clamped, valid address and are
// zeroed with select().
//
// Two entry points share that loop (`accumulate`):
// - `main`: one invocation per tile, over all input channels (split factor S = 1).
// - `main_split`, split-K: the reduction over input channels is shared by S invocations (S a
//   power of two, 2..64, from the params). A workgroup is T = 64 / S tiles x S splits; split s
//   of a tile accumulates only the input channels [s*ceil(cin/S), (s+1)*ceil(cin/S)) (and as
//   much of the second input's, below), the partial sums meet in workgroup memory, and the S
//   invocations of the tile add them up and share the stores. A batch of one or two leaves the
//   small layers a handful of workgroups, which would idle a large GPU; the split multiplies
//   the invocations without adding work.
// `main` stays separate because on lavapipe the barrier-free kernel with its early return for
// out-of-range invocations ran ~7 % faster than `main_split` with S = 1.
//
// Optional fusions (flags in the params):
// - upsample: the input is read as if it had been nearest-neighbour upsampled 2x first
//   (logical size 2*in_h x 2*in_w, value at (y, x) = input at (y/2, x/2)), which implements
//   `conv(F.interpolate(h, scale_factor=2))` without materialising the upsampled tensor;
// - residual: a second buffer of the output's shape is added to the result (`conv(h) + skip`);
// - second input: a 1x1 convolution (stride 1, no padding) of another tensor at the output's
//   size is added, `conv(h) + conv1x1(x)`: a ResBlock's conv2 and its skip projection in one
//   dispatch. main_split gives each split the same share of both inputs' channels, so that
//   the 1x1 taps do not pile up on a few splits.
//
// - input norm: the input is read group-normalised (eps 1e-5, per-channel gamma and beta from
//   `norm_affine`), optionally with FiLM (y * (1 + scale) + shift, as group_norm.wgsl) and SiLU,
//   as `conv(silu(norm(h)))`; the zero padding is of the normalised values. The workgroup first
//   computes its sample's group statistics and per-channel coefficients a, b (y = a x + b) into
//   workgroup memory (`prepare_norm`), so the normalised tensor is never written. The host
//   makes sure that no workgroup holds tiles of two samples.
//
// The input, the second input, the output and the residual may each be a channel slice of a
// larger NCHW buffer (GpuTensor in tensor.rs): channel c of sample n is channel `offset + c` of
// a buffer with `stride` channels per sample. The UNet writes its skips into the up path's inputs this way.

const COUT_TILE: u32 = 16u;     // = four vec4 of packed weights: w0..w3 below
const PIXEL_TILE: u32 = 4u;     // = the lanes of x below
const WORKGROUP_SIZE: u32 = 64u;
const ACC_SLOTS: u32 = PIXEL_TILE * COUT_TILE / 4u;   // vec4 accumulators per invocation
const EPS: f32 = 1e-5;
// Where prepare_norm keeps its results in `partial`: one (mean, 1/std) per group (at most 64
// groups), then one (a, b) per input channel (at most ACC_SLOTS * WORKGROUP_SIZE - COEF_AT).
const STATS_AT: u32 = WORKGROUP_SIZE;
const COEF_AT: u32 = 2u * WORKGROUP_SIZE;

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
    threads_x: u32,     // invocations per row of the dispatch grid
    split: u32,         // S (main_split only)
    in_offset: u32,     // channel slices, see above
    in_stride: u32,
    out_offset: u32,
    out_stride: u32,
    res_offset: u32,
    res_stride: u32,
    second_channels: u32,   // 0: no second input
    second_offset: u32,
    second_stride: u32,
    norm: u32,          // 1: group-normalise the input (see above)
    norm_groups: u32,   // divides 64 and in_channels
    norm_film: u32,     // 1: FiLM after the affine
    norm_silu: u32,     // 1: SiLU last
    film_offset: u32,   // this layer's scales in each row of `film`, the shifts after them
    film_stride: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<vec4<f32>>;   // packed, see above
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> residual: array<f32>;
@group(0) @binding(5) var<storage, read> second: array<f32>;
@group(0) @binding(6) var<storage, read_write> output: array<f32>;
@group(0) @binding(7) var<storage, read> norm_affine: array<f32>;   // gamma (Cin), then beta (Cin)
@group(0) @binding(8) var<storage, read> film: array<f32>;

// main_split: every invocation's accumulators, slot j of invocation l at j * WORKGROUP_SIZE + l
// (neighbouring invocations touch neighbouring vec4s). 16 KiB, WebGPU's default limit. Before
// that, both entry points keep prepare_norm's statistics and coefficients here.
var<workgroup> partial: array<vec4<f32>, ACC_SLOTS * WORKGROUP_SIZE>;

// Where a tile's outputs are: sample, 16-channel tile, output row, first column of the strip.
struct Tile {
    n: u32,
    tile: u32,
    oy: u32,
    ox0: u32,
}

// (sample, channel tile, pixel strip) work items of the dispatch.
fn tile_count() -> u32 {
    let strips = params.out_h * ((params.out_w + PIXEL_TILE - 1u) / PIXEL_TILE);
    return params.batch * ((params.out_channels + COUT_TILE - 1u) / COUT_TILE) * strips;
}

// Pixel strip fastest, so neighbouring items read neighbouring inputs and the same weights;
// then channel tile, then sample.
fn tile_at(index: u32) -> Tile {
    let strips_per_row = (params.out_w + PIXEL_TILE - 1u) / PIXEL_TILE;
    let strips = params.out_h * strips_per_row;
    let tiles = (params.out_channels + COUT_TILE - 1u) / COUT_TILE;
    let strip = index % strips;
    return Tile(
        index / (strips * tiles),
        (index / strips) % tiles,
        strip / strips_per_row,
        (strip % strips_per_row) * PIXEL_TILE,
    );
}

// The sample of the workgroup whose first work item is `first` (the host keeps samples apart).
fn sample_of(first: u32) -> u32 {
    return min(first / (tile_count() / params.batch), params.batch - 1u);
}

// Group statistics of sample n's input, then each input channel's coefficients (a, b) with
// norm(x) = a * x + b (the affine and FiLM folded in) at partial[COEF_AT + c]. Called by every
// invocation of the workgroup; the groups are shared out to teams of 64 / groups invocations.
fn prepare_norm(n: u32, local: u32) {
    let team = WORKGROUP_SIZE / params.norm_groups;
    let g = local / team;
    let j = local % team;
    let plane = params.in_h * params.in_w;
    let per_group = params.in_channels / params.norm_groups;
    let count = per_group * plane;
    let base = (n * params.in_stride + params.in_offset + g * per_group) * plane;
    // Sums of x minus the group's first value: one pass, without the cancellation of
    // E[x^2] - E[x]^2 when the mean is large against the spread.
    let shift = input[base];
    var sum = 0.0;
    var squares = 0.0;
    for (var i = j; i < count; i += team) {
        let d = input[base + i] - shift;
        sum += d;
        squares += d * d;
    }
    partial[local] = vec4<f32>(sum, squares, 0.0, 0.0);
    workgroupBarrier();
    if (j == 0u) {
        var total = vec4<f32>(0.0);
        for (var r = 0u; r < team; r++) {
            total += partial[local + r];
        }
        let mean = total.x / f32(count);
        let variance = max(total.y / f32(count) - mean * mean, 0.0);
        partial[STATS_AT + g] = vec4<f32>(shift + mean, inverseSqrt(variance + EPS), 0.0, 0.0);
    }
    workgroupBarrier();
    for (var c = local; c < params.in_channels; c += WORKGROUP_SIZE) {
        let stats = partial[STATS_AT + c / per_group];
        var a = stats.y * norm_affine[c];
        var b = norm_affine[params.in_channels + c] - stats.x * a;
        if (params.norm_film == 1u) {
            let row = n * params.film_stride + params.film_offset;
            let scale = 1.0 + film[row + c];
            a *= scale;
            b = b * scale + film[row + params.in_channels + c];
        }
        partial[COEF_AT + c] = vec4<f32>(a, b, 0.0, 0.0);
    }
    workgroupBarrier();
}

// One invocation's sums: a<p>_<q> = channels 4q .. 4q+3 of the tile at pixel p of the strip.
struct Acc {
    a0_0: vec4<f32>, a0_1: vec4<f32>, a0_2: vec4<f32>, a0_3: vec4<f32>,
    a1_0: vec4<f32>, a1_1: vec4<f32>, a1_2: vec4<f32>, a1_3: vec4<f32>,
    a2_0: vec4<f32>, a2_1: vec4<f32>, a2_2: vec4<f32>, a2_3: vec4<f32>,
    a3_0: vec4<f32>, a3_1: vec4<f32>, a3_2: vec4<f32>, a3_3: vec4<f32>,
}

// The tile's sums over input channels ci_begin .. ci_end - 1 and every tap, plus the second
// input's channels si_begin .. si_end - 1 (one tap each).
fn accumulate(t: Tile, ci_begin: u32, ci_end: u32, si_begin: u32, si_end: u32) -> Acc {
    let k = params.kernel;
    let up = params.upsample;
    let logical_h = i32(params.in_h << up);
    let logical_w = i32(params.in_w << up);
    let y0 = i32(t.oy * params.stride) - i32(params.padding);
    // Input column of the first tap for each pixel of the strip (pixels past the right edge
    // repeat the last one and are not stored).
    let ox = min(vec4<u32>(t.ox0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(params.out_w - 1u));
    let x0 = vec4<i32>(ox * params.stride) - vec4<i32>(i32(params.padding));

    var acc0_0 = vec4<f32>(0.0);
    var acc0_1 = vec4<f32>(0.0);
    var acc0_2 = vec4<f32>(0.0);
    var acc0_3 = vec4<f32>(0.0);
    var acc1_0 = vec4<f32>(0.0);
    var acc1_1 = vec4<f32>(0.0);
    var acc1_2 = vec4<f32>(0.0);
    var acc1_3 = vec4<f32>(0.0);
    var acc2_0 = vec4<f32>(0.0);
    var acc2_1 = vec4<f32>(0.0);
    var acc2_2 = vec4<f32>(0.0);
    var acc2_3 = vec4<f32>(0.0);
    var acc3_0 = vec4<f32>(0.0);
    var acc3_1 = vec4<f32>(0.0);
    var acc3_2 = vec4<f32>(0.0);
    var acc3_3 = vec4<f32>(0.0);
    // Index of the first packed vec4 of channel ci_begin in the tile; taps follow each other in
    // (ci, ky, kx) order, four vec4 each.
    var w = (t.tile * params.in_channels + ci_begin) * k * k * 4u;
    // Read once: some shader compilers (SwiftShader's) reload a uniform at every use in a loop.
    let norm = params.norm == 1u;
    let silu = params.norm_silu == 1u;
    for (var ci = ci_begin; ci < ci_end; ci++) {
        let in_base = (t.n * params.in_stride + params.in_offset + ci) * params.in_h * params.in_w;
        // Without the norm, a = 1 and b = 0.
        var coef = vec2<f32>(1.0, 0.0);
        if (norm) {
            coef = partial[COEF_AT + ci].xy;
        }
        for (var ky = 0u; ky < k; ky++) {
            let iy = y0 + i32(ky);
            let row_inside = iy >= 0 && iy < logical_h;
            let row = in_base + (u32(clamp(iy, 0, logical_h - 1)) >> up) * params.in_w;
            for (var kx = 0u; kx < k; kx++) {
                let ix = x0 + vec4<i32>(i32(kx));
                let inside = (ix >= vec4<i32>(0)) & (ix < vec4<i32>(logical_w)) & vec4<bool>(row_inside);
                let col = vec4<u32>(clamp(ix, vec4<i32>(0), vec4<i32>(logical_w - 1))) >> vec4<u32>(up);
                var v = vec4<f32>(input[row + col.x], input[row + col.y], input[row + col.z], input[row + col.w]) * coef.x + coef.y;
                if (silu) {
                    v = v / (1.0 + exp(-v));
                }
                let x = select(vec4<f32>(0.0), v, inside);
                let w0 = weight[w];
                let w1 = weight[w + 1u];
                let w2 = weight[w + 2u];
                let w3 = weight[w + 3u];
                w += 4u;
                acc0_0 += x.x * w0;
                acc0_1 += x.x * w1;
                acc0_2 += x.x * w2;
                acc0_3 += x.x * w3;
                acc1_0 += x.y * w0;
                acc1_1 += x.y * w1;
                acc1_2 += x.y * w2;
                acc1_3 += x.y * w3;
                acc2_0 += x.z * w0;
                acc2_1 += x.z * w1;
                acc2_2 += x.z * w2;
                acc2_3 += x.z * w3;
                acc3_0 += x.w * w0;
                acc3_1 += x.w * w1;
                acc3_2 += x.w * w2;
                acc3_3 += x.w * w3;
            }
        }
    }
    // The second input's channels: one tap each, at the output pixels themselves. Its weights
    // follow all of the input's, tiles * in_channels * k * k taps of four vec4.
    let tiles = (params.out_channels + COUT_TILE - 1u) / COUT_TILE;
    w = (tiles * params.in_channels * k * k + t.tile * params.second_channels + si_begin) * 4u;
    let pixels = t.oy * params.out_w + ox;
    for (var si = si_begin; si < si_end; si++) {
        let base = (t.n * params.second_stride + params.second_offset + si) * params.out_h * params.out_w;
        let x = vec4<f32>(second[base + pixels.x], second[base + pixels.y], second[base + pixels.z], second[base + pixels.w]);
        let w0 = weight[w];
        let w1 = weight[w + 1u];
        let w2 = weight[w + 2u];
        let w3 = weight[w + 3u];
        w += 4u;
        acc0_0 += x.x * w0;
        acc0_1 += x.x * w1;
        acc0_2 += x.x * w2;
        acc0_3 += x.x * w3;
        acc1_0 += x.y * w0;
        acc1_1 += x.y * w1;
        acc1_2 += x.y * w2;
        acc1_3 += x.y * w3;
        acc2_0 += x.z * w0;
        acc2_1 += x.z * w1;
        acc2_2 += x.z * w2;
        acc2_3 += x.z * w3;
        acc3_0 += x.w * w0;
        acc3_1 += x.w * w1;
        acc3_2 += x.w * w2;
        acc3_3 += x.w * w3;
    }
    return Acc(
        acc0_0, acc0_1, acc0_2, acc0_3, acc1_0, acc1_1, acc1_2, acc1_3,
        acc2_0, acc2_1, acc2_2, acc2_3, acc3_0, acc3_1, acc3_2, acc3_3,
    );
}

// Stores accumulator slot j = 4p + q of the tile (channels 4q .. 4q+3 at pixel p), plus bias
// and the optional residual; pixels and channels past the edges are skipped. Four calls rather
// than a loop over the lanes of `sum`: on lavapipe that loop cost ~15 % in 1x1 convolutions.
fn store(t: Tile, j: u32, sum: vec4<f32>) {
    let p = j / 4u;
    if (t.ox0 + p >= params.out_w) {
        return;
    }
    let c = t.tile * COUT_TILE + 4u * (j % 4u);
    let pixel = t.oy * params.out_w + t.ox0 + p;
    let plane = params.out_h * params.out_w;
    let out_index = (t.n * params.out_stride + params.out_offset + c) * plane + pixel;
    let res_index = (t.n * params.res_stride + params.res_offset + c) * plane + pixel;
    store_one(c, out_index, res_index, sum.x);
    store_one(c + 1u, out_index + plane, res_index + plane, sum.y);
    store_one(c + 2u, out_index + 2u * plane, res_index + 2u * plane, sum.z);
    store_one(c + 3u, out_index + 3u * plane, res_index + 3u * plane, sum.w);
}

fn store_one(c: u32, out_index: u32, res_index: u32, sum: f32) {
    if (c < params.out_channels) {
        var value = sum + bias[c];
        if (params.residual == 1u) {
            value += residual[res_index];
        }
        output[out_index] = value;
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    if (params.norm == 1u) {
        prepare_norm(sample_of(wid.y * params.threads_x + wid.x * WORKGROUP_SIZE), local);
    }
    // Large dispatches are folded into a 2-D grid (65535 workgroups per dimension at most).
    let index = gid.y * params.threads_x + gid.x;
    if (index >= tile_count()) {
        return;
    }
    let t = tile_at(index);
    let acc = accumulate(t, 0u, params.in_channels, 0u, params.second_channels);
    // A loop over a small array is fine here, it runs once.
    var slots = array<vec4<f32>, ACC_SLOTS>(
        acc.a0_0, acc.a0_1, acc.a0_2, acc.a0_3, acc.a1_0, acc.a1_1, acc.a1_2, acc.a1_3,
        acc.a2_0, acc.a2_1, acc.a2_2, acc.a2_3, acc.a3_0, acc.a3_1, acc.a3_2, acc.a3_3,
    );
    for (var j = 0u; j < ACC_SLOTS; j++) {
        store(t, j, slots[j]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main_split(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    // Workgroup g holds tiles g*T .. g*T+T-1 (T = 64 / S; the 2-D folding as in main); its
    // invocation l works on tile slot l % T, split l / T. Tile slot fastest: neighbouring
    // invocations read the same weights and neighbouring inputs, as in main.
    let split = params.split;
    let per_group = WORKGROUP_SIZE / split;
    let slot = local % per_group;
    let s = local / per_group;
    let first = (wid.y * (params.threads_x / WORKGROUP_SIZE) + wid.x) * per_group;
    if (params.norm == 1u) {
        prepare_norm(sample_of(first), local);
    }
    let index = first + slot;
    // No early return: every invocation must reach the barrier. Invocations past the end loop
    // over no channels and store nothing.
    let valid = index < tile_count();
    let t = tile_at(index);
    let chunk = (params.in_channels + split - 1u) / split;
    let ci_begin = min(s * chunk, params.in_channels);
    let ci_end = select(ci_begin, min(ci_begin + chunk, params.in_channels), valid);
    let second_chunk = (params.second_channels + split - 1u) / split;
    let si_begin = min(s * second_chunk, params.second_channels);
    let si_end = select(si_begin, min(si_begin + second_chunk, params.second_channels), valid);
    let acc = accumulate(t, ci_begin, ci_end, si_begin, si_end);
    // The coefficients of prepare_norm are read until here.
    workgroupBarrier();
    partial[0u * WORKGROUP_SIZE + local] = acc.a0_0;
    partial[1u * WORKGROUP_SIZE + local] = acc.a0_1;
    partial[2u * WORKGROUP_SIZE + local] = acc.a0_2;
    partial[3u * WORKGROUP_SIZE + local] = acc.a0_3;
    partial[4u * WORKGROUP_SIZE + local] = acc.a1_0;
    partial[5u * WORKGROUP_SIZE + local] = acc.a1_1;
    partial[6u * WORKGROUP_SIZE + local] = acc.a1_2;
    partial[7u * WORKGROUP_SIZE + local] = acc.a1_3;
    partial[8u * WORKGROUP_SIZE + local] = acc.a2_0;
    partial[9u * WORKGROUP_SIZE + local] = acc.a2_1;
    partial[10u * WORKGROUP_SIZE + local] = acc.a2_2;
    partial[11u * WORKGROUP_SIZE + local] = acc.a2_3;
    partial[12u * WORKGROUP_SIZE + local] = acc.a3_0;
    partial[13u * WORKGROUP_SIZE + local] = acc.a3_1;
    partial[14u * WORKGROUP_SIZE + local] = acc.a3_2;
    partial[15u * WORKGROUP_SIZE + local] = acc.a3_3;
    workgroupBarrier();
    if (!valid) {
        return;
    }
    // Split s sums and stores the slots j = s, s + S, ... (with S > 16, splits 16.. none).
    for (var j = s; j < ACC_SLOTS; j += split) {
        var sum = vec4<f32>(0.0);
        for (var r = 0u; r < split; r++) {
            sum += partial[j * WORKGROUP_SIZE + r * per_group + slot];
        }
        store(t, j, sum);
    }
}
