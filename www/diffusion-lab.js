// <diffusion-lab>: a custom element that generates a small picture from a text prompt with a
// diffusion model running in the browser (WebGPU, or the CPU in WebAssembly), and shows every
// denoising step. Plain ES module, no dependencies:
//
//   <script type="module" src="diffusion-lab.js"></script>
//   <diffusion-lab lang="de" prompt="Hund" steps="8" seed="1"></diffusion-lab>
//
// Attributes
//   lang        "de" | "en" (default: the browser's language)
//   prompt      initial prompt text
//   steps       initial number of denoising steps (1..100, default 8)
//   seed        initial seed (integer ≥ 0, default 1)
//   model-url   manifest URL (default "./models/manifest.json" next to this module);
//               relative values are resolved against the page
//   force-cpu   (boolean) skip WebGPU and use the CPU path
//   guidance    classifier-free guidance scale (default: the model's own, chosen by the Lab)
//   sampler     "ddim" | "dpm" (default: the Lab's)
//   autoload    (boolean) download the model as soon as the element is on the page
//
// Method
//   generate() → Promise resolving with the `done` detail, rejecting with an Error on bad
//                input or a failure (the same message the element shows in its alert).
// Events (bubble, composed)
//   step   detail {index, total, t, ms}     after the canvas shows the new x_t
//   done   detail {ms, backend, steps, width, height, prompt, seed}
//   error  detail {message, kind}           kind: "input" | "load" | "generate" | "worker"
//
// The model itself lives in a module Web Worker (worker.js). Elements that use the same
// manifest share one worker, so a page with several widgets downloads the weights only once.

import { format, pickLang } from './i18n.js';

const DEFAULT_MODEL_URL = new URL('./models/manifest.json', import.meta.url).href;
const WORKER_URL = new URL('./worker.js', import.meta.url);

export const LIMITS = Object.freeze({
  stepsMin: 1,
  stepsMax: 100,
  promptMaxChars: 1000,
  seedMax: Number.MAX_SAFE_INTEGER, // 2^53 - 1: the largest integer a JS number carries exactly
});
const DEFAULTS = Object.freeze({ steps: 8, seed: 1 });

/** An Error that knows which localized message explains it. */
class LabError extends Error {
  constructor(kind, key, params = {}) {
    super(params.message ?? key);
    this.kind = kind;
    this.key = key;
    this.params = params;
  }
}

// ---------------------------------------------------------------------------------------------
// LabClient: one worker + one model per (manifest URL, forceCpu), shared by all elements.

const clients = new Map();

function getClient(url, forceCpu) {
  const key = `${url}|${forceCpu}`;
  let client = clients.get(key);
  if (!client) {
    client = new LabClient(url, forceCpu);
    clients.set(key, client);
  }
  return client;
}

class LabClient {
  constructor(url, forceCpu) {
    this.url = url;
    this.forceCpu = forceCpu;
    this.worker = null;
    this.info = null;            // {backend, adapter, fallbackReason} once loaded
    this.loading = null;         // promise while a load runs
    this.loadWaiter = null;      // {id, resolve, reject}
    this.progressListeners = new Set();
    this.pending = new Map();    // generate id -> {resolve, reject, onStep}
    this.nextId = 1;
  }

  startWorker() {
    if (this.worker) return this.worker;
    if (typeof Worker === 'undefined') throw new LabError('worker', 'errNoWorker');
    let worker;
    try {
      worker = new Worker(WORKER_URL, { type: 'module' });
    } catch (err) {
      throw new LabError('worker', 'errNoWorker', { message: String(err?.message ?? err) });
    }
    worker.addEventListener('message', (event) => this.onMessage(event.data));
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      this.crash(event.message ? new LabError('worker', 'errWorker', { message: event.message })
        : new LabError('worker', 'errWorkerStart'));
    });
    worker.addEventListener('messageerror', () => {
      this.crash(new LabError('worker', 'errWorker', { message: 'a message from the worker could not be read' }));
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

  generate(prompt, options, onStep) {
    return new Promise((resolve, reject) => {
      let worker;
      try {
        worker = this.startWorker();
      } catch (err) {
        reject(err);
        return;
      }
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject, onStep });
      worker.postMessage({ type: 'generate', id, prompt, options });
    });
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
        this.info = { backend: msg.backend, adapter: msg.adapter, fallbackReason: msg.fallbackReason };
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
      case 'done': {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg);
        break;
      }
      case 'error': {
        const message = String(msg.message ?? 'unknown error');
        if (msg.op === 'load' || (this.loadWaiter && msg.id === this.loadWaiter.id)) {
          this.info = null;
          this.loadWaiter?.reject(new LabError('load', 'errLoad', { message }));
        } else if (this.pending.has(msg.id)) {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          p.reject(new LabError('generate', 'errGenerate', { message }));
        } else {
          console.warn(`diffusion-lab worker: ${message}`);
        }
        if (msg.fatal) {
          // The wasm trapped: replace the worker; the next call loads the model again.
          this.crash(new LabError('worker', 'errWorker', { message }));
        }
        break;
      }
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The element.

