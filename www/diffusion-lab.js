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
//   <diffusion-lab lang="de" prompt="Hund" seed="1"></diffusion-lab>
//
// Attributes (a value that makes no sense is ignored with a notice in the element)
//   lang        "de" | "en" (default: the browser's language)
//   mode        "reverse" | "forward" | "compare" | "explore": the view shown first (default "reverse")
//   model       "student" | "teacher" (default: the student where the model files have one)
//   prompt      initial prompt text
//   steps       initial number of denoising steps (student 1..4, teacher 1..100; default: the model's)
//   seed        initial seed (integer ≥ 0, default 1)
//   guidance    classifier-free guidance of the teacher (0..20, default: the teacher's)
//   sampler     "ddim" | "dpm": the teacher's sampler (default: the teacher's)
//   model-url   manifest URL (default "./models/manifest.json" next to this module);
//               relative values are resolved against the page
//   forward-t   the forward view's noise level t (0..999, default 500)
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

import { format, pickLang, Localizer, messages } from './i18n.js';
import { getClient, LabError } from './lab/client.js';
import { adoptStyles } from './lab/styles.js';
import { HTML } from './lab/template.js';
import { Timeline } from './lab/timeline.js';
import { ForwardPanel } from './lab/forward.js';
import { ComparePanel } from './lab/compare.js';
import { ExplorePanel } from './lab/explore.js';
import { drawRgba } from './lab/draw.js';
import { LIMITS, BACKENDS } from './lab/limits.js';
import { Presets } from './lab/presets.js';
import { ShareLink } from './lab/share.js';
import { parseName, parseNumber, parseWhole, randomSeed, resolveModelUrl } from './lab/parse.js';

export { LIMITS };

const DEFAULT_MODEL_URL = new URL('./models/manifest.json', import.meta.url).href;
const DEFAULT_SEED = 1;
export const MODES = Object.freeze(['reverse', 'forward', 'compare', 'explore']);
// The attributes that make a view: embed.html takes them from its URL, "Link to this view" writes them.
export const VIEW_ATTRIBUTES = Object.freeze([
  'mode', 'model', 'prompt', 'steps', 'seed', 'guidance', 'sampler', 'forward-t', 'forward-seed', 'examples', 'lock',
]);
const MODEL_KINDS = ['student', 'teacher'];
const SAMPLERS = ['ddim', 'dpm'];

// What the element assumes until the model is loaded and says what it holds (lab.models).
const ASSUMED_MODELS = Object.freeze({
  default: 'student',
  student: { steps: 4, maxSteps: 4, passesPerStep: 1, guidance: null, sampler: 'ddim' },
  teacher: { steps: 8, maxSteps: 100, passesPerStep: 2, guidance: 3, sampler: 'dpm' },
});

