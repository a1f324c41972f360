// LabClient: the page side of the model worker (../worker.js). One worker, and so one model in
// memory, per (manifest URL, backend): several <diffusion-lab> elements on a page share it.
//
//   const client = getClient(manifestUrl, backend);
//   const limits = await readLimits(client);           // what the wasm checks (src/limits.rs), no model needed
//   const info = await client.load(onProgress);        // {backend, adapter, softwareAdapter, skippedSoftwareAdapter, fallbackReason, cacheWarning, models}
//   const job = client.start('generate', {prompt, options}, onStep);
//   job.cancel();                                      // asks the worker to stop after this step
//   const result = await job.promise;                  // rejects with a LabError
//   client.cancelLoad();                               // stops a download: the worker is ended
//   client.retain(); client.release();                 // who uses it: unused for idleMs, it ends its worker
//   await client.loseGpuDeviceForTest();               // test hook: {lost}, see the method
//
// A load that gets no byte for LabClient.stallMs fails with code "stalled" (the worker is ended,
// the next load starts afresh). A job that finds the model gone (another element on the same
// worker lost the GPU device) loads it again and runs once more.
// A job that fails with code "gpu" (e.g. the GPU device was lost) leaves no model in the worker:
// `info` is reset, so the next load() loads the model again on a fresh device (or the CPU).
// Every failure is a LabError: `kind` says what was running ("input" | "load" | "generate" |
// "forward" | "worker"), `code` why ("input" | "weights" | "gpu" | "shape" | "cancelled" | "stalled" | "busy" |
// "unloaded" | "other"), `detail` the English message from the worker or the wasm, and `key`
// (for errors the element found itself) the i18n key that explains it.

import { TO_WORKER, FROM_WORKER } from './protocol.js';

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

// Every worker runs the same wasm, so one answer serves every client; a failed ask is asked again.
let sharedLimits = null;

/** The limits and defaults of the wasm API (`limits()`): the worker starts the wasm, loads no model. */
export function readLimits(client) {
  if (!sharedLimits) {
    sharedLimits = client.start(TO_WORKER.limits, {}).promise.then((msg) => msg.limits);
    sharedLimits.catch(() => { sharedLimits = null; });
  }
  return sharedLimits;
}

export function getClient(url, backend) {
  const key = `${url}|${backend}`;
  let client = clients.get(key);
  if (!client) {
    client = new LabClient(url, backend);
    client.onDispose = () => { if (clients.get(key) === client) clients.delete(key); };
    clients.set(key, client);
  }
  return client;
}

const KIND_OF_OP = { limits: 'load', load: 'load', generate: 'generate', forward: 'forward' };

export class LabClient {
  /** A download that brings no byte for this long is given up (ms). */
  static stallMs = 30_000;
  /** A client nobody retains ends its worker (and frees its model and GPU device) after this long (ms). */
  static idleMs = 60_000;
  /** Jobs waiting and not a word from the worker for this long (ms): it is gone (killed, hung). */
  static jobSilenceMs = 60_000;

  constructor(url, backend) {
    this.url = url;
    this.backend = backend;
    this.worker = null;
    this.info = null;            // {backend, adapter, softwareAdapter, skippedSoftwareAdapter, fallbackReason, cacheWarning, models} once loaded
    this.loading = null;         // promise while a load runs
    this.loadWaiter = null;      // {id, resolve, reject}
    this.progressListeners = new Set();
    this.pending = new Map();    // job id -> {resolve, reject, onStep, op}
    this.nextId = 1;
    this.users = 0;
    this.idleTimer = null;
    this.stallTimer = null;
    this.silenceTimer = null;
    this.onDispose = null;
  }

  retain() {
    this.users++;
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  release() {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) this.scheduleDispose();
  }