const STYLE = `
:host {
  display: block;
  max-width: 46rem;
  color-scheme: light dark;
  --dl-accent: #3b5bdb;
  --dl-accent-text: #fff;
  --dl-border: color-mix(in srgb, currentColor 25%, transparent);
  --dl-muted: color-mix(in srgb, currentColor 70%, transparent);
  --dl-panel: color-mix(in srgb, currentColor 5%, transparent);
  --dl-alert-bg: #fde8e8;
  --dl-alert-fg: #8a1c1c;
  --dl-notice-bg: #fff4d6;
  --dl-notice-fg: #5c4400;
  font: inherit;
  line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :host {
    --dl-accent: #91a7ff;
    --dl-accent-text: #111;
    --dl-alert-bg: #4a1616;
    --dl-alert-fg: #ffd7d7;
    --dl-notice-bg: #3d3212;
    --dl-notice-fg: #ffe8a8;
  }
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.lab {
  border: 1px solid var(--dl-border);
  border-radius: 12px;
  padding: 1rem;
  background: var(--dl-panel);
  display: grid;
  gap: 0.75rem;
}
form {
  display: grid;
  grid-template-columns: 1fr 1fr;
  gap: 0.75rem;
  margin: 0;
}
.field { display: grid; gap: 0.25rem; min-width: 0; align-content: start; }
.field.prompt, .actions { grid-column: 1 / -1; }
label { font-weight: 600; }
.hint { font-size: 0.85em; color: var(--dl-muted); margin: 0; }
input {
  font: inherit;
  width: 100%;
  min-height: 2.75rem;
  padding: 0.45rem 0.6rem;
  border: 1px solid var(--dl-border);
  border-radius: 8px;
  background: Canvas;
  color: CanvasText;
}
input[aria-invalid="true"] { border-color: #c92a2a; box-shadow: 0 0 0 1px #c92a2a; }
.with-button { display: flex; gap: 0.4rem; }
button {
  font: inherit;
  min-height: 2.75rem;
  min-width: 2.75rem;
  border-radius: 8px;
  border: 1px solid var(--dl-border);
  background: Canvas;
  color: CanvasText;
  cursor: pointer;
}
button.primary {
  background: var(--dl-accent);
  color: var(--dl-accent-text);
  border-color: transparent;
  font-weight: 700;
  padding: 0.5rem 1.25rem;
  width: 100%;
}
button:disabled { opacity: 0.55; cursor: progress; }
:is(input, button):focus-visible { outline: 3px solid var(--dl-accent); outline-offset: 2px; }
.progress { display: grid; grid-template-columns: 1fr auto; gap: 0.5rem; align-items: center; }
.progress[hidden] { display: none; }
progress { width: 100%; height: 0.9rem; accent-color: var(--dl-accent); }
.mb { font-variant-numeric: tabular-nums; white-space: nowrap; }
.status { margin: 0; min-height: 1.45em; }
.notice, .alert { margin: 0; padding: 0.6rem 0.8rem; border-radius: 8px; }
.notice { background: var(--dl-notice-bg); color: var(--dl-notice-fg); }
.notice[hidden] { display: none; }
.alert { background: var(--dl-alert-bg); color: var(--dl-alert-fg); font-weight: 600; overflow-wrap: anywhere; }
.alert:empty { display: none; }
.views { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
figure { margin: 0; display: grid; gap: 0.3rem; justify-items: start; }
figcaption { font-size: 0.9em; }
canvas {
  display: block;
  image-rendering: pixelated;
  image-rendering: crisp-edges;
  aspect-ratio: 1 / 1;
  height: auto;
  border: 1px solid var(--dl-border);
  border-radius: 6px;
  background: repeating-conic-gradient(#8883 0% 25%, transparent 0% 50%) 50% / 16px 16px;
}
.main canvas { width: min(256px, 100%); }
.main { flex: 0 1 256px; min-width: 0; }
.side { flex: 1 1 12rem; display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fill, minmax(7rem, 1fr)); }
.side canvas { width: 96px; max-width: 100%; }
.stepinfo { grid-column: 1 / -1; margin: 0; display: grid; gap: 0.1rem; font-variant-numeric: tabular-nums; }
.stepinfo .counter { font-size: 1.25em; font-weight: 700; }
.explain { grid-column: 1 / -1; margin: 0; font-size: 0.9em; color: var(--dl-muted); }
button svg { display: block; margin: auto; }
@media (max-width: 420px) {
  .lab { padding: 0.75rem; }
  form { grid-template-columns: 1fr; }
  .main { flex-basis: 100%; }
}
`;

