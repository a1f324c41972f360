// The element's attributes made into its form: model, steps, seed, guidance, sampler, mode and
// the forward view's t and seed. A value that makes no sense is ignored with a notice that says
// why and what is used instead. The checks are the wasm's limits (host.limits), so nothing but
// the mode is applied before they are known; `applyAll` applies every attribute once they are.

import { parseName, parseNumber, parseWhole } from './parse.js';

export const MODES = Object.freeze(['reverse', 'forward', 'compare', 'explore']);
export const MODEL_KINDS = Object.freeze(['student', 'teacher']);
const DEFAULT_SEED = 1;

export class Settings {
  constructor(host) {
    this.host = host;
    this.notes = new Map();       // attribute name -> why its value was ignored
    this.modelKind = 'student';   // until the limits say which model a folder serves by default
    // Who set the steps and guidance fields: 'attr' (the attribute, or the model's default without
    // one), 'model' (the model's default: the learner picked the model), 'user' (typed).
    this.source = { steps: 'attr', guidance: 'attr' };
  }

  get limits() {
    return this.host.limits;
  }

  applyAll() {
    this.applyModel();
    this.applySeed();
    this.applySampler();
    this.applyForward();
  }

  /** Shows (or, with null, drops) why an attribute's value was ignored. */
  note(name, note) {
    if (note) this.notes.set(name, note);
    else this.notes.delete(name);
    this.render();
  }

  render() {
    const host = this.host;
    const el = host.el.settings;
    el.hidden = this.notes.size === 0;
    el.textContent = [...this.notes].map(([name, n]) => host.t('settingIgnored', {
      name, value: n.value, why: host.t(n.why, n.whyParams ?? {}), fallback: n.fallback,
    })).join(' ');
  }

  applyModel() {
    const models = this.host.models;
    if (!models || !this.limits) return;
    const raw = this.host.getAttribute('model');
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
    this.note('model', note);
    this.setModel(kind);
  }

  /** Chooses the model: the model menu, steps limit and default, guidance field, hints. */
  setModel(kind, { user = false } = {}) {
    const host = this.host;
    const models = host.models;
    if (!models || !this.limits) return;
    if (!models[kind]) kind = models.default;
    this.modelKind = kind;
    const select = host.el.model;
    const present = MODEL_KINDS.filter((k) => models[k]);
    if ([...select.options].map((o) => o.value).join() !== present.join()) {
      host.loc.forget(...select.options);
      select.replaceChildren(...present.map((k) => {
        const option = document.createElement('option');
        option.value = k;
        host.loc.text(option, k === 'student' ? 'modelStudent' : 'modelTeacher');
        return option;
      }));
    }
    select.value = kind;
    host.loc.text(host.el.modelHint, kind === 'student' ? 'modelHintStudent' : 'modelHintTeacher');
    if (user) {
      // The learner picked another model: its own defaults, whatever the page set (the student
      // cannot take the teacher's 8 steps).
      this.source.steps = 'model';
      this.source.guidance = 'model';
    }
    this.applySteps();
    this.applyGuidance();
    host.comparePanel.updateModels();
    host.explorePanel.updateModels();
  }

  /** The chosen model's most steps; before the model is loaded only the global limit is sure. */
  stepsMax() {
    const host = this.host;
    return host.modelsKnown ? host.models[this.modelKind].maxSteps : this.limits.stepsMax;
  }

  applySteps() {
    const host = this.host;
    if (!this.limits) return;
    const spec = host.models[this.modelKind];
    const { steps, stepsHint } = host.el;
    const min = this.limits.stepsMin;
    const max = this.stepsMax();
    steps.min = String(min);
    steps.max = String(max);
    host.loc.text(stepsHint, 'stepsHint', { min, max });
    if (this.source.steps === 'user') return;
    const raw = host.getAttribute('steps');
    if (raw === null || raw.trim() === '' || this.source.steps === 'model') {
      this.note('steps', null);
      steps.value = String(spec.steps);
      return;
    }
    const value = parseWhole(raw);
    if (value === null || value < min || value > max) {
      this.note('steps', { value: raw, why: 'whyWhole', whyParams: { min, max }, fallback: spec.steps });
      steps.value = String(spec.steps);
    } else {
      this.note('steps', null);
      steps.value = String(value);
    }
  }

