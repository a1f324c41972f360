// "Zuerst grobe Umrisse, dann Farben, zuletzt feine Details" as a curve: after each step of a run,
// how far the model's guess of the finished picture (x̂₀) still is from the picture the run ends
// with, split into the coarse part (4×4-pixel block means: outlines and colour areas) and the fine
// part (what is left: edges, texture). 1 = as far as the starting noise, 0 = there. Drawn as two
// lines over the steps, with each step's x̂₀ under its point.

import { drawRgba } from './draw.js';
import { svgElement, drawAxes } from './plot.js';

const BLOCK = 4;

/** RGB of an RGBA picture as [coarse, fine] planes: block means and the rest. */
function bands(rgba, size) {
  const n = size * size;
  const coarse = new Float32Array(n * 3);
  const fine = new Float32Array(n * 3);
  for (let by = 0; by < size; by += BLOCK) {
    for (let bx = 0; bx < size; bx += BLOCK) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        for (let y = by; y < by + BLOCK; y++) for (let x = bx; x < bx + BLOCK; x++) sum += rgba[(y * size + x) * 4 + c];
        const mean = sum / (BLOCK * BLOCK);
        for (let y = by; y < by + BLOCK; y++) {
          for (let x = bx; x < bx + BLOCK; x++) {
            const i = (y * size + x) * 3 + c;
            coarse[i] = mean;
            fine[i] = rgba[(y * size + x) * 4 + c] - mean;
          }
        }
      }
    }
  }
  return [coarse, fine];
}

const distance = (a, b) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
};

/**
 * For frames [start noise, step 1 … step n] (each {x, x0}) and the final picture: per step, the
 * coarse and fine distance of x̂₀ to the final picture, each divided by the starting noise's.
 */
export function detailCurves(frames, final, size) {
  const [fc, ff] = bands(final, size);
  const [nc, nf] = bands(frames[0].x, size);
  const ref = [distance(nc, fc) || 1, distance(nf, ff) || 1];
  const coarse = [1];
  const fine = [1];
  for (const f of frames.slice(1)) {
    const [pc, pf] = bands(f.x0, size);
    coarse.push(Math.min(1, distance(pc, fc) / ref[0]));
    fine.push(Math.min(1, distance(pf, ff) / ref[1]));
  }
  return { coarse, fine };
}

export class DetailPlot {
  constructor(host, figure) {
    this.host = host;
    this.figure = figure;
    this.svg = figure.querySelector('svg');
    this.thumbs = figure.querySelector('.detail-thumbs');
    this.curves = null;
    figure.hidden = true;
  }

  clear() {
    this.curves = null;
    this.figure.hidden = true;
  }

  /** A finished run: its frames (0 = start noise) and its final picture. */
  show(frames, final, size) {
    if (!final || frames.length < 2 || !frames[0].x || frames.slice(1).some((f) => !f?.x0)) return this.clear();
    this.curves = detailCurves(frames, final, size);
    this.frames = frames;
    this.size = size;
    this.render();
    return this.curves;
  }

  render() {
    const { curves } = this;
    this.figure.hidden = !curves;
    if (!curves) return;
    const n = curves.coarse.length - 1;
    const W = 320;
    const H = 120;
    const pad = { left: 30, right: 10, top: 8, bottom: 20 };
    const x = (i) => pad.left + (i / n) * (W - pad.left - pad.right);
    const y = (v) => pad.top + (1 - v) * (H - pad.top - pad.bottom);
    this.svg.replaceChildren();
    this.svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
    this.svg.setAttribute('role', 'img');
    drawAxes(this.svg, {
      x0: pad.left, x1: W - pad.right, y, bottom: H - 5,
      ticks: Array.from({ length: n + 1 }, (_, i) => [x(i), String(i)]),
    });
    const line = (values, cls) => svgElement('path', { d: values.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(''), class: cls }, this.svg);
    line(curves.coarse, 'sched-signal');
    line(curves.fine, 'sched-noise');
    const pct = (v) => this.host.number(v * 100, 0);
    const mid = Math.max(1, Math.round(n / 2));
    this.host.loc.attr(this.svg, 'aria-label', 'detailAlt', {
      steps: n, mid, coarse: pct(curves.coarse[mid]), fine: pct(curves.fine[mid]),
    });
    this.svg.dataset.coarse = curves.coarse.map((v) => v.toFixed(3)).join(' ');
    this.svg.dataset.fine = curves.fine.map((v) => v.toFixed(3)).join(' ');
    this.thumbs.replaceChildren();
    for (const f of this.frames.slice(1)) {
      const c = document.createElement('canvas');
      c.width = this.size;
      c.height = this.size;
      drawRgba(c, f.x0, this.size, this.size);
      this.thumbs.append(c);
    }
  }
}