  scheduleDispose() {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.users > 0) return;
      // still working for someone (a run started before the element left): wait for it
      if (this.loading || this.pending.size) this.scheduleDispose();
      else this.dispose();
    }, LabClient.idleMs);
  }

  /** Ends the worker; getClient() makes a new client for this model next time. */
  dispose() {
    clearTimeout(this.idleTimer);
    this.crash(new LabError({ kind: 'worker', code: 'cancelled', detail: 'the model worker was ended' }));
    this.onDispose?.();
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
    clearTimeout(this.stallTimer);
    clearTimeout(this.silenceTimer);
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
      clearTimeout(this.stallTimer);
      this.loading = null;
      this.loadWaiter = null;
      this.progressListeners.clear();
    };
    this.loading.then(cleanup, cleanup);
    this.watchStall(0, 1);
    try {
      this.startWorker().postMessage({ type: TO_WORKER.load, id, url: this.url, backend: this.backend });
    } catch (err) {
      this.loadWaiter.reject(err);
    }
    return this.loading;
  }

  /** (Re)starts the stall watch while bytes are still due; once all are in, building the model may take its time. */
  watchStall(loaded, total) {
    clearTimeout(this.stallTimer);
    if (total > 0 && loaded >= total) return;
    const ms = LabClient.stallMs;
    this.stallTimer = setTimeout(() => {
      if (!this.loading) return;
      const seconds = Math.round(ms / 1000);
      this.crash(new LabError({ kind: 'load', code: 'stalled', params: { seconds }, detail: `the download brought no data for ${seconds} s` }));
    }, ms);
  }

  /** Stops a load in progress: its worker (and the download) is ended, the load rejects with "cancelled". */
  cancelLoad() {
    if (!this.loading) return false;
    this.crash(new LabError({ kind: 'load', code: 'cancelled', detail: 'the download was cancelled' }));
    return true;
  }

  /**
   * Sends a job ("limits", "generate" or "forward") to the worker. Returns {id, promise, cancel}.
   */
  start(op, payload, onStep = null) {
    const job = { id: 0, cancelled: false };
    const send = () => new Promise((resolve, reject) => {
      job.id = this.nextId++;
      let worker;
      try {
        worker = this.startWorker();
      } catch (err) {
        reject(err);
        return;
      }
      this.pending.set(job.id, { resolve, reject, onStep, op });
      worker.postMessage({ type: op, id: job.id, ...payload });
      this.watchJobs();
    });
    const promise = send().catch(async (err) => {
      // The model went away under this job (another element's run lost the GPU device):
      // load it again and run once more, unless the job was cancelled meanwhile.
      if (err?.code !== 'unloaded' || job.cancelled) throw err;
      await this.load();
      if (job.cancelled) throw new LabError({ kind: KIND_OF_OP[op] ?? 'generate', code: 'cancelled', detail: 'cancelled' });
      return send();
    });
    return {
      get id() { return job.id; },
      promise,
      cancel: () => {
        job.cancelled = true;
        this.cancel(job.id);
      },
    };
  }

  /**
   * Test hook (tests/e2e/device-lost.test.mjs): the worker's Lab loses its GPU device, as in a
   * driver reset or a crashed GPU process. Resolves with {lost} (false without a model or on
   * the CPU path); the next job then fails with code "gpu".
   */
  loseGpuDeviceForTest() {
    return this.start(TO_WORKER.loseDevice, {}).promise;
  }

  /** Soak hook (scripts/soak.mjs): the worker's WebGPU object counts and memory; `countGpu` starts counting. */
  statsForTest(countGpu = false) {
    return this.start(TO_WORKER.stats, { countGpu }).promise;
  }

  /** Asks the worker to stop job `id`: it answers with an error whose code is "cancelled". */
  cancel(id) {
    if (this.pending.has(id)) this.worker?.postMessage({ type: TO_WORKER.cancel, id });
  }

  /** While jobs wait, every message from the worker shows it is alive; silence for jobSilenceMs means it is not. */
  watchJobs() {
    clearTimeout(this.silenceTimer);
    if (this.pending.size === 0) return;
    const ms = LabClient.jobSilenceMs;
    this.silenceTimer = setTimeout(() => {
      const seconds = Math.round(ms / 1000);
      this.crash(new LabError({ kind: 'worker', key: 'errWorkerSilent', params: { seconds }, detail: `no answer from the model worker for ${seconds} s` }));
    }, ms);
  }

  onMessage(msg) {
    if (!msg || typeof msg !== 'object') return;
    // after this message is handled: the watch goes on while jobs wait, and ends when none does
    queueMicrotask(() => this.watchJobs());
    switch (msg.type) {
      case FROM_WORKER.progress:
        if (this.loading) this.watchStall(Number(msg.loaded), Number(msg.total));
        for (const listener of this.progressListeners) {
          try {
            listener(msg);
          } catch (err) {
            console.warn('diffusion-lab: progress listener failed', err);
          }
        }
        break;
      case FROM_WORKER.ready:
        this.info = {
          backend: msg.backend,
          adapter: msg.adapter,
          softwareAdapter: msg.softwareAdapter === true,
          skippedSoftwareAdapter: msg.skippedSoftwareAdapter === true,
          fallbackReason: msg.fallbackReason,
          cacheWarning: msg.cacheWarning ?? '',
          models: msg.models ?? null,
          alphaBars: msg.alphaBars instanceof Float64Array ? msg.alphaBars : null,  // ᾱ_t for every t
        };
        this.loadWaiter?.resolve(this.info);
        break;
      case FROM_WORKER.step: {
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
      case FROM_WORKER.limits:
      case FROM_WORKER.done:
      case FROM_WORKER.forward:
      case FROM_WORKER.debug: {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg);
        break;
      }
      case FROM_WORKER.error: {
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
