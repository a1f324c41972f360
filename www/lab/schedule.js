// The noise schedule as a plot: how much of the picture (√ᾱ_t) and how much noise (√(1−ᾱ_t)) the
// noisy picture x_t holds at each t, with a marker at one t and the timesteps a sampler visits.
// The values come from the loaded model (lab.alphaBars, models.*.timesteps), not from a copy of
// the formula. The forward panel moves the marker with its slider, the reverse panel with the
// step the timeline shows.

import { svgElement as svg, drawAxes } from './plot.js';

const W = 320;
const H = 132;
const PAD = { left: 30, right: 8, top: 8, bottom: 26 };

export class SchedulePlot {
  /** `figure`: a <figure> with an <svg> and a <figcaption> (template.js). */
  constructor(host, figure) {
    this.host = host;
    this.figure = figure;
    this.svg = figure.querySelector('svg');
    this.caption = figure.querySelector('figcaption');
    this.alphaBars = null;
    this.t = null;
    this.marks = [];  // [{t, kind: 'student' | 'teacher' | 'run'}]
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.setAttribute('role', 'img');
    figure.hidden = true;
  }

  x(t) {
    const n = this.alphaBars.length - 1;
    return PAD.left + (t / n) * (W - PAD.left - PAD.right);
  }

  y(v) {
    return PAD.top + (1 - v) * (H - PAD.top - PAD.bottom);
  }

  /** The schedule of the loaded model; null hides the plot. */
  setSchedule(alphaBars) {
    this.alphaBars = alphaBars && alphaBars.length > 1 ? alphaBars : null;
    this.render();
  }

  /** The timesteps to mark: [{t, kind}]. */
  setMarks(marks) {
    this.marks = marks;
    this.render();
  }

  setT(t) {
    this.t = Number.isFinite(t) ? t : null;
    this.render();
  }

  /** Signal and noise share at `t` (in 0..1), or null. */
  valuesAt(t) {
    if (!this.alphaBars || t === null) return null;
    const a = this.alphaBars[Math.max(0, Math.min(this.alphaBars.length - 1, Math.round(t)))];
    return { signal: Math.sqrt(a), noise: Math.sqrt(1 - a), alphaBar: a };
  }

  render() {
    const { host } = this;
    this.figure.hidden = !this.alphaBars;
    if (!this.alphaBars) return;
    this.svg.replaceChildren();
    const n = this.alphaBars.length;
    const curve = (f) => {
      let d = '';
      for (let t = 0; t < n; t += 4) d += `${d ? 'L' : 'M'}${this.x(t).toFixed(1)},${this.y(f(this.alphaBars[t])).toFixed(1)}`;
      return d + `L${this.x(n - 1).toFixed(1)},${this.y(f(this.alphaBars[n - 1])).toFixed(1)}`;
    };
    drawAxes(this.svg, {
      x0: PAD.left, x1: W - PAD.right, y: (v) => this.y(v), bottom: H - 4,
      ticks: [0, 500, n - 1].map((t) => [this.x(t), `t = ${t}`]),
    });
    svg('path', { d: curve((a) => Math.sqrt(a)), class: 'sched-signal' }, this.svg);
    svg('path', { d: curve((a) => Math.sqrt(1 - a)), class: 'sched-noise' }, this.svg);
    for (const m of this.marks) {
      const x = this.x(m.t);
      svg('path', { d: `M${x},${this.y(0) + 1}l-4,7h8z`, class: `sched-mark sched-mark-${m.kind}` }, this.svg);
    }
    const v = this.valuesAt(this.t);
    if (v) {
      const x = this.x(this.t);
      svg('line', { x1: x, y1: this.y(0), x2: x, y2: this.y(1), class: 'sched-marker' }, this.svg);
      svg('circle', { cx: x, cy: this.y(v.signal), r: 4, class: 'sched-signal-dot' }, this.svg);
      svg('circle', { cx: x, cy: this.y(v.noise), r: 4, class: 'sched-noise-dot' }, this.svg);
    }
    const pct = (x) => host.number(x * 100, 0);
    const marks = this.marks.map((m) => m.t).join(', ');
    // shares of the variance, as the forward panel's text gives them; the curves are their roots
    host.loc.attr(this.svg, 'aria-label', v ? 'schedAltAt' : 'schedAlt', {
      t: this.t,
      signal: v ? pct(v.alphaBar) : '',
      noise: v ? pct(1 - v.alphaBar) : '',
      signalFactor: v ? host.number(v.signal, 2) : '',
      noiseFactor: v ? host.number(v.noise, 2) : '',
      marks: marks || '–',
    });
    this.svg.dataset.t = v ? String(this.t) : '';
    this.svg.dataset.marks = marks;
  }
}
