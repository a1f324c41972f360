// <diffusion-lab>: a custom element that teaches diffusion with a small text-to-picture model
// running in the browser (WebGPU, or the CPU in WebAssembly). Three views, chosen by tabs:
//   reverse  generate a picture from a prompt and go through every denoising step
//   forward  add noise to a picture and see how well the model estimates that noise
//   compare  the distilled student (few steps) beside the teacher (many steps)
//   explore  one prompt over six seeds, the teacher over guidance 0 … 8 beside the student, and
//            one seed on the way from one prompt to another
// Plain ES module, no dependencies:
//
//   <script type="module" src="diffusion-lab.js"></script>
//   <diffusion-lab lang="de" prompt="Ein Hund im Park" seed="1"></diffusion-lab>
//
// Attributes (a value that makes no sense is ignored with a notice in the element)
//   lang        "de" | "en" (default: the browser's language)
//   mode        "reverse" | "forward" | "compare" | "explore": the view shown first (default "reverse")
//   model       "student" | "teacher" (default: the student where the model files have one)
//   prompt      initial prompt text
//   steps       initial number of denoising steps (student 1..4, teacher 1..100; default: the model's)
//   seed        initial seed (integer ≥ 0, default 1)
//   guidance    classifier-free guidance of the teacher (0..20, default: the teacher's)
//               (the limits are the wasm's own, src/limits.rs: the element asks its worker for
//               them when it is put on the page, and checks these attributes once they are known)
//   sampler     "ddim" | "dpm": the teacher's sampler (default: the teacher's)
//   model-url   manifest URL (default "./models/manifest.json" next to this module);
//               relative values are resolved against the page
//   forward-t   the forward view's noise level t (0..999, the model's last timestep; default 500)
//   forward-seed  the forward view's noise seed (default 1)
//   examples    example prompts to click, separated by "|" (default: the language's own; "" for none)
//   lock        controls the learner cannot change: any of "prompt seed steps model guidance mode"
//   share-url   the page "Link to this view" points to (default: embed.html next to this module)
//   backend     "auto" (default): WebGPU on a real GPU, the CPU path where WebGPU is only emulated
//               in software (SwiftShader, WARP, llvmpipe: slower there); "webgpu": WebGPU whenever
//               the browser has it; "cpu": the CPU path. (The `backend` property tells which runs.)
//   force-cpu   (boolean) the same as backend="cpu"
//   autoload    (boolean) download the model as soon as the element is on the page
//   autorun     (boolean) make the view's picture as soon as the element is on the page
//
// Properties
//   ready      Promise: the element knows the wasm's limits and has applied its attributes
// Methods
//   generate() → Promise of the `done` detail; rejects with an Error (kind, code, message)
//   compare()  → Promise of the `compare` detail (student and teacher, same prompt and seed)
//   seedGrid(), guidanceSweep(), promptBlend() → Promise of the `explore` detail ({kind, prompt, seed, runs})
//   cancel()   stops the running generation after its current step
// Events (bubble, composed)
//   step     {index, total, t, ms, panel, model}     after the canvas shows the new x_t
//   done     {ms, backend, model, steps, passes, width, height, prompt, seed}
//   compare  {prompt, seed, student: {steps, passes, ms, model}, teacher: {…}}
//   forward  {t, seed, prompt, alphaBar, noiseError}
//   cancel   {kind, step, total}                     a run stopped by cancel()
//   modechange {mode}                               the learner picked another tab
//   share    {url, copied}                          "Link to this view" made a link
//   explore  {kind: "seeds" | "guidance" | "blend", prompt, seed, runs: [{passes, ms}]}
//   error    {message, kind, code}   kind: "input" | "load" | "generate" | "forward" | "worker";
//                                    code: "input" | "weights" | "gpu" | "busy" | "other" | …
//
// The model itself lives in a module Web Worker (worker.js). Elements that use the same
// manifest share one worker, so a page with several widgets downloads the weights only once.
// No inline styles or scripts: the element works under a strict Content-Security-Policy.
//
// This file is the wiring; the parts live in lab/: settings.js (attributes → form, notices),
// inputs.js (field checks), reverse.js (the reverse run), jobs.js (queue, cancel, busy),
// loading.js (worker client, limits, download, backend notices), alerts.js (errors), tabs.js,
// and the other views' panels (forward.js, compare.js, explore.js, timeline.js).

