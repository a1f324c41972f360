// The denoiser's conditioning in one dispatch, as `UNet::condition` and the ResBlocks' `film`
// layers in src/model/unet.rs:
//   temb = [cos(t * freq_i) | sin(t * freq_i)]                 (time_dim values)
//   cond = time_mlp.2(silu(time_mlp.0(temb))) + text_proj(text)  (cond_dim values)
//   film = films(silu(cond))                                     (film_features values)
// where `films` is every ResBlock's film layer stacked (plan.rs keeps where each block's rows
// are). These were eleven small dispatches (a few hundred multiply-adds per output); on a real
// GPU the launches, not the arithmetic, set their time.
//
// The workgroups of a sample (workgroup_id: x = chunk, y = sample) share its film outputs:
// chunk k computes outputs k*256 + local, then every chunks*256 further. Each first computes
// the whole temb and cond of its sample in workgroup memory (~75 k multiply-adds for the
// bundled config). On a GPU the op uses ceil(film_features / 256) chunks, so many cores share
// the films and only that small part is repeated; on a CPU adapter (lavapipe, SwiftShader),
// whose few cores are busy either way, one chunk per sample repeats nothing.
//
// Every weight and bias sits in one buffer at the offsets of the params (WebGPU's default
// allows 8 storage buffers per shader stage). The frequencies come from the host, computed in
// f64 and rounded to f32 exactly as the reference does; the angle t * freq_i reaches ~1000 rad,
// and GPU sin/cos are only specified on [-pi, pi], so it is first reduced by 2*pi in two steps
// (Cody-Waite): 2*pi = C1 + C2 with C1 = 6.28125 holding few mantissa bits, so k * C1 and
// angle - k * C1 are exact in f32.

const WORKGROUP_SIZE: u32 = 256u;
const MAX_TIME_DIM: u32 = 256u;   // = ops::condition::CONDITION_MAX_DIM
const MAX_COND_DIM: u32 = 256u;
const TWO_PI_HIGH: f32 = 6.28125;
const TWO_PI_LOW: f32 = 0.0019353071795864769; // 2*pi - 6.28125
const INV_TWO_PI: f32 = 0.15915494309189535;

struct Params {
    time_dim: u32,
    cond_dim: u32,
    text_dim: u32,
    film_features: u32,
    freqs: u32,         // offsets into `weights`
    time_w0: u32,       // time_mlp.0 (cond_dim, time_dim)
    time_b0: u32,
    time_w2: u32,       // time_mlp.2 (cond_dim, cond_dim)
    time_b2: u32,
    text_w: u32,        // text_proj (cond_dim, text_dim)
    text_b: u32,
    film_w: u32,        // the stacked films (film_features, cond_dim)
    film_b: u32,
    chunks: u32,        // workgroups per sample
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> timesteps: array<f32>;
@group(0) @binding(2) var<storage, read> text: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read_write> film: array<f32>;

var<workgroup> temb: array<f32, MAX_TIME_DIM>;
var<workgroup> hidden: array<f32, MAX_COND_DIM>;    // silu(time_mlp.0(temb))
var<workgroup> cond: array<f32, MAX_COND_DIM>;      // silu(cond)

fn silu(v: f32) -> f32 {
    return v / (1.0 + exp(-v));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) local: u32) {
    let n = wid.y;
    let half = params.time_dim / 2u;
    for (var i = local; i < half; i += WORKGROUP_SIZE) {
        let angle = timesteps[n] * weights[params.freqs + i];
        let k = round(angle * INV_TWO_PI);
        let reduced = (angle - k * TWO_PI_HIGH) - k * TWO_PI_LOW;
        temb[i] = cos(reduced);
        temb[half + i] = sin(reduced);
    }
    workgroupBarrier();

    for (var o = local; o < params.cond_dim; o += WORKGROUP_SIZE) {
        var acc = weights[params.time_b0 + o];
        let row = params.time_w0 + o * params.time_dim;
        for (var i = 0u; i < params.time_dim; i++) {
            acc += weights[row + i] * temb[i];
        }
        hidden[o] = silu(acc);
    }
    workgroupBarrier();

    for (var o = local; o < params.cond_dim; o += WORKGROUP_SIZE) {
        var time = weights[params.time_b2 + o];
        let row = params.time_w2 + o * params.cond_dim;
        for (var i = 0u; i < params.cond_dim; i++) {
            time += weights[row + i] * hidden[i];
        }
        var from_text = weights[params.text_b + o];
        let text_row = params.text_w + o * params.text_dim;
        let x = n * params.text_dim;
        for (var i = 0u; i < params.text_dim; i++) {
            from_text += weights[text_row + i] * text[x + i];
        }
        cond[o] = silu(time + from_text);
    }
    workgroupBarrier();

    for (var o = wid.x * WORKGROUP_SIZE + local; o < params.film_features; o += params.chunks * WORKGROUP_SIZE) {
        var acc = weights[params.film_b + o];
        let row = params.film_w + o * params.cond_dim;
        for (var i = 0u; i < params.cond_dim; i++) {
            acc += weights[row + i] * cond[i];
        }
        film[n * params.film_features + o] = acc;
    }
}
