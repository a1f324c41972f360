// LabClient: the page side of the model worker (../worker.js). One worker, and so one model in
// memory, per (manifest URL, forceCpu): several <diffusion-lab> elements on a page share it.
//
//   const client = getClient(manifestUrl, forceCpu);
//   const info = await client.load(onProgress);        // {backend, adapter, softwareAdapter, fallbackReason, cacheWarning, models}
//   const job = client.start('generate', {prompt, options}, onStep);
//   job.cancel();                                      // asks the worker to stop after this step
//   const result = await job.promise;                  // rejects with a LabError
//   await client.loseGpuDeviceForTest();               // test hook: {lost}, see the method
//
// A job that fails with code "gpu" (e.g. the GPU device was lost) leaves no model in the worker:
// `info` is reset, so the next load() loads the model again on a fresh device (or the CPU).
// Every failure is a LabError: `kind` says what was running ("input" | "load" | "generate" |
// "forward" | "worker"), `code` why ("input" | "weights" | "gpu" | "cancelled" | "busy" |
// "unsupported" | "other"), `detail` the English message from the worker or the wasm, and `key`
// (for errors the element found itself) the i18n key that explains it.

const WORKER_URL = new URL('../worker.js', import.meta.url);

export class LabError extends Error {
  constructor({ kind, code = 'other', key = null, params = {}, detail = '' }) {
    super(detail || key || code);
    this.kind = kind;
    this.code = code;
    this.key = key;
    this.params = params;
    this.detail = detail;
  }
}

const clients = new Map();

export function getClient(url, forceCpu) {
  const key = `${url}|${forceCpu}`;
  let client = clients.get(key);
  if (!client) {
    client = new LabClient(url, forceCpu);
    clients.set(key, client);
  }
  return client;
}

const KIND_OF_OP = { load: 'load', generate: 'generate', forward: 'forward' };

export class LabClient {
  constructor(url, forceCpu) {
    this.url = url;
    this.forceCpu = forceCpu;
    this.worker = null;
    this.info = null;            // {backend, adapter, softwareAdapter, fallbackReason, cacheWarning, models} once loaded
    this.loading = null;         // promise while a load runs
    this.loadWaiter = null;      // {id, resolve, reject}
    this.progressListeners = new Set();
    this.pending = new Map();    // job id -> {resolve, reject, onStep, op}
    this.nextId = 1;
  }

  startWorker() {
    if (this.worker) return this.worker;
    if (typeof Worker === 'undefined') throw new LabError({ kind: 'worker', key: 'errNoWorker' });
    let worker;
    try {
      worker = new Worker(WORKER_URL, { type: 'module' });
    } catch (err) {
      throw new LabError({ kind: 'worker', key: 'errNoWorker', detail: String(err?.message ?? err) });
    }
    worker.addEventListener('message', (event) => this.onMessage(event.data));
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.crash(event.message
        ? new LabError({ kind: 'worker', key: 'errWorker', params: { message: event.message }, detail: event.message })
        : new LabError({ kind: 'worker', key: 'errWorkerStart' }));
    });
    worker.addEventListener('messageerror', () => {
      const message = 'a message from the worker could not be read';
      this.crash(new LabError({ kind: 'worker', key: 'errWorker', params: { message }, detail: message }));
    });
    this.worker = worker;
    return worker;
  }

  /** The worker died: fail everything that waits on it; the next call starts a new worker. */
  crash(error) {
    try {
      this.worker?.terminate();
    } catch {
      // already gone
    }
    this.worker = null;
    this.info = null;
    this.loadWaiter?.reject(error);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  load(onProgress) {
    if (this.info) return Promise.resolve(this.info);
    if (onProgress) this.progressListeners.add(onProgress);
    if (this.loading) return this.loading;
    const id = this.nextId++;
    this.loading = new Promise((resolve, reject) => {
      this.loadWaiter = { id, resolve, reject };
    });
    const cleanup = () => {
      this.loading = null;
      this.loadWaiter = null;
      this.progressListeners.clear();
    };
    this.loading.then(cleanup, cleanup);
    try {
      this.startWorker().postMessage({ type: 'load', id, url: this.url, forceCpu: this.forceCpu });
    } catch (err) {
      this.loadWaiter.reject(err);
    }
    return this.loading;
  }

  /**
   * Sends a job ("generate" or "forward") to the worker. Returns {id, promise, cancel}.
   * `transfer`: ArrayBuffers handed over to the worker (not copied).
   */
  start(op, payload, onStep = null, transfer = []) {
    const id = this.nextId++;
    const promise = new Promise((resolve, reject) => {
      let worker;
      try {
        worker = this.startWorker();
      } catch (err) {
        reject(err);
        return;
      }
      this.pending.set(id, { resolve, reject, onStep, op });
      worker.postMessage({ type: op, id, ...payload }, transfer);
    });
    return { id, promise, cancel: () => this.cancel(id) };
  }

  /**
   * Test hook (tests/e2e/device-lost.test.mjs): the worker's Lab loses its GPU device, as in a
   * driver reset or a crashed GPU process. Resolves with {lost} (false without a model or on
   * the CPU path); the next job then fails with code "gpu".
   */
  loseGpuDeviceForTest() {
    return this.start('debug-lose-device', {}).promise;
  }

  /** Asks the worker to stop job `id`: it answers with an error whose code is "cancelled". */
  cancel(id) {
    if (this.pending.has(id)) this.worker?.postMessage({ type: 'cancel', id });
  }

  onMessage(msg) {
    if (!msg || typeof msg !== 'object') return;
    switch (msg.type) {
      case 'progress':
        for (const listener of this.progressListeners) {
          try {
            listener(msg);
          } catch (err) {
            console.warn('diffusion-lab: progress listener failed', err);
          }
        }
        break;
      case 'ready':
        this.info = {
          backend: msg.backend,
          adapter: msg.adapter,
          softwareAdapter: msg.softwareAdapter === true,
          fallbackReason: msg.fallbackReason,
          cacheWarning: msg.cacheWarning ?? '',
          models: msg.models ?? null,
        };
        this.loadWaiter?.resolve(this.info);
        break;
      case 'step': {
        const p = this.pending.get(msg.id);
        if (p?.onStep) {
          try {
            p.onStep(msg);
          } catch (err) {
            console.warn('diffusion-lab: step handler failed', err);
          }
        }
        break;
      }
      case 'done':
      case 'forward':
      case 'debug': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg);
        break;
      }
      case 'error': {
        const detail = String(msg.message ?? 'unknown error');
        const code = String(msg.code ?? 'other');
        if (msg.op === 'load' || (this.loadWaiter && msg.id === this.loadWaiter.id)) {
          this.info = null;
          this.loadWaiter?.reject(new LabError({ kind: 'load', code, detail }));
        } else if (this.pending.has(msg.id)) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          p.reject(new LabError({ kind: KIND_OF_OP[p.op] ?? 'generate', code, detail }));
        } else {
          console.warn(`diffusion-lab worker: ${detail}`);
        }
        // The worker dropped its model (e.g. the GPU device was lost): the next load() reloads it.
        if (msg.dropped) this.info = null;
        if (msg.fatal) {
          // The wasm trapped: replace the worker; the next call loads the model again.
          this.crash(new LabError({ kind: 'worker', key: 'errWorker', params: { message: detail }, detail }));
        }
        break;
      }
      default:
        break;
    }
  }
}