const HTML = `
<div class="lab" part="container">
  <form novalidate part="form">
    <div class="field prompt">
      <label for="prompt" data-i18n="promptLabel"></label>
      <input id="prompt" name="prompt" type="text" autocomplete="off" dir="auto"
             aria-describedby="prompt-hint" data-i18n-placeholder="promptPlaceholder">
      <p class="hint" id="prompt-hint" data-i18n="promptHint"></p>
    </div>
    <div class="field">
      <label for="seed" data-i18n="seedLabel"></label>
      <div class="with-button">
        <input id="seed" name="seed" type="number" inputmode="numeric" min="0" step="1"
               aria-describedby="seed-hint">
        <button type="button" id="dice" data-i18n-label="randomSeed">
          <svg aria-hidden="true" focusable="false" width="22" height="22" viewBox="0 0 24 24">
            <rect x="3" y="3" width="18" height="18" rx="4" fill="none" stroke="currentColor" stroke-width="2"/>
            <circle cx="8" cy="8" r="1.7" fill="currentColor"/><circle cx="16" cy="8" r="1.7" fill="currentColor"/>
            <circle cx="12" cy="12" r="1.7" fill="currentColor"/>
            <circle cx="8" cy="16" r="1.7" fill="currentColor"/><circle cx="16" cy="16" r="1.7" fill="currentColor"/>
          </svg>
        </button>
      </div>
      <p class="hint" id="seed-hint" data-i18n="seedHint"></p>
    </div>
    <div class="field">
      <label for="steps" data-i18n="stepsLabel"></label>
      <input id="steps" name="steps" type="number" inputmode="numeric" min="1" max="100" step="1"
             aria-describedby="steps-hint">
      <p class="hint" id="steps-hint" data-i18n="stepsHint"></p>
    </div>
    <div class="actions">
      <button type="submit" class="primary" id="generate" part="button"></button>
    </div>
  </form>
  <div class="progress" id="progress" hidden>
    <progress id="progress-bar" data-i18n-label="progressLabel"></progress>
    <span class="mb" id="progress-text" aria-hidden="true"></span>
  </div>
  <p class="status" id="status" role="status" aria-live="polite"></p>
  <p class="notice" id="notice" hidden></p>
  <p class="alert" id="alert" role="alert" part="alert"></p>
  <div class="views" id="views">
    <figure class="main">
      <canvas id="xt" width="32" height="32" role="img" part="canvas"></canvas>
      <figcaption data-i18n="mainCaption"></figcaption>
    </figure>
    <div class="side">
      <figure>
        <canvas id="eps" width="32" height="32" role="img"></canvas>
        <figcaption data-i18n="epsCaption"></figcaption>
      </figure>
      <figure>
        <canvas id="x0" width="32" height="32" role="img"></canvas>
        <figcaption data-i18n="x0Caption"></figcaption>
      </figure>
      <p class="stepinfo">
        <span class="counter" id="counter"></span>
        <span id="timestep"></span>
        <span id="steptime"></span>
      </p>
      <p class="explain" data-i18n="explain"></p>
    </div>
  </div>
</div>
`;

function isIntegerString(text) {
  return /^\d+$/.test(text);
}

