// The Web Worker that owns the one `Lab` (the WebAssembly diffusion model) of a page.
// Start it as a module worker:  new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
//
// Messages in (page → worker):
//   { type: 'load', id?, url, backend }       load the model files listed in the manifest at `url`
//                                              (backend: 'auto' | 'webgpu' | 'cpu', lab/limits.js)
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
//   { type: 'progress', id?, loaded, total, file }             while the files download
//   { type: 'ready', id?, backend, adapter, softwareAdapter, skippedSoftwareAdapter, fallbackReason, cacheWarning, models, alphaBars }
//        the model is ready; softwareAdapter: WebGPU is emulated on the CPU (SwiftShader); models = { default, student?, teacher } or null (a Lab without the `models`
//        getter); cacheWarning = '' or why the browser cache refused the model files (e.g.
//        'QuotaExceededError: …': the storage is full, the next visit downloads them again)
//   { type: 'step', id, index, total, t, ms, width, height, x_next, eps, x0, x_start? }  after every
//        step; x_start (the pure starting noise) on index 0 only
//   { type: 'done', id, ms, backend, model, steps, passes, width, height, image }
//   { type: 'forward', id, t, alphaBar, x_t, noise, epsHat, x0Hat, noiseError, width, height }
//   { type: 'debug', id, lost }                the answer to 'debug-lose-device' (lost: false
//                                              without a model or on the CPU path)
//   { type: 'error', id, op, code, message, fatal, dropped }   op = 'load' | 'generate' |
//        'forward' | 'debug-lose-device' | 'message';
//        code = 'input' | 'weights' | 'gpu' | 'shape' | 'cancelled' | 'busy' | 'unloaded' | 'other'
//        (no model: send 'load' first) | 'other';
//        fatal: the wasm trapped, start a new worker;
//        dropped: no Lab is left (a failed load, a trap, or a 'gpu' error such as a lost
//        device): the next job needs a 'load' first, which gets a fresh GPU device (or the CPU)
// The pixel arrays are RGBA Uint8ClampedArrays: copied once out of the Lab's arrays, then
// transferred (not cloned again) to the page.
//
// ORDER: every message but 'cancel' is handled one at a time, in the order it arrived (one
// promise chain is the queue). A 'generate' sent while another one runs waits until that one has
// finished, and a 'generate' sent right after a 'load' runs on the freshly loaded model. Nothing
// is ever handled twice at the same time, so the single Lab never sees two calls at once.
// CANCEL: a 'cancel' is handled the moment it arrives: the running job's step callback then
// returns false (the Lab stops after the current step) and a queued job never starts; either
// way the job ends with an 'error' whose code is 'cancelled'.
//
// ERRORS: everything is caught and answered with an 'error' message; the worker stays alive. A
// failed 'load' leaves no model behind and may be retried with a new 'load'. A rejected
// 'generate' (bad input, ...) does not harm the Lab: the next valid 'generate' works. A 'gpu'
// error does: the GPU device is lost or broken for good, so the Lab is dropped ('dropped': true)
// and the next 'load' builds a new one.

// The module's binary, named here so that a course-platform package can rename it (scripts/package.py):
// learning platforms accept only some file types in an upload.
const WASM_FILE = './pkg/diffusion_lab_bg.wasm';
let wasm = null;          // the imported module ./pkg/diffusion_lab.js after init()
let wasmExports = null;   // what init() returned: the module's exports, its memory among them
let initPromise = null;   // shared while init() runs; reset on failure so a retry can try again
let lab = null;           // the one Lab instance
let labKey = '';          // `${url}|${backend}` of the loaded Lab

const PROGRESS_INTERVAL_MS = 50;