import { format, pickLang, Localizer } from './i18n.js';
import { adoptStyles } from './lab/styles.js';
import { HTML } from './lab/template.js';
import { Timeline } from './lab/timeline.js';
import { ForwardPanel } from './lab/forward.js';
import { ComparePanel } from './lab/compare.js';
import { ExplorePanel } from './lab/explore.js';
import { Presets } from './lab/presets.js';
import { ShareLink } from './lab/share.js';
import { Settings, MODES } from './lab/settings.js';
import { Tabs } from './lab/tabs.js';
import { Jobs } from './lab/jobs.js';
import { Loading } from './lab/loading.js';
import { Alerts } from './lab/alerts.js';
import { ReverseRun } from './lab/reverse.js';
import { checkPrompt, checkSeed, checkWhole, invalidInput } from './lab/inputs.js';
import { parseName, randomSeed, resolveModelUrl } from './lab/parse.js';
import { BACKENDS } from './lab/protocol.js';

export { MODES };

const DEFAULT_MODEL_URL = new URL('./models/manifest.json', import.meta.url).href;
// The attributes that make a view: embed.html takes them from its URL, "Link to this view" writes them.
export const VIEW_ATTRIBUTES = Object.freeze([
  'mode', 'model', 'prompt', 'steps', 'seed', 'guidance', 'sampler', 'forward-t', 'forward-seed', 'examples', 'lock',
]);

export class DiffusionLabElement extends HTMLElement {
  static get observedAttributes() {
    return ['lang', ...VIEW_ATTRIBUTES, 'model-url', 'backend', 'force-cpu', 'autoload', 'autorun', 'share-url'];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    adoptStyles(root);
    root.innerHTML = HTML;
    const byId = (id) => root.getElementById(id);
    this.$ = byId;
    this.loc = new Localizer(() => this.language);
    this.el = {
      tabs: byId('tabs'),
      form: byId('form'),
      prompt: byId('prompt'),
      model: byId('model'),
      modelHint: byId('model-hint'),
      steps: byId('steps'),
      stepsHint: byId('steps-hint'),
      seed: byId('seed'),
      dice: byId('dice'),
      guidance: byId('guidance'),
      guidanceHint: byId('guidance-hint'),
      button: byId('generate'),
      cancel: byId('cancel'),
      progress: byId('progress'),
      progressBar: byId('progress-bar'),
      progressText: byId('progress-text'),
      status: byId('status'),
      notice: byId('notice'),
      useWebgpu: byId('use-webgpu'),
      cacheNotice: byId('cache-notice'),
      settings: byId('settings'),
      alert: byId('alert'),
      messages: byId('messages'),
      views: byId('views'),
    };
    this.lastImage = null;        // {image, width, height, prompt, seed, model, steps}
    this._ready = null;

    this._motion = typeof matchMedia === 'function' ? matchMedia('(prefers-reduced-motion: reduce)') : null;
    this._motion?.addEventListener?.('change', () => this.timeline.updateControls());

    this.jobs = new Jobs(this);
    this.loading = new Loading(this);
    this.alerts = new Alerts(this);
    this.settings = new Settings(this);
    this.timeline = new Timeline(this);
    this.reverse = new ReverseRun(this);
    this.forwardPanel = new ForwardPanel(this);
    this.comparePanel = new ComparePanel(this);
    this.explorePanel = new ExplorePanel(this);
    this.presets = new Presets(this);
    this.shareLink = new ShareLink(this);
    this.tabs = new Tabs(this);
    this._wire();

    this.setStatus('statusIdle');
    this.tabs.select('reverse');
    this.presets.applyLock();
    this._relocalize();
  }