export class DiffusionLabElement extends HTMLElement {
  static get observedAttributes() {
    return ['lang', 'prompt', 'steps', 'seed', 'model-url', 'force-cpu', 'autoload'];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    root.innerHTML = `<style>${STYLE}</style>${HTML}`;
    const $ = (id) => root.getElementById(id);
    this.$ = {
      form: root.querySelector('form'),
      prompt: $('prompt'),
      seed: $('seed'),
      steps: $('steps'),
      dice: $('dice'),
      button: $('generate'),
      progress: $('progress'),
      progressBar: $('progress-bar'),
      progressText: $('progress-text'),
      status: $('status'),
      notice: $('notice'),
      alert: $('alert'),
      views: $('views'),
      xt: $('xt'),
      eps: $('eps'),
      x0: $('x0'),
      counter: $('counter'),
      timestep: $('timestep'),
      steptime: $('steptime'),
    };
    this._busy = false;
    this._chain = Promise.resolve();
    this._info = null;
    this._text = {
      status: ['statusIdle', {}],
      alert: null,
      counter: ['stepCounterEmpty', {}],
      timestep: null,
      steptime: null,
      mainAlt: ['mainAltEmpty', {}],
      progress: null,
    };

    this.$.form.addEventListener('submit', (event) => {
      event.preventDefault();
      // Failures are shown in the element and reported by the `error` event.
      this.generate().catch(() => {});
    });
    this.$.dice.addEventListener('click', () => {
      const seed = crypto.getRandomValues(new Uint32Array(1))[0] % 1000000;
      this.$.seed.value = String(seed);
      this.$.seed.removeAttribute('aria-invalid');
    });
    for (const input of [this.$.prompt, this.$.seed, this.$.steps]) {
      input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
    }

    this.$.prompt.value = this.getAttribute('prompt') ?? '';
    this.$.steps.value = this.getAttribute('steps') ?? String(DEFAULTS.steps);
    this.$.seed.value = this.getAttribute('seed') ?? String(DEFAULTS.seed);
    this._render();
  }

  connectedCallback() {
    this._render();
    if (this.hasAttribute('autoload')) this._autoload();
  }

  attributeChangedCallback(name, oldValue, value) {
    if (oldValue === value) return;
    switch (name) {
      case 'prompt':
        this.$.prompt.value = value ?? '';
        break;
      case 'steps':
        this.$.steps.value = value ?? String(DEFAULTS.steps);
        break;
      case 'seed':
        this.$.seed.value = value ?? String(DEFAULTS.seed);
        break;
      case 'autoload':
        if (value !== null && this.isConnected) this._autoload();
        break;
      case 'model-url':
      case 'force-cpu':
        // Another model or backend: the next run loads it (its worker is shared per manifest).
        this._info = null;
        break;
      default:
        break;
    }
    this._render();
  }

  // -- public properties ------------------------------------------------------------------------

  get prompt() { return this.$.prompt.value; }
  set prompt(value) { this.setAttribute('prompt', String(value)); }
  get steps() { return Number(this.$.steps.value); }
  set steps(value) { this.setAttribute('steps', String(value)); }
  get seed() { return Number(this.$.seed.value); }
  set seed(value) { this.setAttribute('seed', String(value)); }
  /** "webgpu" | "cpu" once the model is loaded, else "". */
  get backend() { return this._info?.backend ?? ''; }
  /** True while the model loads or a picture is generated. */
  get busy() { return this._busy; }

  get modelUrl() {
    const attr = this.getAttribute('model-url');
    return attr ? new URL(attr, document.baseURI).href : DEFAULT_MODEL_URL;
  }

  get language() {
    return pickLang(this.getAttribute('lang') || (typeof navigator !== 'undefined' ? navigator.language : 'en'));
  }

  /**
   * Generates a picture from the current prompt, seed and steps.
   * Resolves with the `done` detail; rejects with an Error (also shown in the element).
   * Calls made while another one runs wait for it.
   */
  generate() {
    let values;
    try {
      values = this._readInputs();
    } catch (err) {
      return Promise.reject(this._fail(err));
    }
    const run = this._chain.then(() => this._run(values));
    this._chain = run.catch(() => {});
    return run;
  }

  // -- internals --------------------------------------------------------------------------------

  _t(key, params) {
    return format(this.language, key, params);
  }

  _client() {
    return getClient(this.modelUrl, this.hasAttribute('force-cpu'));
  }

