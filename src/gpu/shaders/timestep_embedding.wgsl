// Sinusoidal timestep embedding, (N, dim) = [cos(t * freq_i) | sin(t * freq_i)], i < dim / 2,
// freq_i = exp(-ln(10000) * i / half), as `timestep_embedding` in src/model/unet.rs.
//
// The frequencies come from a small buffer filled once on the host, computed in f64 and rounded
// to f32 exactly as the reference does (an f32 `exp` on the GPU may differ in the last bits, and
// at t ~ 1000 that shifts the angle by ~1e-4).
//
// The angle t * freq_i reaches ~1000 rad. GPU sin/cos are only specified to be accurate on
// [-pi, pi], so the angle is first reduced by 2*pi in two steps (Cody-Waite): 2*pi = C1 + C2
// with C1 = 6.28125 holding few mantissa bits, so k * C1 and angle - k * C1 are exact in f32.

const WORKGROUP_SIZE: u32 = 64u;
const TWO_PI_HIGH: f32 = 6.28125;
const TWO_PI_LOW: f32 = 0.0019353071795864769; // 2*pi - 6.28125
const INV_TWO_PI: f32 = 0.15915494309189535;

struct Params {
    batch: u32,
    half_dim: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> timesteps: array<f32>;
@group(0) @binding(2) var<storage, read> freqs: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let index = gid.x;
    if (index >= params.batch * params.half_dim) {
        return;
    }
    let n = index / params.half_dim;
    let i = index % params.half_dim;
    let angle = timesteps[n] * freqs[i];
    let k = round(angle * INV_TWO_PI);
    let reduced = (angle - k * TWO_PI_HIGH) - k * TWO_PI_LOW;
    let row = n * 2u * params.half_dim;
    output[row + i] = cos(reduced);
    output[row + params.half_dim + i] = sin(reduced);
}
