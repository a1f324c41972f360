// The reverse-process view of <diffusion-lab>: every frame of a run (frame 0 = the pure starting
// noise, frame i = the picture after step i, with the noise and final picture the model predicted
// in that step), a scrubber and a strip of thumbnails to go through them, a play button, and the
// PNG exports.

import { drawRgba, clearCanvas, upscaledPng, stripPng, downloadBlob, slug } from './draw.js';
import { SchedulePlot } from './schedule.js';
import { DetailPlot } from './detail.js';
import { renderReverseMaths } from './maths.js';

const PLAY_INTERVAL_MS = 400;

export class Timeline {
  /** `host`: the element (for $, loc, number, emit, status). */
  constructor(host) {
    this.host = host;
    const $ = host.$;
    this.el = {
      scrubber: $('scrubber'),
      play: $('play'),
      playHint: $('play-hint'),
      iconPlay: $('icon-play'),
      iconPause: $('icon-pause'),
      strip: $('strip'),
      xt: $('xt'),
      eps: $('eps'),
      x0: $('x0'),
      counter: $('counter'),
      timestep: $('timestep'),
      steptime: $('steptime'),
      savePng: $('save-png'),
      saveStrip: $('save-strip'),
    };
    // the run's steps on the noise schedule, the marker at the step shown
    this.plot = new SchedulePlot(host, $('rev-schedule'));
    // coarse structure first, fine detail last: x̂₀ against the final picture, per step
    this.detail = new DetailPlot(host, $('rev-detail'));
    this.frames = [];      // [{x, eps, x0, t, ms}] — frame 0: {x: x_start}
    this.total = 0;        // steps of the run
    this.size = [32, 32];
    this.selected = -1;
    this.following = true; // show each new step as it arrives
    this.running = false;
    this.final = null;     // {image, width, height, prompt, seed, model, steps} after a finished run
    this.playTimer = null;

    const { scrubber, play, strip, savePng, saveStrip } = this.el;
    scrubber.addEventListener('input', () => {
      this.stop();
      this.select(Number(scrubber.value));
    });
    play.addEventListener('click', () => (this.playTimer ? this.stop() : this.play()));
    strip.addEventListener('click', (event) => {
      const thumb = event.target.closest('.thumb');
      if (!thumb) return;
      this.stop();
      this.select(Number(thumb.dataset.index));
    });
    savePng.addEventListener('click', () => this.savePicture());
    saveStrip.addEventListener('click', () => this.saveStrip());
    this.showEmpty();
  }

  // -- a run ------------------------------------------------------------------------------------

  /** A new run of `total` steps starts: forget the old frames. */
  /** `run`: {model, guidance (null for the student), sampler, timesteps} of the run about to start. */
  begin(total, run = null) {
    this.run = run;
    this.stop();
    this.running = true;
    this.final = null;
    this.total = total;
    this.frames = [{ x: null, eps: null, x0: null, t: null, ms: null }];
    this.plot.setMarks([]);
    this.detail.clear();
    this.following = true;
    this.selected = -1;
    const { strip, scrubber } = this.el;
    strip.replaceChildren();
    for (let i = 0; i <= total; i++) strip.append(this.makeThumb(i));
    scrubber.min = '0';
    scrubber.max = '0';
    scrubber.value = '0';
    scrubber.disabled = true;
    this.updateControls();
  }

