// The protocol between the page's LabClient (lab/client.js) and the model's Web Worker
// (worker.js): the message types each side sends, and the error codes. Both import it.
//
// Messages in (page → worker):
//   { type: 'limits', id }                     every limit and default the page checks its
//                                              inputs against (src/limits.rs), without a model
//   { type: 'load', id?, url, backend }       load the model files listed in the manifest at `url`
//                                              (backend: one of limits.backends)
//   { type: 'generate', id, prompt, options }  options = { model, steps, seed, guidance, sampler }
//   { type: 'forward', id, rgba, prompt, options }  the forward process on a 32×32 RGBA picture;
//                                              options = { t, seed }
//   { type: 'cancel', id }                     stop job `id` (handled at once, not queued)
//   { type: 'debug-lose-device', id }          test hook: the Lab's GPU device is lost, as in a
//                                              driver reset (tests/e2e/device-lost.test.mjs)
//   { type: 'debug-stats', id, countGpu }      soak hook (scripts/soak.mjs): counts WebGPU objects
//                                              from now on (countGpu, before the load) and answers
//                                              { type: 'debug', id, gpu, gpuBufferBytes, wasmBytes }
// Messages out (worker → page):
//   { type: 'limits', id, limits }             the answer to 'limits': { stepsMin, stepsMax,
//        promptMaxChars, seedMax, guidanceMin, guidanceMax, backends, samplers, models }
//   { type: 'progress', id?, loaded, total, file }             while the files download
//   { type: 'ready', id?, backend, adapter, softwareAdapter, skippedSoftwareAdapter, fallbackReason, cacheWarning, models, alphaBars }
//        the model is ready; softwareAdapter: WebGPU is emulated on the CPU (SwiftShader);
//        skippedSoftwareAdapter: the default passed over such an adapter for the CPU path;
//        models = { default, student?, teacher }; cacheWarning = '' or why the browser cache refused the model files (e.g.
//        'QuotaExceededError: …': the storage is full, the next visit downloads them again)
//   { type: 'step', id, index, total, t, ms, width, height, x_next, eps, x0, x_start? }  after every
//        step; x_start (the pure starting noise) on index 0 only
//   { type: 'done', id, ms, backend, model, steps, passes, width, height, image }
//   { type: 'forward', id, t, alphaBar, x_t, noise, epsHat, x0Hat, noiseError, width, height }
//   { type: 'debug', id, lost }                the answer to 'debug-lose-device' (lost: false
//                                              without a model or on the CPU path)
//   { type: 'error', id, op, code, message, fatal, dropped }   op = 'load' | 'generate' |
//        'forward' | 'debug-lose-device' | 'message';
//        code: one of ERROR_CODES ('unloaded': no model, send 'load' first);
//        fatal: the wasm trapped, start a new worker;
//        dropped: no Lab is left (a failed load, a trap, or a 'gpu' error such as a lost
//        device): the next job needs a 'load' first, which gets a fresh GPU device (or the CPU)
// The pixel arrays are RGBA Uint8ClampedArrays: copied once out of the Lab's arrays, then
// transferred (not cloned again) to the page.

/** A load's `backend` (the element's `backend` attribute); the wasm's limits.backends, bound by src/limits.rs. */
export const BACKENDS = Object.freeze(['auto', 'webgpu', 'cpu']);

/** The message types the page sends. */
export const TO_WORKER = Object.freeze({
  limits: 'limits',
  load: 'load',
  generate: 'generate',
  forward: 'forward',
  cancel: 'cancel',
  loseDevice: 'debug-lose-device',
  stats: 'debug-stats',
});

/** The message types the worker sends. */
export const FROM_WORKER = Object.freeze({
  limits: 'limits',
  progress: 'progress',
  ready: 'ready',
  step: 'step',
  done: 'done',
  forward: 'forward',
  debug: 'debug',
  error: 'error',
});

/** An error's `code`: the Lab's own (src/error.rs) and the worker's ('unloaded'); any other is 'other'. */
export const ERROR_CODES = Object.freeze(['input', 'weights', 'gpu', 'shape', 'cancelled', 'busy', 'unloaded', 'other']);
