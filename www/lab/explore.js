// The "seeds and guidance" panel of <diffusion-lab>: one prompt, six seeds side by side (what
// the seed changes: where the model starts in the noise), and the teacher at guidance 0, 1, 2, 3,
// 5 and 8 on one seed, with the student beside them (its guidance is baked in), each with what
// it cost; and one seed on the way from one prompt to another (their text embeddings blended).
// Runs go through the element's queue one after another and can be cancelled.

import { drawRgba } from './draw.js';

export const SEED_COUNT = 6;
export const GUIDANCE_SWEEP = Object.freeze([0, 1, 2, 3, 5, 8]);
export const BLEND_STEPS = Object.freeze([0, 0.2, 0.4, 0.6, 0.8, 1]);

export class ExplorePanel {
  constructor(host) {
    this.host = host;
    const $ = host.$;
    this.el = {
      form: $('exp-form'),
      prompt: $('exp-prompt'),
      seed: $('exp-seed'),
      steps: $('exp-steps'),
      stepsHint: $('exp-steps-hint'),
      seeds: $('exp-seeds'),
      guidance: $('exp-guidance'),
      blend: $('exp-blend'),
      other: $('exp-other'),
      cancel: $('exp-cancel'),
      title: $('exp-title'),
      grid: $('exp-grid'),
      explain: $('exp-explain'),
    };
    this.edited = { prompt: false, seed: false, steps: false };
    this.last = null;         // {kind: 'seeds' | 'guidance', prompt, seed, cells: [...]}
    for (const name of ['prompt', 'seed', 'steps']) {
      this.el[name].addEventListener('input', () => {
        this.edited[name] = true;
        this.el[name].removeAttribute('aria-invalid');
      });
    }
    this.el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.host.seedGrid().catch(() => {});
    });
    this.el.seeds.addEventListener('click', () => this.host.seedGrid().catch(() => {}));
    this.el.guidance.addEventListener('click', () => this.host.guidanceSweep().catch(() => {}));
    this.el.blend.addEventListener('click', () => this.host.promptBlend().catch(() => {}));
    this.el.other.addEventListener('input', () => this.el.other.removeAttribute('aria-invalid'));
    this.el.cancel.addEventListener('click', () => this.host.cancel());
  }

  /** Take over the reverse panel's prompt and seed, unless the learner changed them here. */
  syncFrom({ prompt, seed }) {
    if (!this.edited.prompt) this.el.prompt.value = prompt;
    if (!this.edited.seed) this.el.seed.value = seed;
  }

  /** The teacher's steps for the guidance row: its default until the learner types another. */
  updateModels() {
    const teacher = this.host.models.teacher;
    const min = this.host.limits.stepsMin;
    const { steps, stepsHint } = this.el;
    steps.min = String(min);
    steps.max = String(teacher.maxSteps);
    if (!this.edited.steps) steps.value = String(teacher.steps);
    this.host.loc.text(stepsHint, 'expStepsHint', { min, max: teacher.maxSteps });
  }

  readInputs() {
    const h = this.host;
    const prompt = h.checkPrompt(this.el.prompt);
    const seed = h.checkSeed(this.el.seed);
    if (seed > h.limits.seedMax - SEED_COUNT) throw h.invalidInput(this.el.seed, 'errSeed', { max: h.limits.seedMax - SEED_COUNT });
    const steps = h.checkWhole(this.el.steps, h.limits.stepsMin, h.models.teacher.maxSteps, 'errSteps');
    return { prompt, seed, steps };
  }

  /** The inputs and the second prompt, for the blend. */
  readBlendInputs() {
    const values = this.readInputs();
    if (this.el.other.value.trim() === '') this.el.other.value = this.host.t('expOtherDefault');
    return { ...values, other: this.host.checkPrompt(this.el.other) };
  }

  updateButtons() {
    const { host } = this;
    const busy = host.busy;
    this.el.seeds.disabled = busy;
    this.el.guidance.disabled = busy;
    this.el.blend.disabled = busy;
    this.el.cancel.disabled = !host.cancellable;
    host.loc.text(this.el.seeds, busy ? 'working' : 'expSeedsRun', { n: SEED_COUNT });
    host.loc.text(this.el.guidance, busy ? 'working' : 'expGuidanceRun', { list: GUIDANCE_SWEEP.join(', ') });
    host.loc.text(this.el.blend, busy ? 'working' : 'expBlendRun');
  }

  /** A cell of the grid for one run: a canvas and its caption. */
  cell(caption, cls = '') {
    const figure = document.createElement('figure');
    figure.setAttribute('role', 'listitem');
    if (cls) figure.className = cls;
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 32;
    canvas.setAttribute('role', 'img');
    const text = document.createElement('figcaption');
    figure.append(canvas, text);
    this.el.grid.append(figure);
    const c = { figure, canvas, text, caption, result: null };
    this.renderCell(c);
    return c;
  }

  renderCell(c) {
    const { loc } = this.host;
    const r = c.result;
    const [key, params] = c.caption;
    const label = this.host.t(key, params);
    loc.text(c.text, r ? 'expCellDone' : 'expCellWaiting', r ? {
      label, passes: r.passes, seconds: this.host.number(r.ms / 1000, 1),
    } : { label });
    loc.attr(c.canvas, 'aria-label', r ? 'expCellAlt' : 'expCellAltEmpty', { label, prompt: this.last?.prompt ?? '' });
  }

  begin(kind, prompt, seed, captions, other = null) {
    const { loc } = this.host;
    this.began = true;
    loc.forget(...this.el.grid.querySelectorAll('figcaption, canvas'));
    this.el.grid.replaceChildren();
    this.last = { kind, prompt, seed, other, cells: [] };
    this.el.title.hidden = false;
    const keys = { seeds: ['expSeedsTitle', 'expSeedsExplain'], guidance: ['expGuidanceTitle', 'expGuidanceExplain'], blend: ['expBlendTitle', 'expBlendExplain'] }[kind];
    loc.text(this.el.title, keys[0], { prompt, seed, n: SEED_COUNT, other: this.last.other ?? '' });
    loc.text(this.el.explain, keys[1]);
    this.last.cells = captions.map(([caption, cls]) => this.cell(caption, cls));
    return this.last.cells;
  }

  /** One run of the grid: generate with `options`, draw it into `cell`. */
  async runCell(cell, prompt, options) {
    const res = await this.host.runJob('generate', { prompt, options }, null);
    drawRgba(cell.canvas, res.image, res.width || 32, res.height || 32);
    cell.result = { passes: res.passes, ms: res.ms, image: res.image };
    this.renderCell(cell);
    return res;
  }

  /** Six seeds in a row from the chosen one, with the default model. */
  async runSeeds({ prompt, seed }) {
    const h = this.host;
    const cells = this.begin('seeds', prompt, seed,
      Array.from({ length: SEED_COUNT }, (_, i) => [['expCellSeed', { seed: seed + i }], '']));
    const model = h.models.default;
    for (const [i, cell] of cells.entries()) {
      if (h.stopRequested()) throw h.cancelledError();
      await this.runCell(cell, prompt, { model, seed: seed + i, steps: h.models[model].steps });
    }
    return this.report();
  }

  /** The teacher at each guidance of GUIDANCE_SWEEP, one seed; the student beside them. */
  async runGuidance({ prompt, seed, steps }) {
    const h = this.host;
    const { student } = h.models;
    const captions = GUIDANCE_SWEEP.map((g) => [['expCellGuidance', { guidance: h.number(g, 0) }], '']);
    if (student) captions.push([['expCellStudent', {}], 'student']);
    const cells = this.begin('guidance', prompt, seed, captions);
    for (const [i, g] of GUIDANCE_SWEEP.entries()) {
      if (h.stopRequested()) throw h.cancelledError();
      await this.runCell(cells[i], prompt, { model: 'teacher', seed, steps, guidance: g });
    }
    if (student) {
      if (h.stopRequested()) throw h.cancelledError();
      await this.runCell(cells[cells.length - 1], prompt, { model: 'student', seed, steps: student.steps });
    }
    return this.report();
  }

  /** One seed, the default model, the condition moved from `prompt` towards `other` in BLEND_STEPS. */
  async runBlend({ prompt, seed, other }) {
    const h = this.host;
    const cells = this.begin('blend', prompt, seed, BLEND_STEPS.map((w) => [['expCellBlend', { percent: h.number(w * 100, 0) }], '']), other);
    const model = h.models.default;
    for (const [i, w] of BLEND_STEPS.entries()) {
      if (h.stopRequested()) throw h.cancelledError();
      await this.runCell(cells[i], prompt, { model, seed, steps: h.models[model].steps, blendPrompt: other, blend: w });
    }
    return this.report();
  }

  report() {
    const { kind, prompt, seed, cells } = this.last;
    return { kind, prompt, seed, runs: cells.map((c) => ({ passes: c.result.passes, ms: c.result.ms })) };
  }

  relocalize() {
    for (const c of this.last?.cells ?? []) this.renderCell(c);
  }
}
