// One step of the reverse process on the GPU, so that the sample never leaves it between steps:
// exactly `StepCoefficients::apply` of src/sampler.rs (the CPU path), after classifier-free
// guidance where the denoiser ran a guided batch.
//
// Inputs: the denoiser's output, `copies` images of `len` values (with guidance: the conditional
// then the unconditional one), and the sample x it saw (`copies` equal images).
// Writes: x_next into every copy of x (the denoiser's input for the next step), x0 into prev_x0
// (DPM-Solver++(2M) reads it at the next step), and x_t, x_next, eps, x0 into `step`, one after
// another: what the page draws, read back in one copy.
// One invocation per value of one image.

const WORKGROUP_SIZE: u32 = 64u;

struct Params {
    len: u32,            // values per image
    copies: u32,         // images in the denoiser's batch: 2 with guidance, else 1
    guided: u32,         // 1: output = uncond + guidance * (cond - uncond)
    v_prediction: u32,   // 1: the output is v, 0: it is eps
    guidance: f32,
    sqrt_alpha: f32,     // sqrt(alpha_bar(t))
    sqrt_one_minus_alpha: f32,
    x_coef: f32,
    x0_coef: f32,
    prev_x0_coef: f32,
    eps_coef: f32,
    _pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> model_output: array<f32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> prev_x0: array<f32>;
@group(0) @binding(4) var<storage, read_write> step: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let len = params.len;
    if (i >= len) {
        return;
    }
    var out = model_output[i];
    if (params.guided == 1u) {
        let uncond = model_output[len + i];
        out = uncond + params.guidance * (out - uncond);
    }
    let xi = x[i];
    let sa = params.sqrt_alpha;
    let sn = params.sqrt_one_minus_alpha;
    var clean: f32;
    if (params.v_prediction == 1u) {
        clean = sa * xi - sn * out;
    } else {
        clean = (xi - sn * out) / sa;
    }
    clean = clamp(clean, -1.0, 1.0);
    let noise = (xi - sa * clean) / sn;
    let next = params.x_coef * xi + params.x0_coef * clean + params.prev_x0_coef * prev_x0[i] + params.eps_coef * noise;

    step[i] = xi;
    step[len + i] = next;
    step[2u * len + i] = noise;
    step[3u * len + i] = clean;
    prev_x0[i] = clean;
    for (var c = 0u; c < params.copies; c = c + 1u) {
        x[c * len + i] = next;
    }
}