/** A `backend` attribute's value as one of BACKENDS ("WebGPU " → "webgpu"), or null. */
function parseBackend(text) {
  return parseName(text, BACKENDS);
}

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
    this._busy = false;
    this._chain = Promise.resolve();
    this._info = null;
    this._models = null;          // lab.models once loaded
    this._job = null;             // the running generate job: {id, promise, cancel}
    this._epoch = 0;              // cancel() counts up: a run queued before it does not start
    this._runEpoch = 0;           // the epoch of the run going on
    this._queued = 0;             // runs waiting in _chain
    this._loadingClient = null;   // the client whose model this element waits for
    this._heldClient = null;      // the client this element keeps alive (LabClient.retain)
    this._run = { done: 0, total: 0 };
    this._mode = 'reverse';
    this._modelKind = ASSUMED_MODELS.default;
    this._notes = new Map();      // attribute name -> why its value was ignored
    // Who set the steps and guidance fields: 'attr' (the attribute, or the model's default without
    // one), 'model' (the model's default: the learner picked the model), 'user' (typed).
    this._source = { steps: 'attr', guidance: 'attr' };
    this._alertError = null;
    this._progress = null;
    this.lastImage = null;        // {image, width, height, prompt, seed, model, steps}

    this._motion = typeof matchMedia === 'function' ? matchMedia('(prefers-reduced-motion: reduce)') : null;
    this._motion?.addEventListener?.('change', () => this.timeline.updateControls());

    this.timeline = new Timeline(this);
    this.forwardPanel = new ForwardPanel(this);
    this.comparePanel = new ComparePanel(this);
    this.explorePanel = new ExplorePanel(this);
    this.presets = new Presets(this);
    this.shareLink = new ShareLink(this);
    this._wire();

    this.setStatus('statusIdle');
    this._applyModelAttr();
    this._applySeedAttr();
    this._selectMode('reverse');
    this._applyForwardAttrs();
    this.presets.applyLock();
    this._relocalize();
    this._renderButtons();
  }

  _wire() {
    const { form, dice, prompt, seed, steps, guidance, model, cancel, tabs } = this.el;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      // Failures are shown in the element and reported by the `error` event.
      this.generate().catch(() => {});
    });
    this.el.useWebgpu.addEventListener('click', () => this._useWebgpu());
    dice.addEventListener('click', () => {
      // Same prompt, new seed: pick one and generate right away.
      seed.value = String(randomSeed());
      seed.removeAttribute('aria-invalid');
      this.generate().catch(() => {});
    });
    for (const input of [prompt, seed, steps, guidance]) {
      input.addEventListener('input', () => input.removeAttribute('aria-invalid'));
    }
    steps.addEventListener('input', () => { this._source.steps = 'user'; });
    guidance.addEventListener('input', () => { this._source.guidance = 'user'; });
    model.addEventListener('change', () => this._setModel(model.value, { user: true }));
    cancel.addEventListener('click', () => this.cancel());

    for (const tab of tabs.querySelectorAll('[role="tab"]')) {
      tab.addEventListener('click', () => this._selectMode(tab.dataset.mode));
    }
    tabs.addEventListener('keydown', (event) => {
      if (this.presets.isLocked('mode')) return;
      const list = [...tabs.querySelectorAll('[role="tab"]')];
      const i = list.findIndex((t) => t.dataset.mode === this._mode);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const tab = list[(next + list.length) % list.length];
      this._selectMode(tab.dataset.mode, { focus: true });
    });
  }

  connectedCallback() {
    if (this.hasAttribute('autorun')) this._autorun();
    else if (this.hasAttribute('autoload')) this._autoload();
  }

  disconnectedCallback() {
    this.timeline.stop();
    // Off the page: the worker may end once no element uses it (LabClient.idleMs later).
    this._heldClient?.release();
    this._heldClient = null;
  }

  attributeChangedCallback(name, oldValue, value) {
    if (oldValue === value) return;
    switch (name) {
      case 'lang':
        this._relocalize();
        break;
      case 'prompt':
        this.el.prompt.value = value ?? '';
        this._syncPanels();
        break;
      case 'steps':
        this._source.steps = 'attr';
        this._applyStepsAttr();
        break;
      case 'seed':
        this._applySeedAttr();
        break;
      case 'guidance':
        this._source.guidance = 'attr';
        this._applyGuidanceAttr();
        break;
      case 'sampler':
        this._applySamplerAttr();
        break;
      case 'model':
        this._applyModelAttr();
        break;
      case 'mode':
        this._applyModeAttr();
        break;
      case 'autoload':
        if (value !== null && this.isConnected) this._autoload();
        break;
      case 'autorun':
        if (value !== null && this.isConnected) this._autorun();
        break;
      case 'forward-t':
      case 'forward-seed':
        this._applyForwardAttrs();
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
          const bad = value !== null && parseBackend(value) === null;
          this.noteSetting('backend', bad ? { value, why: 'whyOneOf', whyParams: { list: BACKENDS.join(', ') }, fallback: 'auto' } : null);
        }
        // Another model or backend: the next run loads it (its worker is shared per manifest).
        this._info = null;
        this._models = null;
        this._applyModelAttr();
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
  /** The view shown: "reverse" | "forward" | "compare". */
  get mode() { return this._mode; }
  set mode(value) { this.setAttribute('mode', String(value)); }
  /** The model chosen: "student" | "teacher". */
  get model() { return this._modelKind; }
  set model(value) { this.setAttribute('model', String(value)); }
  /** "webgpu" | "cpu" once the model is loaded, else "". */
  get backend() { return this._info?.backend ?? ''; }

  /** What the attributes ask for: "auto", "webgpu" or "cpu" (see `backend` above). */
  get backendChoice() {
    if (this.hasAttribute('force-cpu')) return 'cpu';
    return parseBackend(this.getAttribute('backend')) ?? 'auto';
  }
  /** True while the model loads or a picture is generated. */
  get busy() { return this._busy; }
  /** What the model files hold ({default, student?, teacher}); assumed until the model is loaded. */
  get models() { return this._models ?? ASSUMED_MODELS; }
  get modelsKnown() { return Boolean(this._models); }
  /** A run is loading, running or queued: cancel() stops it. */
  get cancellable() { return Boolean(this._job) || this._queued > 0 || this._loadingClient !== null; }
  get reducedMotion() { return Boolean(this._motion?.matches); }
  get limits() { return LIMITS; }

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
    let values;
    try {
      values = this._readInputs();
    } catch (err) {
      return Promise.reject(this.fail(err));
    }
    return this._enqueue(() => this._generate(values));
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

  _explore(method) {
    let values;
    try {
      values = method === 'runBlend' ? this.explorePanel.readBlendInputs() : this.explorePanel.readInputs();
    } catch (err) {
      return Promise.reject(this.fail(err));
    }
    return this._enqueue(() => {
      this._run = { done: 0, total: 0 };
      this.explorePanel.began = false;
      return this.runLoaded(async () => {
        this.setStatus('statusExploring');
        const detail = await this.explorePanel[method](values);
        this.setStatus('statusExploreDone', { n: detail.runs.length });
        this.emit('explore', detail);
        return detail;
      }, (error) => {
        const cells = this.explorePanel.last?.cells ?? [];
        if (error.code === 'cancelled' && this.explorePanel.began) {
          this.setStatus('statusExploreCancelled', { done: cells.filter((c) => c.result).length, total: cells.length });
        }
      });
    });
  }

  /**
   * What the compare and explore runs share: busy while `body` runs, the alert cleared, the
   * model loaded first, a cancel since the run was queued honoured, a failure shown (and passed
   * to `onError`) and rethrown.
   */
  async runLoaded(body, onError = null) {
    this.setBusy(true);
    this.clearAlert();
    try {
      await this.ensureLoaded();
      if (this.stopRequested()) throw this.cancelledError();
      return await body();
    } catch (err) {
      const error = this.fail(err);
      onError?.(error);
      throw error;
    } finally {
      this.setBusy(false);
    }
  }

  /** An example prompt was clicked: it becomes the prompt, and the picture is made. */
  useExample(prompt) {
    if (this.presets.isLocked('prompt')) return Promise.resolve(null);
    this.el.prompt.value = prompt;
    this.el.prompt.removeAttribute('aria-invalid');
    this._syncPanels();
    if (this._mode !== 'reverse' && !this.presets.isLocked('mode')) this._selectMode('reverse');
    const run = this._mode === 'compare' ? this.compare() : this.generate();
    return run.catch(() => null);
  }

  /** The view as attribute values, for "Link to this view" (null: not part of this view). */
  viewState() {
    const fwd = this.forwardPanel.state();
    const teacherGuidance = this.models[this._modelKind]?.guidance != null ? this.el.guidance.value.trim() : null;
    // the compare and explore views have their own prompt and seed fields
    const panel = { compare: this.comparePanel, explore: this.explorePanel }[this._mode] ?? this;
    return {
      mode: this._mode,
      model: this._modelKind,
      prompt: panel.el.prompt.value.trim(),
      steps: this.el.steps.value.trim(),
      seed: panel.el.seed.value.trim(),
      guidance: teacherGuidance,
      sampler: this._samplerAttr(),
      'forward-t': fwd.t,
      'forward-seed': fwd.seed,
      examples: this.getAttribute('examples'),
      lock: this.presets.locked.size ? [...this.presets.locked].join(' ') : null,
      // a link to a picture shows the picture: the view that had one runs again on opening
      autorun: (this._mode === 'reverse' && this.lastImage) || (this._mode === 'compare' && this.comparePanel.hasResult) ? '1' : null,
    };
  }

  /** Runs the compare view's student and teacher on its prompt and seed. */
  compare() {
    let values;
    try {
      values = this.comparePanel.readInputs();
    } catch (err) {
      return Promise.reject(this.fail(err));
    }
    return this._enqueue(() => this.comparePanel.run(values));
  }

  /**
   * Stops what was asked for: the running generation after its current step, the model download
   * (its worker is ended; cached files stay), and every run still waiting. Their promises reject
   * with code "cancelled".
   */
  cancel() {
    this._epoch++;
    this._cancelStoppedRun = Boolean(this._job || this._loadingClient);
    if (this._job) this._job.cancel();
    else if (this._loadingClient) this._loadingClient.cancelLoad();
  }

  /** The run that is going on was cancelled since it started (checked between its stages). */
  stopRequested() {
    return this._runEpoch !== this._epoch;
  }

  cancelledError(kind = 'generate') {
    return new LabError({ kind, code: 'cancelled', detail: 'cancelled' });
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

  clearAlert() {
    this._alertError = null;
    this.el.alert.textContent = '';
  }

  setBusy(busy) {
    this._busy = busy;
    this.toggleAttribute('data-busy', busy);
    this.el.views.setAttribute('aria-busy', String(busy));
    this._renderButtons();
  }

  /** Runs `fn` after every run queued before it, unless cancel() came in between. */
  _enqueue(fn) {
    const epoch = this._epoch;
    this._queued++;
    this._renderButtons();
    const run = this._chain.then(() => {
      this._queued--;
      if (epoch !== this._epoch) {
        this._renderButtons();
        // Say so only where nothing else was stopped by the same cancel (its status stays).
        if (!this._cancelStoppedRun) this.setStatus('statusCancelledBefore');
        this.emit('cancel', { kind: 'generate', step: 0, total: 0 });
        throw Object.assign(new Error('cancelled'), { kind: 'generate', code: 'cancelled' });
      }
      this._runEpoch = epoch;
      return fn();
    });
    this._chain = run.catch(() => {});
    return run;
  }

  /** Sends a cancellable job to the worker and keeps it as the current one until it ends. */
  runJob(op, payload, onStep) {
    const job = this._client().start(op, payload, onStep);
    this._job = job;
    this._renderButtons();
    const clear = () => {
      if (this._job === job) this._job = null;
      this._renderButtons();
    };
    return job.promise.finally(clear);
  }

  /** One forward-process request ({rgba, prompt, t, seed}); loads the model first if needed. */
  async forward(wish) {
    await this.ensureLoaded();
    // copied, not transferred: the job may be sent twice (see LabClient.start), and 4 KB cost nothing
    const job = this._client().start('forward', { rgba: wish.rgba, prompt: wish.prompt, options: { t: wish.t, seed: wish.seed } });
    return job.promise;
  }

  /** Shows an error in the alert (or "cancelled" in the status), reports it by event, returns an Error to reject with. */
  fail(err) {
    const e = err instanceof LabError ? err
      : new LabError({ kind: 'generate', code: 'other', detail: String(err?.message ?? err) });
    if (e.code === 'cancelled') {
      if (e.kind === 'load' || this._run.total === 0) this.setStatus('statusCancelledBefore');
      else this.setStatus('statusCancelled', { step: this._run.done, total: this._run.total });
      this.emit('cancel', { kind: e.kind, step: this._run.done, total: this._run.total });
      return Object.assign(new Error('cancelled'), { kind: e.kind, code: 'cancelled' });
    }
    this._alertError = e;
    this._renderAlert();
    if (e.kind !== 'input') this.setStatus('statusFailed');
    const message = this.el.alert.textContent;
    if (e.input) e.input.focus();
    this.emit('error', { message, kind: e.kind, code: e.code });
    return Object.assign(new Error(message), { kind: e.kind, code: e.code });
  }

  /** The localized text for a LabError: its own key, or a lead sentence by kind and code plus the detail. */
  describe(e) {
    if (e.key) {
      const lead = this.t(e.key, e.params);
      return e.detail && e.kind !== 'input' && !('message' in e.params) ? this.t('errDetail', { lead, detail: e.detail }) : lead;
    }
    const kind = { load: 'Load', forward: 'Forward' }[e.kind] ?? 'Generate';
    const key = `err${kind}_${e.code}` in messages.en ? `err${kind}_${e.code}` : `err${kind}_other`;
    const lead = this.t(key, e.params);
    return e.detail ? this.t('errDetail', { lead, detail: e.detail }) : lead;
  }

  /** Loads the model unless this element has it already; shows the progress while it downloads. */
  async ensureLoaded() {
    const client = this._client();
    if (this._info && client.info === this._info) return this._info;
    if (!client.info) {
      this.setStatus('statusLoading');
      this._setProgress(0, 0);
      this.el.progress.hidden = false;
    }
    this._loadingClient = client;
    this._renderButtons();
    try {
      this._info = await client.load((p) => this._onProgress(p));
    } finally {
      this._loadingClient = null;
      this.el.progress.hidden = true;
      this._renderButtons();
    }
    if (!this._models) this._setModels(this._info.models);
    this.timeline.plot.setSchedule(this._info.alphaBars);
    this.forwardPanel.onModel(this._info);
    this._showBackend();
    this._renderNotice();
    this._renderCacheNotice();
    return this._info;
  }

  // -- input checks (shared with the compare panel) ---------------------------------------------

  invalidInput(input, key, params) {
    input.setAttribute('aria-invalid', 'true');
    const err = new LabError({ kind: 'input', code: 'input', key, params });
    err.input = input;
    return err;
  }

  checkPrompt(input) {
    input.removeAttribute('aria-invalid');
    const prompt = input.value.trim();
    if (prompt === '') throw this.invalidInput(input, 'errEmptyPrompt');
    const length = [...prompt].length;
    if (length > LIMITS.promptMaxChars) throw this.invalidInput(input, 'errPromptTooLong', { length, max: LIMITS.promptMaxChars });
    return prompt;
  }

  checkWhole(input, min, max, key) {
    input.removeAttribute('aria-invalid');
    const value = parseWhole(input.value);
    if (value === null || value < min || value > max) throw this.invalidInput(input, key, { min, max });
    return value;
  }

  checkSeed(input) {
    input.removeAttribute('aria-invalid');
    const value = parseWhole(input.value);
    if (value === null || value > LIMITS.seedMax) throw this.invalidInput(input, 'errSeed', { max: LIMITS.seedMax });
    return value;
  }

  // -- the reverse process ----------------------------------------------------------------------

  _client() {
    const client = getClient(this.modelUrl, this.backendChoice);
    if (client !== this._heldClient) {
      this._heldClient?.release();
      client.retain();
      this._heldClient = client;
    }
    return client;
  }

  _stepsMax() {
    // Before the model is loaded only the global limit is sure; the model's own follows on load.
    return this.modelsKnown ? this.models[this._modelKind].maxSteps : LIMITS.stepsMax;
  }

  _readInputs() {
    const { prompt: promptInput, steps: stepsInput, seed: seedInput, guidance: guidanceInput } = this.el;
    for (const input of [promptInput, stepsInput, seedInput, guidanceInput]) input.removeAttribute('aria-invalid');
    const prompt = this.checkPrompt(promptInput);
    const steps = this.checkWhole(stepsInput, LIMITS.stepsMin, this._stepsMax(), 'errSteps');
    const seed = this.checkSeed(seedInput);
    let guidance = null;
    if (!guidanceInput.disabled && guidanceInput.value.trim() !== '') {
      guidance = parseNumber(guidanceInput.value);
      if (guidance === null || guidance < LIMITS.guidanceMin || guidance > LIMITS.guidanceMax) {
        throw this.invalidInput(guidanceInput, 'errGuidance', { min: LIMITS.guidanceMin, max: LIMITS.guidanceMax });
      }
    }
    return { prompt, steps, seed, guidance };
  }

  /** The options for the Lab, checked against the loaded model. */
  _runOptions(values) {
    const models = this.models;
    const kind = models[this._modelKind] ? this._modelKind : models.default;
    const spec = models[kind];
    if (values.steps > spec.maxSteps) {
      throw this.invalidInput(this.el.steps, 'errSteps', { min: LIMITS.stepsMin, max: spec.maxSteps });
    }
    const options = { model: kind, steps: values.steps, seed: values.seed };
    if (spec.guidance != null) {
      if (values.guidance !== null) options.guidance = values.guidance;
      const sampler = this._samplerAttr();
      if (sampler) options.sampler = sampler;
    }
    return { kind, spec, options };
  }

  async _generate(values) {
    this._run = { done: 0, total: 0 };
    let began = false;
    return this.runLoaded(async () => {
      const { kind, spec, options } = this._runOptions(values);
      this._run.total = values.steps;
      this.setStatus('statusStarting');
      this.timeline.begin(values.steps, {
        model: kind,
        guidance: spec.guidance == null ? null : (options.guidance ?? spec.guidance),
        sampler: spec.guidance == null ? 'ddim' : (options.sampler ?? spec.sampler),
        timesteps: values.steps === spec.steps ? spec.timesteps : null,
      });
      began = true;
      const res = await this.runJob('generate', { prompt: values.prompt, options }, (s) => this._onStep(s, kind));
      const model = res.model || kind;
      const final = {
        image: res.image, width: res.width, height: res.height,
        prompt: values.prompt, seed: values.seed, model, steps: res.steps,
      };
      drawRgba(this.$('xt'), res.image, res.width, res.height);
      this.timeline.finish(final);
      this.lastImage = final;
      this.forwardPanel.onGenerated();
      const { backend } = res;
      const detail = {
        ms: res.ms, backend, model, steps: res.steps, passes: res.passes,
        width: res.width, height: res.height, prompt: values.prompt, seed: values.seed,
      };
      this.setStatus(res.steps === 1 ? 'statusDoneOne' : 'statusDone', {
        steps: res.steps,
        seconds: this.number(res.ms / 1000, 1),
        backend: this.t(backend === 'cpu' ? 'backendShortCpu' : 'backendShortWebgpu'),
      });
      this.emit('done', detail);
      return detail;
    }, () => {
      if (began) this.timeline.abort();
    });
  }

  _onStep(s, model) {
    this._run = { done: s.index + 1, total: s.total };
    this.timeline.onStep(s);
    // The status line is a live region: announce the run once, not every step.
    if (s.index === 0) this.setStatus('statusGenerating', { total: s.total });
    this.emit('step', { index: s.index, total: s.total, t: s.t, ms: s.ms, panel: 'reverse', model });
  }

  /** `autorun`: the view shows its result when it opens (the forward view computes on its own). */
  _autorun() {
    if (this._autorunStarted) return;
    this._autorunStarted = true;
    const run = this._mode === 'compare' ? () => this.compare() : this._mode === 'reverse' ? () => this.generate() : null;
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
    this._chain = this._chain.then(async () => {
      this.setBusy(true);
      try {
        await this.ensureLoaded();
      } catch (err) {
        this.fail(err);
      } finally {
        this.setBusy(false);
      }
    });
  }

  // -- settings: attributes, model, steps, guidance ---------------------------------------------

  /** Shows (or, with null, drops) why an attribute's value was ignored. */
  noteSetting(name, note) {
    if (note) this._notes.set(name, note);
    else this._notes.delete(name);
    this._renderNotes();
  }

  _renderNotes() {
    const el = this.el.settings;
    el.hidden = this._notes.size === 0;
    el.textContent = [...this._notes].map(([name, n]) => this.t('settingIgnored', {
      name, value: n.value, why: this.t(n.why, n.whyParams ?? {}), fallback: n.fallback,
    })).join(' ');
  }

  _setModels(models) {
    this._models = models;
    this._applyModelAttr();
  }

  _applyModelAttr() {
    const raw = this.getAttribute('model');
    const models = this.models;
    let kind = models.default;
    let note = null;
    if (raw !== null && raw.trim() !== '') {
      const value = raw.trim().toLowerCase();
      if (!MODEL_KINDS.includes(value)) {
        note = { value: raw, why: 'whyOneOf', whyParams: { list: MODEL_KINDS.join(', ') }, fallback: kind };
      } else if (!models[value]) {
        note = { value: raw, why: 'whyNoStudent', fallback: kind };
      } else {
        kind = value;
      }
    }
    this.noteSetting('model', note);
    this._setModel(kind);
  }

  /** Chooses the model: the model menu, steps limit and default, guidance field, hints. */
  _setModel(kind, { user = false } = {}) {
    const models = this.models;
    if (!models[kind]) kind = models.default;
    this._modelKind = kind;
    const select = this.el.model;
    const present = MODEL_KINDS.filter((k) => models[k]);
    if ([...select.options].map((o) => o.value).join() !== present.join()) {
      this.loc.forget(...select.options);
      select.replaceChildren(...present.map((k) => {
        const option = document.createElement('option');
        option.value = k;
        this.loc.text(option, k === 'student' ? 'modelStudent' : 'modelTeacher');
        return option;
      }));
    }
    select.value = kind;
    this.loc.text(this.el.modelHint, kind === 'student' ? 'modelHintStudent' : 'modelHintTeacher');
    if (user) {
      // The learner picked another model: its own defaults, whatever the page set (the student
      // cannot take the teacher's 8 steps).
      this._source.steps = 'model';
      this._source.guidance = 'model';
    }
    this._applyStepsAttr();
    this._applyGuidanceAttr();
    this.comparePanel.updateModels();
    this.explorePanel.updateModels();
  }

  _applyStepsAttr() {
    const spec = this.models[this._modelKind];
    const { steps, stepsHint } = this.el;
    const max = this._stepsMax();
    steps.max = String(max);
    this.loc.text(stepsHint, 'stepsHint', { min: LIMITS.stepsMin, max });
    if (this._source.steps === 'user') return;
    const raw = this.getAttribute('steps');
    if (raw === null || raw.trim() === '' || this._source.steps === 'model') {
      this.noteSetting('steps', null);
      steps.value = String(spec.steps);
      return;
    }
    const value = parseWhole(raw);
    if (value === null || value < LIMITS.stepsMin || value > max) {
      this.noteSetting('steps', { value: raw, why: 'whyWhole', whyParams: { min: LIMITS.stepsMin, max }, fallback: spec.steps });
      steps.value = String(spec.steps);
    } else {
      this.noteSetting('steps', null);
      steps.value = String(value);
    }
  }

  /** The compare and explore views take the reverse view's prompt and seed (unless edited there). */
  _syncPanels() {
    const values = { prompt: this.el.prompt.value, seed: this.el.seed.value };
    this.comparePanel?.syncFrom(values);
    this.explorePanel?.syncFrom(values);
  }

  _applySeedAttr() {
    const raw = this.getAttribute('seed');
    const value = raw === null ? DEFAULT_SEED : parseWhole(raw);
    const ok = value !== null && value <= LIMITS.seedMax;
    this.noteSetting('seed', ok ? null : { value: raw, why: 'whyWhole', whyParams: { min: 0, max: LIMITS.seedMax }, fallback: DEFAULT_SEED });
    this.el.seed.value = String(ok ? value : DEFAULT_SEED);
    this.el.seed.removeAttribute('aria-invalid');
    this._syncPanels();
  }

  _applyGuidanceAttr() {
    const spec = this.models[this._modelKind];
    const { guidance, guidanceHint } = this.el;
    const raw = this.getAttribute('guidance');
    let attrValue = null;
    let note = null;
    if (raw !== null && raw.trim() !== '') {
      const v = parseNumber(raw);
      if (v === null || v < LIMITS.guidanceMin || v > LIMITS.guidanceMax) {
        note = {
          value: raw, why: 'whyNumber', whyParams: { min: LIMITS.guidanceMin, max: LIMITS.guidanceMax },
          fallback: this.models.teacher.guidance,
        };
      } else {
        attrValue = v;
      }
    }
    this.noteSetting('guidance', note);
    if (spec.guidance == null) {
      // The student: guidance is baked into its weights.
      guidance.disabled = true;
      guidance.value = '';
      guidance.removeAttribute('aria-invalid');
      this.loc.text(guidanceHint, 'guidanceHintStudent');
      return;
    }
    guidance.disabled = false;
    this.loc.text(guidanceHint, 'guidanceHint', { value: this.number(spec.guidance, 1), max: LIMITS.guidanceMax });
    if (this._source.guidance === 'user') return;
    const fromAttr = attrValue !== null && this._source.guidance !== 'model';
    guidance.value = String(fromAttr ? attrValue : spec.guidance);
  }

  _samplerAttr() {
    const raw = this.getAttribute('sampler');
    const value = raw?.trim().toLowerCase();
    return value && SAMPLERS.includes(value) ? value : null;
  }

  _applySamplerAttr() {
    const raw = this.getAttribute('sampler');
    const bad = raw !== null && raw.trim() !== '' && !this._samplerAttr();
    this.noteSetting('sampler', bad ? { value: raw, why: 'whyOneOf', whyParams: { list: SAMPLERS.join(', ') }, fallback: this.models.teacher.sampler } : null);
  }

  _applyForwardAttrs() {
    const check = (name, max) => {
      const raw = this.getAttribute(name);
      if (raw === null || raw.trim() === '') return this.noteSetting(name, null);
      const value = parseWhole(raw);
      const ok = value !== null && value <= max;
      this.noteSetting(name, ok ? null : { value: raw, why: 'whyWhole', whyParams: { min: 0, max }, fallback: this.t('fallbackUnchanged') });
      if (ok) this.forwardPanel.preset(name === 'forward-t' ? { t: value } : { seed: value });
    };
    check('forward-t', LIMITS.forwardTMax);
    check('forward-seed', LIMITS.seedMax);
  }

  /** Locked controls: read-only inputs (Presets), the model menu, the other tabs, the dice. */
  renderLocks() {
    const lockMode = this.presets.isLocked('mode');
    for (const tab of this.el.tabs.querySelectorAll('[role="tab"]')) {
      tab.disabled = lockMode && tab.dataset.mode !== this._mode;
    }
    this.el.model.disabled = this.presets.isLocked('model');
    this._renderButtons();
  }

  _applyModeAttr() {
    const raw = this.getAttribute('mode');
    const value = raw?.trim().toLowerCase();
    let mode = 'reverse';
    let note = null;
    if (value) {
      if (MODES.includes(value)) mode = value;
      else note = { value: raw, why: 'whyOneOf', whyParams: { list: MODES.join(', ') }, fallback: mode };
    }
    this.noteSetting('mode', note);
    this._selectMode(mode);
  }

  // -- tabs -------------------------------------------------------------------------------------

  _selectMode(mode, { focus = false } = {}) {
    if (!MODES.includes(mode)) mode = 'reverse';
    const changed = mode !== this._mode;
    this._mode = mode;
    for (const tab of this.el.tabs.querySelectorAll('[role="tab"]')) {
      const selected = tab.dataset.mode === mode;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      this.$(tab.getAttribute('aria-controls')).hidden = !selected;
      if (selected && focus) tab.focus();
    }
    // The status line and alert travel with the visible panel, right below its form; what they
    // said about another panel's last run is over once the learner moves on.
    this.shadowRoot.querySelector(`[data-slot="${mode}"]`).append(this.el.messages);
    if (changed && !this._busy) {
      this.clearAlert();
      if (this._info) this._showBackend();
    }
    if (mode !== 'reverse') this.timeline.stop();
    if (this.presets) this.renderLocks();
    if (mode === 'compare' || mode === 'explore') this._syncPanels();
    if (mode === 'forward') this.forwardPanel.activate().catch((err) => this.fail(err));
    else this.forwardPanel.deactivate();
    if (changed) this.emit('modechange', { mode });
  }

  // -- loading ----------------------------------------------------------------------------------

  _onProgress(p) {
    this._setProgress(p.loaded, p.total);
    if (p.file) this.setStatus('statusLoadingFile', { file: p.file });
    else this.setStatus('statusLoading');
  }

  _setProgress(loaded, total) {
    const bar = this.el.progressBar;
    if (total > 0) {
      bar.max = total;
      bar.value = Math.min(loaded, total);
    } else {
      bar.removeAttribute('value'); // indeterminate
    }
    this._progress = total > 0 ? [loaded, total] : null;
    this._renderProgress();
  }

  _showBackend() {
    const info = this._info;
    if (!info) return;
    let backend;
    if (info.backend === 'cpu') backend = this.t('backendCpu');
    else if (info.softwareAdapter) backend = this.t('backendWebgpuSoftware');
    else backend = info.adapter ? this.t('backendWebgpu', { adapter: info.adapter }) : this.t('backendWebgpuNoName');
    // The backend name is itself localized: store the key and re-render on language change.
    this.loc.text(this.el.status, 'statusReady', { backend });
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
    if (this.loc.bindings.get(this.el.status)?.text?.[0] === 'statusReady') this._showBackend();
    this._applyGuidanceAttr(); // its hint formats a number in the language
    this._renderNotes();
    this._renderNotice();
    this._renderCacheNotice();
    this._renderProgress();
    this._renderAlert();
    this._renderButtons();
    this.presets?.renderExamples();
    this.forwardPanel?.relocalize();
    this.comparePanel?.relocalize();
    this.explorePanel?.relocalize();
  }

  _renderAlert() {
    this.el.alert.textContent = this._alertError ? this.describe(this._alertError) : '';
  }

  _renderButtons() {
    const busy = this._busy;
    const { button, cancel } = this.el;
    button.disabled = busy;
    this.loc.text(button, busy ? 'working' : 'generate');
    cancel.disabled = !this.cancellable;
    this.el.dice.disabled = busy || Boolean(this.presets?.isLocked('seed'));
    this.presets?.renderButtons();
    this.comparePanel?.updateButtons();
    this.explorePanel?.updateButtons();
  }

  _renderProgress() {
    const p = this._progress;
    this.el.progressText.textContent = p
      ? this.t('progressMb', { loaded: this.number(p[0] / 1e6, 1), total: this.number(p[1] / 1e6, 1) })
      : '';
  }

  _renderNotice() {
    const info = this._info;
    const show = info?.backend === 'cpu';
    const { notice } = this.el;
    notice.hidden = !show;
    if (!show) {
      this.el.useWebgpu.hidden = true;
      notice.textContent = '';
      return;
    }
    this.el.useWebgpu.hidden = !info.skippedSoftwareAdapter;
    if (info.skippedSoftwareAdapter) {
      notice.textContent = this.t('cpuNoticeSoftware');
      return;
    }
    const reason = info.fallbackReason ? ` ${this.t('cpuNoticeReason', { reason: info.fallbackReason })}` : '';
    notice.textContent = this.t('cpuNotice') + reason;
  }

  /** "Use WebGPU anyway": the software adapter the default passed over, loaded now. */
  _useWebgpu() {
    this.setAttribute('backend', 'webgpu');
    this.el.useWebgpu.hidden = true;
    this._loadNow();
  }

  /** The model works, but its files could not be kept for the next visit (e.g. the storage is full). */
  _renderCacheNotice() {
    const warning = this._info?.cacheWarning ?? '';
    const { cacheNotice } = this.el;
    cacheNotice.hidden = !warning;
    cacheNotice.textContent = !warning ? ''
      : /QuotaExceeded/i.test(warning) ? this.t('cacheNoticeFull')
        : this.t('cacheNotice', { reason: warning });
  }
}

if (!customElements.get('diffusion-lab')) customElements.define('diffusion-lab', DiffusionLabElement);
