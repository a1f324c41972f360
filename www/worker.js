// The Web Worker that owns the one `Lab` (the WebAssembly diffusion model) of a page.
// Start it as a module worker:  new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })
//
// Messages in (page → worker):
//   { type: 'load', id?, url, forceCpu }     load the model files listed in the manifest at `url`
//   { type: 'generate', id, prompt, options } options = { steps, seed, guidance, sampler }
// Messages out (worker → page):
//   { type: 'progress', id?, loaded, total, file }             while the files download
//   { type: 'ready', id?, backend, adapter, fallbackReason }   the model is ready
//   { type: 'step', id, index, total, t, ms, width, height, x_t, eps, x0 }  after every step
//   { type: 'done', id, ms, backend, steps, width, height, image }
//   { type: 'error', id, op, message, fatal }                 op = 'load' | 'generate' | 'message';
//                                                             fatal: the wasm trapped, start a new worker
// The pixel arrays are RGBA Uint8ClampedArrays: copied once out of the Lab's arrays, then
// transferred (not cloned again) to the page.
//
// ORDER: every message is handled one at a time, in the order it arrived (one promise chain is
// the queue). A 'generate' sent while another one runs waits until that one has finished, and a
// 'generate' sent right after a 'load' runs on the freshly loaded model. Nothing is ever
// handled twice at the same time, so the single Lab never sees two calls at once.
//
// ERRORS: everything is caught and answered with an 'error' message; the worker stays alive. A
// failed 'load' leaves no model behind and may be retried with a new 'load'. A rejected
// 'generate' (bad input, ...) does not harm the Lab: the next valid 'generate' works.

let wasm = null;          // the imported module ./pkg/diffusion_lab.js after init()
let initPromise = null;   // shared while init() runs; reset on failure so a retry can try again
let lab = null;           // the one Lab instance
let labKey = '';          // `${url}|${forceCpu}` of the loaded Lab

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
      await mod.default();
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
    fallbackReason: String(lab.fallbackReason ?? ''),
  };
}

async function handleLoad(msg) {
  const id = msg.id ?? null;
  const forceCpu = Boolean(msg.forceCpu);
  const key = `${msg.url}|${forceCpu}`;
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
  lab = await Lab.load(msg.url, onProgress, { forceCpu });
  labKey = key;
  post(readyMessage(id));
}

async function handleGenerate(msg) {
  const id = msg.id;
  if (!lab) throw new Error('the model is not loaded yet (send a "load" message first)');
  const onStep = (s) => {
    // Read the fields one by one: `s` may be a plain object or a wasm-bindgen object with getters.
    const x_t = ownArray(s.x_t);
    const eps = ownArray(s.eps);
    const x0 = ownArray(s.x0);
    post({
      type: 'step',
      id,
      index: Number(s.index),
      total: Number(s.total),
      t: Number(s.t),
      ms: Number(s.ms),
      width: Number(s.width ?? 32),
      height: Number(s.height ?? 32),
      x_t,
      eps,
      x0,
    }, [x_t, eps, x0]);
  };
  const res = await lab.generate(String(msg.prompt ?? ''), { ...(msg.options ?? {}) }, onStep);
  const image = ownArray(res.image);
  post({
    type: 'done',
    id,
    ms: Number(res.ms),
    backend: String(res.backend ?? lab.backend ?? ''),
    steps: Number(res.steps),
    width: Number(res.width ?? 32),
    height: Number(res.height ?? 32),
    image,
  }, [image]);
}

async function handle(msg) {
  const op = msg?.type;
  try {
    if (op === 'load') await handleLoad(msg);
    else if (op === 'generate') await handleGenerate(msg);
    else throw new Error(`unknown message type ${JSON.stringify(op)}`);
  } catch (err) {
    // A trap inside the wasm (a Rust panic) may leave its memory inconsistent: say so, so that
    // the page replaces this worker and loads the model afresh.
    const fatal = typeof WebAssembly !== 'undefined' && err instanceof WebAssembly.RuntimeError;
    if (op === 'load' || fatal) freeLab();
    post({
      type: 'error',
      id: msg?.id ?? null,
      op: op === 'load' || op === 'generate' ? op : 'message',
      message: errorMessage(err),
      fatal,
    });
  }
}

let queue = Promise.resolve();
self.addEventListener('message', (event) => {
  const msg = event.data;
  queue = queue.then(() => handle(msg), () => handle(msg));
});

self.addEventListener('messageerror', () => {
  post({ type: 'error', id: null, op: 'message', message: 'a message to the worker could not be read' });
});

// A promise rejection nobody caught (e.g. inside the wasm glue) is reported instead of vanishing.
self.addEventListener('unhandledrejection', (event) => {
  event.preventDefault();
  post({ type: 'error', id: null, op: 'message', message: errorMessage(event.reason) });
});