  applySeed() {
    const host = this.host;
    if (!this.limits) return;
    const { seedMax } = this.limits;
    const raw = host.getAttribute('seed');
    const value = raw === null ? DEFAULT_SEED : parseWhole(raw);
    const ok = value !== null && value <= seedMax;
    this.note('seed', ok ? null : { value: raw, why: 'whyWhole', whyParams: { min: 0, max: seedMax }, fallback: DEFAULT_SEED });
    host.el.seed.value = String(ok ? value : DEFAULT_SEED);
    host.el.seed.removeAttribute('aria-invalid');
    host.syncPanels();
  }

  applyGuidance() {
    const host = this.host;
    if (!this.limits) return;
    const { guidanceMin: min, guidanceMax: max } = this.limits;
    const spec = host.models[this.modelKind];
    const { guidance, guidanceHint } = host.el;
    const raw = host.getAttribute('guidance');
    let attrValue = null;
    let note = null;
    if (raw !== null && raw.trim() !== '') {
      const v = parseNumber(raw);
      if (v === null || v < min || v > max) {
        note = { value: raw, why: 'whyNumber', whyParams: { min, max }, fallback: host.models.teacher.guidance };
      } else {
        attrValue = v;
      }
    }
    this.note('guidance', note);
    if (spec.guidance == null) {
      // The student: guidance is baked into its weights.
      guidance.disabled = true;
      guidance.value = '';
      guidance.removeAttribute('aria-invalid');
      host.loc.text(guidanceHint, 'guidanceHintStudent');
      return;
    }
    guidance.disabled = false;
    guidance.min = String(min);
    guidance.max = String(max);
    host.loc.text(guidanceHint, 'guidanceHint', { value: host.number(spec.guidance, 1), max });
    if (this.source.guidance === 'user') return;
    const fromAttr = attrValue !== null && this.source.guidance !== 'model';
    guidance.value = String(fromAttr ? attrValue : spec.guidance);
  }

  /** The `sampler` attribute when it names one of the teacher's samplers, else null. */
  sampler() {
    if (!this.limits) return null;
    return parseName(this.host.getAttribute('sampler') ?? '', this.limits.samplers);
  }

  applySampler() {
    const host = this.host;
    if (!this.limits) return;
    const raw = host.getAttribute('sampler');
    const bad = raw !== null && raw.trim() !== '' && !this.sampler();
    this.note('sampler', bad ? {
      value: raw, why: 'whyOneOf', whyParams: { list: this.limits.samplers.join(', ') }, fallback: host.models.teacher.sampler,
    } : null);
  }

  /**
   * `forward-t` (up to the model's last timestep, once it is loaded) and `forward-seed`;
   * `preset: false` checks them again without moving the learner's slider.
   */
  applyForward({ preset = true } = {}) {
    const host = this.host;
    if (!this.limits) return;
    const alphaBars = host.loading.info?.alphaBars;
    const check = (name, max) => {
      const raw = host.getAttribute(name);
      if (raw === null || raw.trim() === '') return this.note(name, null);
      const value = parseWhole(raw);
      const ok = value !== null && value <= max;
      this.note(name, ok ? null : { value: raw, why: 'whyWhole', whyParams: { min: 0, max }, fallback: host.t('fallbackUnchanged') });
      if (ok && preset) host.forwardPanel.preset(name === 'forward-t' ? { t: value } : { seed: value });
    };
    check('forward-t', alphaBars ? alphaBars.length - 1 : Number.MAX_SAFE_INTEGER);
    check('forward-seed', this.limits.seedMax);
  }

  applyMode() {
    const host = this.host;
    const raw = host.getAttribute('mode');
    const value = raw?.trim().toLowerCase();
    let mode = 'reverse';
    let note = null;
    if (value) {
      if (MODES.includes(value)) mode = value;
      else note = { value: raw, why: 'whyOneOf', whyParams: { list: MODES.join(', ') }, fallback: mode };
    }
    this.note('mode', note);
    host.tabs.select(mode);
  }
}