function errorMessage(err) {
  if (err == null) return 'unknown error';
  if (typeof err === 'string') return err;
  if (err instanceof Error || typeof err.message === 'string') return err.message || String(err);
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

// The Lab's error codes (src/error.rs) and the worker's own; anything else is 'other'.
const CODES = new Set(['input', 'weights', 'gpu', 'shape', 'cancelled', 'busy', 'other', 'unloaded']);

function errorCode(err) {
  return typeof err?.code === 'string' && CODES.has(err.code) ? err.code : 'other';
}

function codedError(message, code) {
  const err = new Error(message);
  err.code = code;
  return err;
}

/**
 * A fresh RGBA copy whose buffer we may transfer. We always copy (4 KB per 32×32 image): the
 * Lab may keep its arrays (the final image may even be the last step's array), and an array may
 * be a view into the wasm memory, whose transfer would detach the module's memory.
 */
function ownArray(arr) {
  if (arr == null) return null;
  if (ArrayBuffer.isView(arr)) return new Uint8ClampedArray(arr.buffer.slice(arr.byteOffset, arr.byteOffset + arr.byteLength));
  return Uint8ClampedArray.from(arr);
}

function post(message, arrays = []) {
  const transfer = [];
  for (const a of arrays) if (a && !transfer.includes(a.buffer)) transfer.push(a.buffer);
  self.postMessage(message, transfer);
}

async function ensureWasm() {
  if (wasm) return wasm;
  if (!initPromise) {
    initPromise = (async () => {
      let mod;
      try {
        mod = await import('./pkg/diffusion_lab.js');
      } catch (err) {
        throw new Error(`could not load the WebAssembly module ./pkg/diffusion_lab.js (${errorMessage(err)})`);
      }
      wasmExports = await mod.default({ module_or_path: new URL(WASM_FILE, import.meta.url) });
      return mod;
    })();
  }
  try {
    wasm = await initPromise;
    return wasm;
  } catch (err) {
    initPromise = null;
    throw err;
  }
}

function freeLab() {
  if (lab) {
    try {
      lab.free?.();
    } catch {
      // already freed or never owned memory: nothing to do
    }
  }
  lab = null;
  labKey = '';
}

function readyMessage(id) {
  return {
    type: 'ready',
    id,
    backend: String(lab.backend ?? ''),
    adapter: String(lab.adapter ?? ''),
    softwareAdapter: lab.softwareAdapter === true,
    skippedSoftwareAdapter: lab.skippedSoftwareAdapter === true,
    fallbackReason: String(lab.fallbackReason ?? ''),
    cacheWarning: String(lab.cacheWarning ?? ''),
    models: readModels(),
    alphaBars: lab.alphaBars instanceof Float64Array ? lab.alphaBars : null,
  };
}

/** `lab.models` as a plain object: the default model and each model's sampling settings. */
function readModels() {
  const { models } = lab;
  const one = (m) => ({
    steps: Number(m.steps),
    maxSteps: Number(m.maxSteps),
    passesPerStep: Number(m.passesPerStep),
    guidance: m.guidance == null ? null : Number(m.guidance),
    sampler: String(m.sampler),
    timesteps: Array.from(m.timesteps, Number),
  });
  const out = { default: String(models.default), teacher: one(models.teacher) };
  if (models.student) out.student = one(models.student);
  return out;
}

async function handleLoad(msg) {
  const id = msg.id ?? null;
  const backend = msg.backend ?? 'auto'; // the Lab refuses any other than its BackendChoice names
  const key = `${msg.url}|${backend}`;
  if (lab && labKey === key) {
    post(readyMessage(id));
    return;
  }
  freeLab();
  if (typeof msg.url !== 'string' || msg.url === '') throw new Error('no manifest URL given');
  const { Lab } = await ensureWasm();

  let lastPost = 0;
  let lastFile = '';
  const onProgress = (p) => {
    try {
      const loaded = Number(p?.loaded ?? 0);
      const total = Number(p?.total ?? 0);
      const file = String(p?.file ?? '');
      const now = performance.now();
      // Throttle: the Lab calls this very often; the page only needs ~20 updates a second,
      // but always the first of a file and the last one.
      if (file === lastFile && now - lastPost < PROGRESS_INTERVAL_MS && loaded < total) return;
      lastPost = now;
      lastFile = file;
      post({ type: 'progress', id, loaded, total, file });
    } catch {
      // progress is cosmetic: never let it break the download
    }
  };
  lab = await Lab.load(msg.url, onProgress, { backend });
  labKey = key;
  post(readyMessage(id));
}

/** The message's prompt: text (none is the empty prompt); anything else is refused with words. */
function promptOf(msg) {
  if (msg.prompt == null) return '';
  if (typeof msg.prompt !== 'string') {
    const what = Array.isArray(msg.prompt) ? 'array' : typeof msg.prompt;
    throw codedError(`the prompt must be text, got ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}`, 'input');
  }
  return msg.prompt;
}

async function handleGenerate(msg) {
  const id = msg.id;
  if (!lab) throw codedError('the model is not loaded (send a "load" message first)', 'unloaded');
  if (cancelled.has(id)) throw codedError('cancelled', 'cancelled');
  const onStep = (s) => {
    // Strictly false: the Lab stops after this step and rejects with code "cancelled".
    if (cancelled.has(id)) return false;
    // Read the fields one by one: `s` may be a plain object or a wasm-bindgen object with getters.
    const x_next = ownArray(s.x_next);
    const eps = ownArray(s.eps);
    const x0 = ownArray(s.x0);
    const x_start = s.x_start ? ownArray(s.x_start) : null;
    const message = {
      type: 'step',
      id,
      index: Number(s.index),
      total: Number(s.total),
      t: Number(s.t),
      ms: Number(s.ms),
      width: Number(s.width),
      height: Number(s.height),
      x_next,
      eps,
      x0,
    };
    if (x_start) message.x_start = x_start;
    post(message, [x_next, eps, x0, x_start]);
    return true;
  };
  // the options as the page sent them: the Lab refuses what is not a plain object of known keys
  const res = await lab.generate(promptOf(msg), msg.options ?? null, onStep);
  // A Lab that ignores the callback's answer runs to the end: the page asked to stop, so stop.
  if (cancelled.has(id)) throw codedError('cancelled', 'cancelled');
  const image = ownArray(res.image);
  const steps = Number(res.steps);
  post({
    type: 'done',
    id,
    ms: Number(res.ms),
    backend: String(lab.backend),
    model: String(res.model),
    steps,
    passes: Number(res.passes),
    width: Number(res.width),
    height: Number(res.height),
    image,
  }, [image]);
}

async function handleForward(msg) {
  const id = msg.id;
  if (!lab) throw codedError('the model is not loaded (send a "load" message first)', 'unloaded');
  if (cancelled.has(id)) throw codedError('cancelled', 'cancelled');
  if (!ArrayBuffer.isView(msg.rgba) && !Array.isArray(msg.rgba)) {
    throw codedError('rgba must be the picture\'s RGBA bytes (a Uint8ClampedArray)', 'input');
  }
  const rgba = msg.rgba instanceof Uint8ClampedArray ? msg.rgba : new Uint8ClampedArray(msg.rgba);
  const res = await lab.forwardProcess(rgba, promptOf(msg), msg.options ?? null);
  const arrays = ['x_t', 'noise', 'epsHat', 'x0Hat'].map((k) => ownArray(res[k]));
  const [x_t, noise, epsHat, x0Hat] = arrays;
  post({
    type: 'forward',
    id,
    t: Number(res.t),
    alphaBar: Number(res.alphaBar),
    noiseError: Number(res.noiseError),
    width: Number(res.width),
    height: Number(res.height),
    x_t,
    noise,
    epsHat,
    x0Hat,
  }, arrays);
}

let gpuCounters = null;

async function handleStats(msg) {
  if (msg.countGpu && !gpuCounters) gpuCounters = (await import('./gpu-counters.js')).installGpuCounters();
  post({
    type: 'debug',
    id: msg.id ?? null,
    gpu: gpuCounters?.snapshot() ?? null,
    gpuBufferBytes: Number(lab?.gpuBufferBytes ?? 0),
    wasmBytes: wasmExports?.memory?.buffer?.byteLength ?? 0,
  });
}

async function handleLoseDevice(msg) {
  const lost = Boolean(await lab?.loseGpuDeviceForTest?.());
  post({ type: 'debug', id: msg.id ?? null, lost });
}

const OPS = {
  load: handleLoad, generate: handleGenerate, forward: handleForward, 'debug-lose-device': handleLoseDevice, 'debug-stats': handleStats,
};

async function handle(msg) {
  const op = msg?.type;
  try {
    const handler = Object.hasOwn(OPS, op) ? OPS[op] : null;
    if (!handler) throw new Error(`unknown message type ${JSON.stringify(op)}`);
    await handler(msg);
  } catch (err) {
    // A trap inside the wasm (a Rust panic) may leave its memory inconsistent: say so, so that
    // the page replaces this worker and loads the model afresh.
    const fatal = typeof WebAssembly !== 'undefined' && err instanceof WebAssembly.RuntimeError;
    const code = errorCode(err);
    // A lost GPU device does not come back: drop the Lab, the next 'load' gets a new device.
    const dropped = op === 'load' || fatal || code === 'gpu';
    if (dropped) freeLab();
    post({
      type: 'error',
      id: msg?.id ?? null,
      op: Object.hasOwn(OPS, op) ? op : 'message',
      code,
      message: errorMessage(err),
      fatal,
      dropped,
    });
  }
}

const waiting = new Set();   // ids of the jobs queued or running
const cancelled = new Set(); // ids of those the page cancelled

let queue = Promise.resolve();
self.addEventListener('message', (event) => {
  const msg = event.data;
  if (msg?.type === 'cancel') {
    // At once, outside the queue: the running job sees it at its next step.
    if (waiting.has(msg.id)) cancelled.add(msg.id);
    return;
  }
  const id = msg?.id;
  if (id != null) waiting.add(id);
  queue = queue.then(() => handle(msg)).finally(() => {
    waiting.delete(id);
    cancelled.delete(id);
  });
});

self.addEventListener('messageerror', () => {
  post({ type: 'error', id: null, op: 'message', message: 'a message to the worker could not be read' });
});

// A promise rejection nobody caught (e.g. inside the wasm glue) is reported instead of vanishing.
self.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  post({ type: 'error', id: null, op: 'message', message: errorMessage(event.reason) });
});
