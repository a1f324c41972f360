// The forward-process panel of <diffusion-lab>: pick a picture (an example from the data set,
// the last generated one, or your own: painted or loaded from a file), slide the noise level t, and see the noisy picture x_t, the true noise,
// the model's estimate of it, the picture it reconstructs, and how far off the estimate is.
//
// Requests go to the worker one at a time; while one runs, slider moves only update the wish,
// and the latest wish is computed next (intermediate values are skipped).

import { drawRgba, clearCanvas, rgbaFromImage } from './draw.js';
import { LabError } from './client.js';
import { SchedulePlot } from './schedule.js';
import { renderForwardMaths } from './maths.js';
import { PaintPad } from './paint.js';

/** The label of the pad's picture: it has no name, and no prompt of its own. */
const OWN = Symbol('own picture');
const EXAMPLES_URL = new URL('../examples/examples.json', import.meta.url);
const DEBOUNCE_MS = 60;

export class ForwardPanel {
  constructor(host) {
    this.host = host;
    const $ = host.$;
    this.el = {
      source: $('fwd-source'),
      prompt: $('fwd-prompt'),
      t: $('fwd-t'),
      seed: $('fwd-seed'),
      newNoise: $('fwd-newnoise'),
      noSource: $('fwd-nosource'),
      mix: $('fwd-mix'),
      x0: $('fwd-x0'),
      xt: $('fwd-xt'),
      noise: $('fwd-noise'),
      epsHat: $('fwd-epshat'),
      x0Hat: $('fwd-x0hat'),
      errorOut: $('fwd-error-out'),
      meter: $('fwd-meter'),
    };
    this.examples = null;      // [{file, de, en, url}] once examples.json was read ([] without one)
    this.examplesLoading = null;
    this.picture = null;       // {rgba, width, height, label: {de, en} | string}
    this.promptEdited = false;
    this.active = false;
    this.wanted = null;        // the latest request not yet sent
    this.inFlight = false;
    this.timer = null;
    this.sourceToken = 0;
    this.own = $('fwd-own');
    this.paintError = $('paint-error');
    this.copyButton = $('paint-copy');
    this.shown = null;         // the last picture that was not the pad's: "start from it"
    this.pad = new PaintPad(host, this.own, {
      onChange: (rgba) => this.onPainted(rgba),
      onError: (key, params) => {
        this.host.loc.text(this.paintError, key, params);
        this.paintError.hidden = false;
      },
    });
    this.copyButton.addEventListener('click', () => {
      if (this.shown) this.pad.put(this.shown.rgba);
    });
    this.plot = new SchedulePlot(host, $('fwd-schedule'));
    this.plotCaption = $('fwd-schedule-caption');
    this.tHint = $('fwd-t-hint');
    this.reverseCaption = $('rev-schedule-caption');
    this.nameLastTimestep();

    const { source, prompt, t, seed, newNoise } = this.el;
    source.addEventListener('change', () => this.pickSource(source.value));
    prompt.addEventListener('input', () => {
      this.promptEdited = true;
      this.request();
    });
    t.addEventListener('input', () => this.request());
    seed.addEventListener('input', () => this.request());
    newNoise.addEventListener('click', () => {
      seed.value = String(crypto.getRandomValues(new Uint32Array(1))[0] % 1000000);
      this.request({ now: true });
    });
    this.el.source.closest('form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.request({ now: true });
    });
    this.showEmpty();
  }

  /** The panel became visible: read the examples, pick a picture, compute. */
  async activate() {
    this.active = true;
    await this.loadExamples();
    this.fillSources();
    if (!this.picture) {
      const first = this.examples.length ? 'ex:0' : (this.host.lastImage ? 'last' : '');
      if (first) await this.pickSource(first);
    } else {
      this.request({ now: true });
    }
  }

  deactivate() {
    this.active = false;
  }

  async loadExamples() {
    if (this.examples) return this.examples;
    if (!this.examplesLoading) {
      this.examplesLoading = (async () => {
        try {
          const res = await fetch(EXAMPLES_URL);
          if (!res.ok) return [];
          const list = await res.json();
          if (!Array.isArray(list)) return [];
          return list
            .filter((e) => e && typeof e.file === 'string')
            .map((e) => ({ ...e, url: new URL(e.file, EXAMPLES_URL).href }));
        } catch {
          return []; // no examples shipped (or offline without them): the generated picture still works
        }
      })();
    }
    this.examples = await this.examplesLoading;
    return this.examples;
  }

  /** The <select> of pictures, in the current language. */
  fillSources() {
    const { source, noSource } = this.el;
    const { loc } = this.host;
    const keep = source.value;
    loc.forget(...source.options);
    source.replaceChildren();
    const last = document.createElement('option');
    last.value = 'last';
    last.disabled = !this.host.lastImage;
    loc.text(last, this.host.lastImage ? 'fwdSourceLast' : 'fwdSourceLastNone');
    source.append(last);
    (this.examples ?? []).forEach((e, i) => {
      const option = document.createElement('option');
      option.value = `ex:${i}`;
      loc.text(option, 'fwdSourceExample', { label: this.exampleLabel(e) });
      source.append(option);
    });
    const own = document.createElement('option');
    own.value = 'own';
    loc.text(own, 'fwdSourceOwn');
    source.append(own);
    if (keep && [...source.options].some((o) => o.value === keep && !o.disabled)) source.value = keep;
    noSource.hidden = Boolean(this.examples?.length || this.host.lastImage);
  }

  exampleLabel(example) {
    return String(example[this.host.language] ?? example.en ?? example.de ?? example.file);
  }

  /** A new picture was generated: offer it (and show it when "last" is chosen). */
  onGenerated() {
    if (!this.examples) return;
    this.fillSources();
    if (this.el.source.value === 'last' || !this.picture) this.pickSource('last');
  }

  async pickSource(value) {
    const token = ++this.sourceToken;
    const { source, prompt } = this.el;
    try {
      let picture;
      if (value === 'own') {
        picture = { rgba: this.pad.rgba(), width: 32, height: 32, label: OWN };
      } else if (value === 'last') {
        const last = this.host.lastImage;
        if (!last) return;
        picture = { rgba: last.image, width: last.width, height: last.height, label: last.prompt };
      } else {
        const example = this.examples?.[Number(value.slice(3))];
        if (!example) return;
        const img = new Image();
        img.src = example.url;
        await img.decode();
        picture = { rgba: rgbaFromImage(img, 32), width: 32, height: 32, label: example };
      }
      if (token !== this.sourceToken) return; // another choice came in meanwhile
      this.picture = picture;
      if (picture.label !== OWN) this.shown = picture;
      this.copyButton.disabled = !this.shown;
      this.own.hidden = picture.label !== OWN;
      this.paintError.hidden = true;
      source.value = value;
      if (!this.promptEdited) prompt.value = this.labelText(picture.label);
      this.showOriginal();
      this.request({ now: true });
    } catch (err) {
      this.host.fail(new LabError({ kind: 'forward', key: 'errExample', detail: String(err?.message ?? err) }));
    }
  }

  labelText(label) {
    if (label === OWN) return '';
    return typeof label === 'string' ? label : this.exampleLabel(label);
  }

  showOriginal() {
    const { picture } = this;
    drawRgba(this.el.x0, picture.rgba, picture.width, picture.height);
    if (picture.label === OWN) this.host.loc.attr(this.el.x0, 'aria-label', 'fwdOwnAlt');
    else this.host.loc.attr(this.el.x0, 'aria-label', 'fwdOriginalAlt', { label: this.labelText(picture.label) });
  }

  /** The pad changed: when it is the chosen picture, that is what gets noised. */
  onPainted(rgba) {
    this.paintError.hidden = true;
    if (this.picture?.label !== OWN) return;
    this.picture = { rgba: new Uint8ClampedArray(rgba), width: 32, height: 32, label: OWN };
    this.showOriginal();
    this.request();
  }

  /** The language changed: example names and the default prompt follow it. */
  relocalize() {
    if (!this.examples) return;
    this.fillSources();
    if (!this.picture) return;
    this.showOriginal();
    const prompt = this.labelText(this.picture.label);
    if (!this.promptEdited && this.el.prompt.value !== prompt) {
      // The example's name in the other language is another prompt for the model.
      this.el.prompt.value = prompt;
      this.request();
    }
  }

  currentRequest() {
    const { t, seed, prompt } = this.el;
    const seedText = seed.value.trim();
    const seedValue = /^\d+$/.test(seedText) && Number(seedText) <= Number.MAX_SAFE_INTEGER ? Number(seedText) : 1;
    return {
      rgba: this.picture.rgba,
      prompt: prompt.value.trim(),
      t: Math.max(0, Math.min(Number(t.max), Math.round(Number(t.value) || 0))),
      seed: seedValue,
    };
  }

  /** Sets the noise level and/or the noise seed (the `forward-t` and `forward-seed` attributes). */
  preset({ t, seed }) {
    if (t !== undefined) this.el.t.value = String(t);
    if (seed !== undefined) this.el.seed.value = String(seed);
    this.request();
  }

  /** The slider and seed as a shared view carries them. */
  state() {
    const seed = this.el.seed.value.trim();
    return { t: String(Math.round(Number(this.el.t.value) || 0)), seed: /^\d+$/.test(seed) ? seed : null };
  }

  /** The texts that name the schedule's last timestep (pure noise) take it from the slider. */
  nameLastTimestep() {
    const max = Number(this.el.t.max);
    this.host.loc.text(this.tHint, 'fwdTHint', { max });
    this.host.loc.text(this.reverseCaption, 'schedCaptionReverse', { max });
  }

  /** The model is loaded: its schedule, and where its samplers' default steps lie on it. */
  onModel(info) {
    const models = info?.models;
    const marks = [];
    if (models?.teacher) marks.push(...models.teacher.timesteps.map((t) => ({ t, kind: 'teacher' })));
    if (models?.student) marks.push(...models.student.timesteps.map((t) => ({ t, kind: 'student' })));
    // the slider goes as far as the model's schedule (the template's 999 until it is known)
    if (info?.alphaBars?.length > 1) this.el.t.max = String(info.alphaBars.length - 1);
    this.nameLastTimestep();
    this.plot.setSchedule(info?.alphaBars ?? null);
    this.plot.setMarks(marks);
    if (models?.student) {
      this.host.loc.text(this.plotCaption, 'schedCaptionForward', { student: models.student.timesteps.length, teacher: models.teacher.timesteps.length });
    } else if (models?.teacher) {
      this.host.loc.text(this.plotCaption, 'schedCaptionForwardTeacher', { teacher: models.teacher.timesteps.length });
    }
    this.updateTLabel();
  }

  /** Asks for the current settings; only the latest wish is kept while a request runs. */
  request({ now = false } = {}) {
    this.updateTLabel();
    if (!this.picture || !this.active) return;
    clearTimeout(this.timer);
    const send = () => {
      this.wanted = this.currentRequest();
      if (!this.inFlight) this.pump();
    };
    if (now) send();
    else this.timer = setTimeout(send, DEBOUNCE_MS);
  }

  async pump() {
    this.inFlight = true;
    try {
      while (this.wanted) {
        const wish = this.wanted;
        this.wanted = null;
        let result;
        try {
          result = await this.host.forward(wish);
        } catch (err) {
          this.host.fail(err);
          this.wanted = null;
          break;
        }
        this.show(result, wish);
      }
    } finally {
      this.inFlight = false;
    }
  }

  show(r, wish) {
    const { xt, noise, epsHat, x0Hat, errorOut, meter } = this.el;
    const { loc } = this.host;
    const w = r.width || 32;
    const h = r.height || 32;
    drawRgba(xt, r.x_t, w, h);
    drawRgba(noise, r.noise, w, h);
    drawRgba(epsHat, r.epsHat, w, h);
    drawRgba(x0Hat, r.x0Hat, w, h);
    loc.attr(xt, 'aria-label', 'fwdXtAlt', { t: r.t });
    loc.attr(noise, 'aria-label', 'fwdNoiseAlt');
    loc.attr(epsHat, 'aria-label', 'fwdEpsHatAlt');
    loc.attr(x0Hat, 'aria-label', 'fwdX0HatAlt');
    const err = Number(r.noiseError);
    errorOut.textContent = this.host.number(err, 3);
    // logarithmic: typical errors run from ~0.003 (much noise) to ~0.3 (almost none), which a
    // linear 0..1 bar would not show; 0.001 sits at the left end, 1 at the right
    meter.value = Number.isFinite(err) && err > 0 ? Math.min(1, Math.max(0, (Math.log10(err) + 3) / 3)) : 0;
    this.showMix(r.t, r.alphaBar);
    renderForwardMaths(this.host, this.host.$('fwd-maths'), { t: r.t, alphaBar: Number(r.alphaBar) });
    this.last = { t: r.t, alphaBar: r.alphaBar, noiseError: err };
    this.host.emit('forward', { t: r.t, seed: wish.seed, source: this.el.source.value, prompt: wish.prompt, alphaBar: r.alphaBar, noiseError: err });
  }

  showMix(t, alphaBar) {
    const a = Math.max(0, Math.min(1, Number(alphaBar)));
    const n = this.host.number.bind(this.host);
    this.host.loc.text(this.el.mix, 'fwdMix', {
      t,
      signal: n(a * 100, 0),
      noise: n((1 - a) * 100, 0),
      signalFactor: n(Math.sqrt(a), 2),
      noiseFactor: n(Math.sqrt(1 - a), 2),
    });
  }

  updateTLabel() {
    const t = Math.round(Number(this.el.t.value) || 0);
    this.host.loc.attr(this.el.t, 'aria-valuetext', 'fwdTValue', { t, max: Number(this.el.t.max) });
    this.plot?.setT(t);
  }

  showEmpty() {
    const { loc } = this.host;
    for (const c of [this.el.x0, this.el.xt, this.el.noise, this.el.epsHat, this.el.x0Hat]) {
      clearCanvas(c);
      loc.attr(c, 'aria-label', 'fwdEmptyAlt');
    }
    this.updateTLabel();
  }
}
