// The Web Worker that owns the one `Lab` (the WebAssembly diffusion model) of a page.
// Start it as a module worker:  new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
//
// The messages in and out: lab/protocol.js.
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

import { TO_WORKER, FROM_WORKER, ERROR_CODES } from './lab/protocol.js';

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

const CODES = new Set(ERROR_CODES);

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
        throw new Error(`could not load the WebAssembly module ./pkg/diffusion_lab.js (${errorMessage(err)})`, { cause: err });
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
    type: FROM_WORKER.ready,
    id,
    backend: String(lab.backend ?? ''),
    adapter: String(lab.adapter ?? ''),
    softwareAdapter: lab.softwareAdapter === true,
    skippedSoftwareAdapter: lab.skippedSoftwareAdapter === true,
    fallbackReason: String(lab.fallbackReason ?? ''),
    cacheWarning: String(lab.cacheWarning ?? ''),
    models: lab.models, // a plain object from the Lab: {default, student?, teacher}
    alphaBars: lab.alphaBars instanceof Float64Array ? lab.alphaBars : null,
  };
}

async function handleLimits(msg) {
  const { limits } = await ensureWasm();
  post({ type: FROM_WORKER.limits, id: msg.id ?? null, limits: limits() });
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
      post({ type: FROM_WORKER.progress, id, loaded, total, file });
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
      type: FROM_WORKER.step,
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
    type: FROM_WORKER.done,
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
    type: FROM_WORKER.forward,
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
    type: FROM_WORKER.debug,
    id: msg.id ?? null,
    gpu: gpuCounters?.snapshot() ?? null,
    gpuBufferBytes: Number(lab?.gpuBufferBytes ?? 0),
    wasmBytes: wasmExports?.memory?.buffer?.byteLength ?? 0,
  });
}

async function handleLoseDevice(msg) {
  const lost = Boolean(await lab?.loseGpuDeviceForTest?.());
  post({ type: FROM_WORKER.debug, id: msg.id ?? null, lost });
}

const OPS = {
  [TO_WORKER.limits]: handleLimits,
  [TO_WORKER.load]: handleLoad,
  [TO_WORKER.generate]: handleGenerate,
  [TO_WORKER.forward]: handleForward,
  [TO_WORKER.loseDevice]: handleLoseDevice,
  [TO_WORKER.stats]: handleStats,
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
      type: FROM_WORKER.error,
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
  if (msg?.type === TO_WORKER.cancel) {
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
  post({ type: FROM_WORKER.error, id: null, op: 'message', message: 'a message to the worker could not be read' });
});

// A promise rejection nobody caught (e.g. inside the wasm glue) is reported instead of vanishing.
self.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  post({ type: FROM_WORKER.error, id: null, op: 'message', message: errorMessage(event.reason) });
});