  _readInputs() {
    const { prompt: promptInput, steps: stepsInput, seed: seedInput } = this.$;
    for (const input of [promptInput, stepsInput, seedInput]) input.removeAttribute('aria-invalid');
    const prompt = promptInput.value.trim();
    const invalid = (input, key, params) => {
      input.setAttribute('aria-invalid', 'true');
      const err = new LabError('input', key, params);
      err.input = input;
      return err;
    };
    if (prompt === '') throw invalid(promptInput, 'errEmptyPrompt');
    const length = [...prompt].length;
    if (length > LIMITS.promptMaxChars) {
      throw invalid(promptInput, 'errPromptTooLong', { length, max: LIMITS.promptMaxChars });
    }
    const stepsText = stepsInput.value.trim();
    const steps = Number(stepsText);
    if (!isIntegerString(stepsText) || steps < LIMITS.stepsMin || steps > LIMITS.stepsMax) {
      throw invalid(stepsInput, 'errSteps', { min: LIMITS.stepsMin, max: LIMITS.stepsMax });
    }
    const seedText = seedInput.value.trim();
    const seed = Number(seedText);
    if (!isIntegerString(seedText) || seed > LIMITS.seedMax) {
      throw invalid(seedInput, 'errSeed', { max: LIMITS.seedMax });
    }
    return { prompt, steps, seed };
  }

  /** Only what the page sets: the Lab owns the defaults (guidance, sampler) that fit its model. */
  _options(steps, seed) {
    const options = { steps, seed };
    const guidance = this.getAttribute('guidance');
    if (guidance !== null && guidance.trim() !== '' && Number.isFinite(Number(guidance))) options.guidance = Number(guidance);
    const sampler = this.getAttribute('sampler');
    if (sampler) options.sampler = sampler.trim().toLowerCase();
    return options;
  }

  async _ensureLoaded() {
    const client = this._client();
    if (!client.info) {
      this._setText('status', 'statusLoading');
      this._setProgress(0, 0);
      this.$.progress.hidden = false;
    }
    try {
      this._info = await client.load((p) => this._onProgress(p));
    } finally {
      this.$.progress.hidden = true;
    }
    this._showBackend();
    return this._info;
  }

  _autoload() {
    if (this._autoloadStarted) return;
    this._autoloadStarted = true;
    this._chain = this._chain.then(async () => {
      this._setBusy(true);
      try {
        await this._ensureLoaded();
      } catch (err) {
        this._fail(err);
      } finally {
        this._setBusy(false);
      }
    });
  }

  async _run({ prompt, steps, seed }) {
    this._setBusy(true);
    this._setText('alert', null);
    try {
      await this._ensureLoaded();
      this._setText('status', 'statusStarting');
      const res = await this._client().generate(prompt, this._options(steps, seed), (s) => this._onStep(s));
      if (res.image) this._draw(this.$.xt, res.image, res.width, res.height);
      const backend = res.backend || this.backend;
      const detail = {
        ms: res.ms,
        backend,
        steps: res.steps,
        width: res.width,
        height: res.height,
        prompt,
        seed,
      };
      this._setText('status', 'statusDone', {
        steps: res.steps,
        seconds: this._number(res.ms / 1000, 1),
        backend: this._t(backend === 'cpu' ? 'backendShortCpu' : 'backendShortWebgpu'),
      });
      this._emit('done', detail);
      return detail;
    } catch (err) {
      throw this._fail(err);
    } finally {
      this._setBusy(false);
    }
  }

