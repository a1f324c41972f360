// The "few steps or many" panel of <diffusion-lab>: the same prompt and seed through the distilled
// student (its own few steps) and the teacher (its default steps, or as many as asked), side by
// side, each drawn step by step, with its steps, denoiser passes and time.

import { drawRgba, clearCanvas } from './draw.js';

class Column {
  constructor(host, who) {
    this.host = host;
    this.who = who;
    const $ = host.$;
    this.el = {
      canvas: $(`cmp-${who}-canvas`),
      strip: $(`cmp-${who}-strip`),
      steps: $(`cmp-${who}-steps`),
      passes: $(`cmp-${who}-passes`),
      time: $(`cmp-${who}-time`),
    };
    this.reset();
  }

  get modelKey() {
    return this.who === 'student' ? 'cmpStudent' : 'cmpTeacher';
  }

  reset() {
    const { canvas, strip, steps, passes, time } = this.el;
    const { loc } = this.host;
    clearCanvas(canvas);
    strip.replaceChildren();
    for (const el of [steps, passes, time]) {
      loc.clear(el);
      el.textContent = '–';
    }
    this.altStep = null;
    this.relocalize();
  }

  begin(total) {
    this.reset();
    this.total = total;
    this.el.steps.textContent = String(total);
  }

  thumb(pixels, w, h) {
    const c = document.createElement('canvas');
    drawRgba(c, pixels, w, h);
    this.el.strip.append(c);
    this.el.strip.scrollLeft = this.el.strip.scrollWidth;
  }

  step(s) {
    const w = s.width || 32;
    const h = s.height || 32;
    if (s.index === 0 && s.x_start) this.thumb(s.x_start, w, h);
    this.thumb(s.x_next, w, h);
    drawRgba(this.el.canvas, s.x_next, w, h);
    this.showAlt(s.index + 1, s.total);
  }

  showAlt(step, total) {
    // The model's name is itself localized: keep the key, resolve it at render time.
    this.altStep = { step, total };
    this.relocalize();
  }

  relocalize() {
    const model = this.host.t(this.modelKey);
    if (this.altStep) this.host.loc.attr(this.el.canvas, 'aria-label', 'cmpAlt', { model, ...this.altStep });
    else this.host.loc.attr(this.el.canvas, 'aria-label', 'cmpAltEmpty', { model });
  }

  finish(res, perStep) {
    const { steps, passes, time } = this.el;
    const { loc } = this.host;
    drawRgba(this.el.canvas, res.image, res.width || 32, res.height || 32);
    const passCount = Number.isFinite(res.passes) && res.passes > 0 ? res.passes : res.steps * perStep;
    steps.textContent = String(res.steps);
    loc.text(passes, 'cmpPasses', { passes: passCount, steps: res.steps, perStep: Math.round(passCount / res.steps) });
    loc.text(time, 'cmpSeconds', { seconds: this.host.number(res.ms / 1000, 1) });
    return { steps: res.steps, passes: passCount, ms: res.ms, model: res.model || this.who };
  }
}

export class ComparePanel {
  constructor(host) {
    this.host = host;
    const $ = host.$;
    this.el = {
      form: $('cmp-form'),
      prompt: $('cmp-prompt'),
      seed: $('cmp-seed'),
      steps: $('cmp-steps'),
      stepsHint: $('cmp-steps-hint'),
      run: $('cmp-run'),
      cancel: $('cmp-cancel'),
      noStudent: $('cmp-nostudent'),
      summary: $('cmp-summary'),
    };
    this.cols = { student: new Column(host, 'student'), teacher: new Column(host, 'teacher') };
    this.edited = { prompt: false, seed: false, steps: false };
    this.hasResult = false;       // both columns show a finished picture
    for (const name of ['prompt', 'seed', 'steps']) {
      const input = this.el[name];
      input.addEventListener('input', () => {
        this.edited[name] = true;
        input.removeAttribute('aria-invalid');
      });
    }
    this.el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.host.compare().catch(() => {});
    });
    this.el.cancel.addEventListener('click', () => this.host.cancel());
  }

  /** Take over the reverse panel's prompt and seed, unless the learner changed them here. */
  syncFrom({ prompt, seed }) {
    if (!this.edited.prompt) this.el.prompt.value = prompt;
    if (!this.edited.seed) this.el.seed.value = seed;
  }

  /** The models are known (or the limits' defaults): steps limits, defaults, and whether there is a student. */
  updateModels() {
    const { models, limits } = this.host;
    if (!models || !limits) return;
    const teacher = models.teacher;
    const { steps, stepsHint, noStudent } = this.el;
    const min = limits.stepsMin;
    steps.min = String(min);
    steps.max = String(teacher.maxSteps);
    if (!this.edited.steps) steps.value = String(teacher.steps);
    if (models.student) this.host.loc.text(stepsHint, 'cmpStepsHint', { steps: models.student.steps, min, max: teacher.maxSteps });
    else this.host.loc.text(stepsHint, 'cmpStepsHintTeacher', { min, max: teacher.maxSteps });
    noStudent.hidden = !this.host.modelsKnown || Boolean(models.student);
    this.updateButtons();
  }

  updateButtons() {
    const busy = this.host.busy;
    const noStudent = this.host.modelsKnown && !this.host.models.student;
    this.el.run.disabled = busy || noStudent;
    this.el.cancel.disabled = !this.host.cancellable;
    this.host.loc.text(this.el.run, busy ? 'working' : 'cmpRun');
  }

  /** The inputs, checked; throws a LabError (input) that names the field. */
  readInputs() {
    const h = this.host;
    const prompt = h.checkPrompt(this.el.prompt);
    const seed = h.checkSeed(this.el.seed);
    const teacher = h.models.teacher;
    const steps = h.checkWhole(this.el.steps, h.limits.stepsMin, teacher.maxSteps, 'errSteps');
    return { prompt, seed, steps };
  }

  run({ prompt, seed, steps }) {
    const h = this.host;
    this.el.summary.textContent = '';
    this.hasResult = false;
    this.cols.student.reset();
    this.cols.teacher.reset();
    return h.runLoaded(async () => {
      const models = h.models;
      if (!models.student) {
        this.updateModels();
        return null;
      }
      h.setStatus('statusComparing');
      const student = await this.runOne('student', prompt, { model: 'student', seed }, models.student);
      if (h.stopRequested()) throw h.cancelledError();
      const teacher = await this.runOne('teacher', prompt, { model: 'teacher', steps, seed }, models.teacher);
      h.loc.text(this.el.summary, 'cmpSummary', {
        studentPasses: student.passes,
        studentSeconds: h.number(student.ms / 1000, 1),
        teacherPasses: teacher.passes,
        teacherSeconds: h.number(teacher.ms / 1000, 1),
      });
      h.setStatus('statusCompareDone');
      const detail = { prompt, seed, student, teacher };
      this.hasResult = true;
      h.emit('compare', detail);
      return detail;
    });
  }

  async runOne(who, prompt, options, spec) {
    const col = this.cols[who];
    const total = options.steps ?? spec.steps;
    col.begin(total);
    const res = await this.host.runJob('generate', { prompt, options }, (s) => {
      col.step(s);
      this.host.emit('step', { index: s.index, total: s.total, t: s.t, ms: s.ms, panel: 'compare', model: who });
    });
    return col.finish(res, spec.passesPerStep);
  }

  relocalize() {
    this.cols.student.relocalize();
    this.cols.teacher.relocalize();
    this.updateModels();
  }
}
