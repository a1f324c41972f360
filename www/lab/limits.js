// The limits the element checks its inputs against; the Rust Lab checks the same ones again
// (src/limits.rs: the test the_page_limits_are_the_labs binds them).
export const LIMITS = Object.freeze({
  stepsMin: 1,
  stepsMax: 100,
  promptMaxChars: 1000,
  seedMax: Number.MAX_SAFE_INTEGER, // 2^53 - 1: the largest integer a JS number carries exactly
  guidanceMin: 0,
  guidanceMax: 20,
  forwardTMax: 999,
});

// The element's `backend` attribute: auto takes WebGPU on a real GPU and the CPU path over a GPU
// emulated in software (src/pipeline/options.rs BackendChoice, bound by the same test).
export const BACKENDS = Object.freeze(['auto', 'webgpu', 'cpu']);