  /** Shows an error in the alert, reports it by event, and returns the Error to reject with. */
  _fail(err) {
    const labErr = err instanceof LabError ? err
      : new LabError('generate', 'errGenerate', { message: String(err?.message ?? err) });
    this._setText('alert', labErr.key, labErr.params);
    if (labErr.kind !== 'input') this._setText('status', 'statusFailed');
    const message = this.$.alert.textContent;
    if (labErr.input) labErr.input.focus();
    this._emit('error', { message, kind: labErr.kind });
    const out = new Error(message);
    out.kind = labErr.kind;
    return out;
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  _setBusy(busy) {
    this._busy = busy;
    this.$.button.disabled = busy;
    this.$.views.setAttribute('aria-busy', String(busy));
    this._renderButton();
  }

  _onProgress(p) {
    this._setProgress(p.loaded, p.total);
    this._setText('status', p.file ? 'statusLoadingFile' : 'statusLoading', { file: p.file });
  }

  _setProgress(loaded, total) {
    const bar = this.$.progressBar;
    if (total > 0) {
      bar.max = total;
      bar.value = Math.min(loaded, total);
    } else {
      bar.removeAttribute('value'); // indeterminate
    }
    this._text.progress = total > 0 ? [loaded, total] : null;
    this._renderProgress();
  }

  _showBackend() {
    const info = this._info;
    if (!info) return;
    const backend = info.backend === 'cpu' ? this._t('backendCpu')
      : info.adapter ? this._t('backendWebgpu', { adapter: info.adapter }) : this._t('backendWebgpuNoName');
    this._setText('status', 'statusReady', { backend });
    this._renderNotice();
  }

  _onStep(s) {
    const w = s.width || 32;
    const h = s.height || 32;
    this._draw(this.$.xt, s.x_t, w, h);
    this._draw(this.$.eps, s.eps, w, h);
    this._draw(this.$.x0, s.x0, w, h);
    const step = s.index + 1;
    this._text.counter = ['stepCounter', { step, total: s.total }];
    this._text.timestep = ['stepTimestep', { t: s.t }];
    this._text.steptime = ['stepTime', { ms: this._number(s.ms, s.ms < 10 ? 1 : 0) }];
    this._text.mainAlt = ['mainAlt', { step, total: s.total }];
    // The status line is a live region: announce the run once, not every step.
    if (s.index === 0) this._text.status = ['statusGenerating', { total: s.total }];
    this._renderDynamic();
    this._emit('step', { index: s.index, total: s.total, t: s.t, ms: s.ms });
  }

  _draw(canvas, pixels, width, height) {
    if (!pixels || !width || !height) return;
    let data = pixels instanceof Uint8ClampedArray ? pixels
      : new Uint8ClampedArray(pixels.buffer ?? pixels, pixels.byteOffset ?? 0, pixels.byteLength ?? pixels.length);
    if (data.length !== width * height * 4) return;
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    canvas.getContext('2d').putImageData(new ImageData(data, width, height), 0, 0);
  }

  _number(value, digits) {
    // no thousands separator: "1.471 ms" reads as a fraction in English
    return new Intl.NumberFormat(this.language, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false })
      .format(Number.isFinite(value) ? value : 0);
  }

  _setText(slot, key, params = {}) {
    this._text[slot] = key ? [key, params] : null;
    this._renderDynamic();
  }

  // -- rendering of localized text --------------------------------------------------------------

  _render() {
    const root = this.shadowRoot;
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = this._t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = this._t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll('[data-i18n-label]')) {
      const label = this._t(el.dataset.i18nLabel);
      el.setAttribute('aria-label', label);
      el.title = label;
    }
    this.$.eps.setAttribute('aria-label', this._t('epsAlt'));
    this.$.x0.setAttribute('aria-label', this._t('x0Alt'));
    this._renderButton();
    this._renderProgress();
    this._renderNotice();
    this._showBackendTextIfReady();
    this._renderDynamic();
  }

  _showBackendTextIfReady() {
    // Re-localize "Model loaded on …" after a language switch.
    if (this._info && this._text.status?.[0] === 'statusReady') this._showBackend();
  }

  _renderDynamic() {
    const set = (el, slot) => {
      const entry = this._text[slot];
      el.textContent = entry ? this._t(entry[0], entry[1]) : '';
    };
    set(this.$.status, 'status');
    set(this.$.alert, 'alert');
    set(this.$.counter, 'counter');
    set(this.$.timestep, 'timestep');
    set(this.$.steptime, 'steptime');
    const alt = this._text.mainAlt;
    this.$.xt.setAttribute('aria-label', this._t(alt[0], alt[1]));
  }

  _renderButton() {
    this.$.button.textContent = this._t(this._busy ? 'working' : 'generate');
  }

  _renderProgress() {
    const p = this._text.progress;
    this.$.progressText.textContent = p
      ? this._t('progressMb', { loaded: this._number(p[0] / 1e6, 1), total: this._number(p[1] / 1e6, 1) })
      : '';
  }

  _renderNotice() {
    const info = this._info;
    const show = info?.backend === 'cpu';
    this.$.notice.hidden = !show;
    if (!show) {
      this.$.notice.textContent = '';
      return;
    }
    const reason = info.fallbackReason ? ` ${this._t('cpuNoticeReason', { reason: info.fallbackReason })}` : '';
    this.$.notice.textContent = this._t('cpuNotice') + reason;
  }
}

if (!customElements.get('diffusion-lab')) customElements.define('diffusion-lab', DiffusionLabElement);