  makeThumb(index) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'thumb';
    button.tabIndex = -1; // the scrubber is the keyboard control; thumbnails are a mouse shortcut
    button.dataset.index = String(index);
    button.disabled = true;
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 32;
    button.append(canvas);
    return button;
  }

  /** A step message from the worker ({index, total, t, ms, width, height, x_next, eps, x0, x_start?}). */
  onStep(s) {
    const w = s.width || 32;
    const h = s.height || 32;
    this.size = [w, h];
    if (s.index === 0) {
      this.frames[0] = { x: s.x_start ?? null, eps: null, x0: null, t: null, ms: null };
      this.drawThumb(0);
    }
    const i = s.index + 1;
    this.frames[i] = { x: s.x_next, eps: s.eps, x0: s.x0, t: s.t, ms: s.ms };
    this.plot.setMarks(this.frames.slice(1).filter(Boolean).map((f) => ({ t: f.t, kind: 'run' })));
    this.drawThumb(i);
    const { scrubber } = this.el;
    const first = this.frames[0].x ? 0 : 1;
    scrubber.min = String(first);
    scrubber.max = String(i);
    scrubber.disabled = false;
    if (this.following) this.select(i, { follow: true });
    else scrubber.value = String(this.selected);
  }

  /** The run finished: keep the final picture for the exports. */
  finish(final) {
    this.running = false;
    this.final = final;
    this.detail.show(this.frames, final.image, this.size[0]);
    this.updateControls();
  }

  /** The run was cancelled or failed: keep the frames that arrived. */
  abort() {
    this.running = false;
    this.updateControls();
  }

  // -- showing a frame --------------------------------------------------------------------------

  select(index, { follow = false } = {}) {
    const last = this.frames.length - 1;
    if (last < 0) return;
    const first = this.frames[0]?.x ? 0 : Math.min(1, last);
    const i = Math.max(first, Math.min(last, Math.round(index)));
    const frame = this.frames[i];
    if (!frame) return;
    this.selected = i;
    // Whoever looks at the newest frame keeps seeing the newest one while the run goes on.
    this.following = follow || (i === last && this.running);
    const { loc } = this.host;
    const { xt, eps, x0, counter, timestep, steptime, scrubber, strip } = this.el;
    const [w, h] = this.size;
    scrubber.value = String(i);
    if (frame.x) drawRgba(xt, frame.x, w, h);
    else clearCanvas(xt);
    if (frame.eps) drawRgba(eps, frame.eps, w, h);
    else clearCanvas(eps);
    if (frame.x0) drawRgba(x0, frame.x0, w, h);
    else clearCanvas(x0);
    const total = this.total;
    if (i === 0) {
      loc.text(counter, 'stepCounterStart', { total });
      loc.text(timestep, 'stepTimestepStart');
      loc.clear(steptime);
      loc.attr(xt, 'aria-label', 'mainAltStart');
      loc.attr(eps, 'aria-label', 'noEstimateAlt');
      loc.attr(x0, 'aria-label', 'noEstimateAlt');
      loc.attr(scrubber, 'aria-valuetext', 'stepCounterStart', { total });
    } else {
      const ms = this.host.number(frame.ms, frame.ms < 10 ? 1 : 0);
      loc.text(counter, 'stepCounter', { step: i, total });
      loc.text(timestep, 'stepTimestep', { t: frame.t });
      loc.text(steptime, 'stepTime', { ms });
      loc.attr(xt, 'aria-label', 'mainAlt', { step: i, total });
      loc.attr(eps, 'aria-label', 'epsAlt');
      loc.attr(x0, 'aria-label', 'x0Alt');
      loc.attr(scrubber, 'aria-valuetext', 'stepCounter', { step: i, total });
    }
    for (const thumb of strip.children) thumb.classList.toggle('current', Number(thumb.dataset.index) === i);
    this.scrollStripTo(i);
    // frame 0 is the pure noise the run starts from: the end of the schedule
    const n = this.plot.alphaBars?.length ?? 1000;
    this.plot.setT(i === 0 ? n - 1 : frame.t);
    renderReverseMaths(this.host, this.host.$('rev-maths'), {
      step: i, total, t: frame.t, tNext: i < total ? (this.frames[i + 1]?.t ?? this.run?.timesteps?.[i]) : null,
      alphaBars: this.plot.alphaBars, run: this.run,
    });
  }

  /** Scrolls the strip (only the strip, never the page) so that thumbnail `i` is visible. */
  scrollStripTo(i) {
    const { strip } = this.el;
    const thumb = strip.children[i];
    if (!thumb) return;
    const left = thumb.offsetLeft - strip.offsetLeft;
    const right = left + thumb.offsetWidth;
    if (left < strip.scrollLeft) strip.scrollLeft = left;
    else if (right > strip.scrollLeft + strip.clientWidth) strip.scrollLeft = right - strip.clientWidth;
  }

  drawThumb(i) {
    const thumb = this.el.strip.children[i];
    const frame = this.frames[i];
    if (!thumb || !frame?.x) return;
    drawRgba(thumb.firstChild, frame.x, ...this.size);
    thumb.disabled = false;
  }

  showEmpty() {
    const { loc } = this.host;
    const { xt, eps, x0, counter, timestep, steptime, scrubber } = this.el;
    loc.text(counter, 'stepCounterEmpty');
    loc.clear(timestep);
    loc.clear(steptime);
    loc.attr(xt, 'aria-label', 'mainAltEmpty');
    loc.attr(eps, 'aria-label', 'epsAlt');
    loc.attr(x0, 'aria-label', 'x0Alt');
    loc.attr(scrubber, 'aria-valuetext', 'stepCounterEmpty');
    this.updateControls();
  }

  // -- play -------------------------------------------------------------------------------------

  play() {
    if (this.host.reducedMotion || this.running || this.frames.length < 2) return;
    const last = this.frames.length - 1;
    if (this.selected >= last) this.select(0);
    this.playTimer = setInterval(() => {
      if (this.selected >= this.frames.length - 1) {
        this.stop();
        return;
      }
      this.select(this.selected + 1);
    }, PLAY_INTERVAL_MS);
    this.updateControls();
  }

  stop() {
    if (!this.playTimer) return;
    clearInterval(this.playTimer);
    this.playTimer = null;
    this.updateControls();
  }

  get playing() {
    return Boolean(this.playTimer);
  }

  updateControls() {
    const { play, playHint, iconPlay, iconPause, savePng, saveStrip } = this.el;
    const reduced = this.host.reducedMotion;
    if (reduced) this.stop();
    const playing = this.playing;
    play.disabled = reduced || this.running || this.frames.length < 2;
    play.setAttribute('aria-pressed', String(playing));
    this.host.loc.attr(play, 'aria-label', playing ? 'pause' : 'play');
    this.host.loc.attr(play, 'title', playing ? 'pause' : 'play');
    iconPlay.hidden = playing;
    iconPause.hidden = !playing;
    playHint.hidden = !reduced;
    savePng.disabled = !this.final;
    saveStrip.disabled = !this.final;
  }

  // -- export -----------------------------------------------------------------------------------

  fileStem() {
    const f = this.final;
    return `diffusion-lab-${slug(f.prompt)}-seed${f.seed}-${f.model || 'model'}-${f.steps}`;
  }

  async savePicture() {
    if (!this.final) return;
    const { image, width, height } = this.final;
    await this.save(await upscaledPng(image, width, height, 256), `${this.fileStem()}.png`);
  }

  async saveStrip() {
    if (!this.final) return;
    const xs = this.frames.map((f) => f?.x ?? null);
    const x0s = this.frames.map((f) => f?.x0 ?? null);
    await this.save(await stripPng([xs, x0s], ...this.size), `${this.fileStem()}-steps.png`);
  }

  async save(blob, filename) {
    try {
      downloadBlob(blob, filename, this.host.shadowRoot);
      this.host.setStatus('statusSaved', { file: filename });
    } catch (err) {
      this.host.fail(err);
    }
  }
}