  _wire() {
    const { form, dice, prompt, seed, steps, guidance, model, cancel, useWebgpu } = this.el;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      // Failures are shown in the element and reported by the `error` event.
      this.generate().catch(() => {});
    });
    useWebgpu.addEventListener('click', () => this._useWebgpu());
    dice.addEventListener('click', () => {
      // Same prompt, new seed: pick one and generate right away.
      seed.value = String(randomSeed());
      seed.removeAttribute('aria-invalid');
      this.generate().catch(() => {});
    });
    for (const input of [prompt, seed, steps, guidance]) {
      input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
    }
    steps.addEventListener('input', () => { this.settings.source.steps = 'user'; });
    guidance.addEventListener('input', () => { this.settings.source.guidance = 'user'; });
    model.addEventListener('change', () => this.settings.setModel(model.value, { user: true }));
    cancel.addEventListener('click', () => this.cancel());
  }

  connectedCallback() {
    // after the script that put the element on the page has set its attributes (embed.js sets
    // `backend`): the worker that answers the limits is then the one that loads the model
    queueMicrotask(() => this._whenConnected());
  }

  _whenConnected() {
    if (!this.isConnected) return;
    this.ready.then(() => {
      if (!this.isConnected) return;
      if (this.hasAttribute('autorun')) this._autorun();
      else if (this.hasAttribute('autoload')) this._autoload();
    }, () => {});
  }

  disconnectedCallback() {
    this.timeline.stop();
    this.loading.release();
  }

  attributeChangedCallback(name, oldValue, value) {
    if (oldValue === value) return;
    const settings = this.settings;
    switch (name) {
      case 'lang':
        this._relocalize();
        break;
      case 'prompt':
        this.el.prompt.value = value ?? '';
        this.syncPanels();
        break;
      case 'steps':
        settings.source.steps = 'attr';
        settings.applySteps();
        break;
      case 'seed':
        settings.applySeed();
        break;
      case 'guidance':
        settings.source.guidance = 'attr';
        settings.applyGuidance();
        break;
      case 'sampler':
        settings.applySampler();
        break;
      case 'model':
        settings.applyModel();
        break;
      case 'mode':
        settings.applyMode();
        break;
      case 'autoload':
      case 'autorun':
        if (value !== null && this.isConnected) queueMicrotask(() => this._whenConnected());
        break;
      case 'forward-t':
      case 'forward-seed':
        settings.applyForward();
        break;
      case 'examples':
        this.presets.renderExamples();
        break;
      case 'lock':
        this.presets.applyLock();
        break;
      case 'model-url':
      case 'backend':
      case 'force-cpu':
        if (name === 'model-url') {
          const bad = Boolean(value) && resolveModelUrl(value) === null;
          this.noteSetting('model-url', bad ? { value, why: 'whyUrl', fallback: DEFAULT_MODEL_URL } : null);
        }
        if (name === 'backend') {
          const bad = value !== null && parseName(value, BACKENDS) === null;
          this.noteSetting('backend', bad ? { value, why: 'whyOneOf', whyParams: { list: BACKENDS.join(', ') }, fallback: 'auto' } : null);
        }
        // Another model or backend: the next run loads it (its worker is shared per manifest).
        this.loading.forget();
        settings.applyModel();
        break;
      default:
        break;
    }
  }

  // -- public properties ------------------------------------------------------------------------

  get prompt() { return this.el.prompt.value; }
  set prompt(value) { this.setAttribute('prompt', String(value)); }
  get steps() { return Number(this.el.steps.value); }
  set steps(value) { this.setAttribute('steps', String(value)); }
  get seed() { return Number(this.el.seed.value); }
  set seed(value) { this.setAttribute('seed', String(value)); }
  /** The view shown: "reverse" | "forward" | "compare" | "explore". */
  get mode() { return this.tabs.mode; }
  set mode(value) { this.setAttribute('mode', String(value)); }
  /** The model chosen: "student" | "teacher". */
  get model() { return this.settings.modelKind; }
  set model(value) { this.setAttribute('model', String(value)); }
  /** "webgpu" | "cpu" once the model is loaded, else "". */
  get backend() { return this.loading.info?.backend ?? ''; }

  /** What the attributes ask for: "auto", "webgpu" or "cpu" (see `backend` above). */
  get backendChoice() {
    if (this.hasAttribute('force-cpu')) return 'cpu';
    return parseName(this.getAttribute('backend'), BACKENDS) ?? 'auto';
  }
  /** True while the model loads or a picture is generated. */
  get busy() { return this.jobs.busy; }
  /** The wasm's limits and defaults ({stepsMin, stepsMax, …, models}); null until `ready`. */
  get limits() { return this.loading.limits; }
  /** What the model files hold ({default, student?, teacher}); the limits' defaults until the model is loaded. */
  get models() { return this.loading.models ?? this.limits?.models ?? null; }
  get modelsKnown() { return Boolean(this.loading.models); }
  /** A run is loading, running or queued: cancel() stops it. */
  get cancellable() { return this.jobs.cancellable; }
  get reducedMotion() { return Boolean(this._motion?.matches); }

  /**
   * Resolves once the element knows the wasm's limits and has applied its attributes to them
   * (the first time it is on the page); rejects, with the failure shown, where the wasm cannot start.
   */
  get ready() {
    if (!this._ready) {
      this._ready = this.loading.whenLimits(() => this._onLimits()).catch((err) => {
        this._ready = null; // the next run asks again
        throw this.fail(err);
      });
    }
    return this._ready;
  }

  /** The manifest's URL: `model-url` resolved against the page, or the default when it is none. */
  get modelUrl() {
    const attr = this.getAttribute('model-url');
    // a value that is no URL: the default, and the notice says so (attributeChangedCallback)
    return (attr && resolveModelUrl(attr)) || DEFAULT_MODEL_URL;
  }

  get language() {
    return pickLang(this.getAttribute('lang') || (typeof navigator !== 'undefined' ? navigator.language : 'en'));
  }

  /**
   * Generates a picture from the current prompt, model, steps, seed and guidance.
   * Resolves with the `done` detail; rejects with an Error (also shown in the element).
   * Calls made while another one runs wait for it.
   */
  generate() {
    return this._queue(() => this.reverse.readInputs(), (values) => this.reverse.run(values));
  }

  /** Six seeds of the explore view's prompt side by side. */
  seedGrid() {
    return this._explore('runSeeds');
  }

  /** The teacher at guidance 0 … 8 on the explore view's prompt and seed, the student beside it. */
  guidanceSweep() {
    return this._explore('runGuidance');
  }

  /** One seed on the way from the explore view's prompt to its second prompt (embeddings blended). */
  promptBlend() {
    return this._explore('runBlend');
  }

  /** Runs the compare view's student and teacher on its prompt and seed. */
  compare() {
    return this._queue(() => this.comparePanel.readInputs(), (values) => this.comparePanel.run(values));
  }

  /**
   * Stops what was asked for: the running generation after its current step, the model download
   * (its worker is ended; cached files stay), and every run still waiting. Their promises reject
   * with code "cancelled".
   */
  cancel() {
    this.jobs.cancel();
  }

  /** An example prompt was clicked: it becomes the prompt, and the picture is made. */
  useExample(prompt) {
    if (this.presets.isLocked('prompt')) return Promise.resolve(null);
    this.el.prompt.value = prompt;
    this.el.prompt.removeAttribute('aria-invalid');
    this.syncPanels();
    if (this.mode !== 'reverse' && !this.presets.isLocked('mode')) this.tabs.select('reverse');
    const run = this.mode === 'compare' ? this.compare() : this.generate();
    return run.catch(() => null);
  }

  /** The view as attribute values, for "Link to this view" (null: not part of this view). */
  viewState() {
    const mode = this.mode;
    const fwd = this.forwardPanel.state();
    const teacherGuidance = this.models?.[this.model]?.guidance != null ? this.el.guidance.value.trim() : null;
    // the compare and explore views have their own prompt and seed fields
    const panel = { compare: this.comparePanel, explore: this.explorePanel }[mode] ?? this;
    return {
      mode,
      model: this.model,
      prompt: panel.el.prompt.value.trim(),
      steps: this.el.steps.value.trim(),
      seed: panel.el.seed.value.trim(),
      guidance: teacherGuidance,
      sampler: this.settings.sampler(),
      'forward-t': fwd.t,
      'forward-seed': fwd.seed,
      examples: this.getAttribute('examples'),
      lock: this.presets.locked.size ? [...this.presets.locked].join(' ') : null,
      // a link to a picture shows the picture: the view that had one runs again on opening
      autorun: (mode === 'reverse' && this.lastImage) || (mode === 'compare' && this.comparePanel.hasResult) ? '1' : null,
    };
  }

  // -- used by the panels -----------------------------------------------------------------------

  t(key, params) {
    return format(this.language, key, params);
  }

  number(value, digits) {
    // no thousands separator: "1.471 ms" reads as a fraction in English
    return new Intl.NumberFormat(this.language, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false })
      .format(Number.isFinite(value) ? value : 0);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  setStatus(key, params = {}) {
    this.loc.text(this.el.status, key, params);
  }

  fail(err) { return this.alerts.fail(err); }
  invalidInput(input, key, params) { return invalidInput(input, key, params); }
  checkPrompt(input) { return checkPrompt(input, this.limits); }
  checkWhole(input, min, max, key) { return checkWhole(input, min, max, key); }
  checkSeed(input) { return checkSeed(input, this.limits); }
  noteSetting(name, note) { this.settings.note(name, note); }
  runJob(op, payload, onStep) { return this.jobs.runJob(op, payload, onStep); }
  runLoaded(body, onError) { return this.jobs.runLoaded(body, onError); }
  stopRequested() { return this.jobs.stopRequested(); }
  cancelledError(kind) { return this.jobs.cancelledError(kind); }
  ensureLoaded() { return this.loading.ensureLoaded(); }

  /** One forward-process request ({rgba, prompt, t, seed}); loads the model first if needed. */
  async forward(wish) {
    await this.ensureLoaded();
    // copied, not transferred: the job may be sent twice (see LabClient.start), and 4 KB cost nothing
    const job = this.loading.client().start('forward', { rgba: wish.rgba, prompt: wish.prompt, options: { t: wish.t, seed: wish.seed } });
    return job.promise;
  }

  /** The compare and explore views take the reverse view's prompt and seed (unless edited there). */
  syncPanels() {
    const values = { prompt: this.el.prompt.value, seed: this.el.seed.value };
    this.comparePanel?.syncFrom(values);
    this.explorePanel?.syncFrom(values);
  }

  /** Locked controls: read-only inputs (Presets), the model menu, the other tabs, the dice. */
  renderLocks() {
    this.tabs?.renderLocks();
    this.el.model.disabled = this.presets.isLocked('model');
    this.renderButtons();
  }

  renderButtons() {
    const busy = this.busy;
    const { button, cancel, dice } = this.el;
    button.disabled = busy;
    this.loc.text(button, busy ? 'working' : 'generate');
    cancel.disabled = !this.cancellable;
    dice.disabled = busy || Boolean(this.presets?.isLocked('seed'));
    this.presets?.renderButtons();
    this.comparePanel?.updateButtons();
    this.explorePanel?.updateButtons();
  }

  // -- runs -------------------------------------------------------------------------------------

  /**
   * Reads a view's inputs (once the limits are known) and queues its run. A cancel() from the
   * moment of the call on stops it, even where the limits are still on their way.
   */
  _queue(read, run) {
    const epoch = this.jobs.epoch;
    const start = () => {
      let values;
      try {
        values = read();
      } catch (err) {
        throw this.fail(err);
      }
      return this.jobs.enqueue(() => run(values), epoch);
    };
    if (!this.limits) return this.ready.then(start);
    try {
      return start();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  _explore(method) {
    const panel = this.explorePanel;
    return this._queue(() => (method === 'runBlend' ? panel.readBlendInputs() : panel.readInputs()), (values) => {
      this.jobs.run = { done: 0, total: 0 };
      panel.began = false;
      return this.runLoaded(async () => {
        this.setStatus('statusExploring');
        const detail = await panel[method](values);
        this.setStatus('statusExploreDone', { n: detail.runs.length });
        this.emit('explore', detail);
        return detail;
      }, (error) => {
        const cells = panel.last?.cells ?? [];
        if (error.code === 'cancelled' && panel.began) {
          this.setStatus('statusExploreCancelled', { done: cells.filter((c) => c.result).length, total: cells.length });
        }
      });
    });
  }

  /** The limits are known: every attribute is checked against them. */
  _onLimits() {
    this.settings.applyAll();
    this.presets.renderExamples();
    this.renderButtons();
  }

  /** `autorun`: the view shows its result when it opens (the forward view computes on its own). */
  _autorun() {
    if (this._autorunStarted) return;
    this._autorunStarted = true;
    const mode = this.mode;
    const run = mode === 'compare' ? () => this.compare() : mode === 'reverse' ? () => this.generate() : null;
    if (run) run().catch(() => {});
    else this._autoload();
  }

  _autoload() {
    if (this._autoloadStarted) return;
    this._autoloadStarted = true;
    this._loadNow();
  }

  /** Loads the model (after whatever runs now), showing progress and any failure. */
  _loadNow() {
    this.jobs.after(async () => {
      this.jobs.setBusy(true);
      try {
        await this.ensureLoaded();
      } catch (err) {
        this.fail(err);
      } finally {
        this.jobs.setBusy(false);
      }
    });
  }

  /** "Use WebGPU anyway": the software adapter the default passed over, loaded now. */
  _useWebgpu() {
    this.setAttribute('backend', 'webgpu');
    this.el.useWebgpu.hidden = true;
    this._loadNow();
  }

  // -- rendering of localized text --------------------------------------------------------------

  _relocalize() {
    const root = this.shadowRoot;
    for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = this.t(el.dataset.i18n);
    for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = this.t(el.dataset.i18nPlaceholder);
    for (const el of root.querySelectorAll('[data-i18n-label]')) {
      const label = this.t(el.dataset.i18nLabel);
      el.setAttribute('aria-label', label);
      el.title = label;
    }
    for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', this.t(el.dataset.i18nAria));
    this.loc.render();
    const loading = this.loading;
    if (this.loc.bindings.get(this.el.status)?.text?.[0] === 'statusReady') loading.showBackend();
    this.settings.applyGuidance(); // its hint formats a number in the language
    this.settings.render();
    loading.renderNotice();
    loading.renderCacheNotice();
    loading.renderProgress();
    this.alerts.render();
    this.renderButtons();
    this.presets.renderExamples();
    this.forwardPanel.relocalize();
    this.comparePanel.relocalize();
    this.explorePanel.relocalize();
  }
}

if (!customElements.get('diffusion-lab')) customElements.define('diffusion-lab', DiffusionLabElement);
