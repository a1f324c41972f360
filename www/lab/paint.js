// "Your own picture" in the forward panel: a 32×32 painting pad (a few colours, three brush
// sizes, undo, clear) that also takes a picture file, scaled to the model's size like the
// training data. Everything stays in the page: the pixels go to the worker, nothing else.
//
// By mouse, pen or touch: draw on the pad. By keyboard: the arrow keys move the brush (a frame
// on the pad), Space paints where it stands, Shift + arrow paints while moving, Ctrl+Z undoes.

import { rgbaFromImage } from './draw.js';

export const SIZE = 32;
/** The palette: [i18n key of its name, CSS colour]. White paints the background back. */
export const COLOURS = [
  ['paintBlack', '#202020'], ['paintWhite', '#ffffff'], ['paintRed', '#e53935'], ['paintOrange', '#fb8c00'],
  ['paintYellow', '#fdd835'], ['paintGreen', '#43a047'], ['paintBlue', '#1e88e5'], ['paintBrown', '#8d5524'],
  ['paintPink', '#f48fb1'],
];
export const BRUSHES = [1, 2, 4];
const UNDO_DEPTH = 50;
/** Larger files are refused before decoding (a photo of a few MB is fine). */
export const MAX_FILE_BYTES = 25 * 1024 * 1024;

export class PaintPad {
  /**
   * `root`: the element holding the pad's controls (ids paint-*); `onChange(rgba, {done})` after
   * every change, with done=false while a stroke goes on; `onError(key, detail)` for a file
   * that could not be read.
   */
  constructor(host, root, { onChange, onError }) {
    this.host = host;
    const $ = (id) => root.querySelector(`#${id}`);
    this.canvas = $('paint-canvas');
    this.cursor = $('paint-cursor');
    this.undoButton = $('paint-undo');
    this.file = $('paint-file');
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    this.onChange = onChange;
    this.onError = onError;
    this.colour = COLOURS[0][1];
    this.brush = BRUSHES[1];
    this.history = [];
    this.at = { x: SIZE / 2, y: SIZE / 2 };
    this.last = null;      // the previous point of the stroke going on
    this.clear({ record: false });

    const swatches = $('paint-colours');
    for (const [key, css] of COLOURS) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'swatch';
      b.style.background = css;
      b.dataset.colour = css;
      host.loc.attr(b, 'aria-label', key);
      host.loc.attr(b, 'title', key);
      b.setAttribute('aria-pressed', String(css === this.colour));
      b.addEventListener('click', () => this.pickColour(css));
      swatches.append(b);
    }
    const brushes = $('paint-brush');
    brushes.addEventListener('change', () => { this.brush = Number(brushes.value) || 1; this.showCursor(); });
    brushes.value = String(this.brush);
    $('paint-clear').addEventListener('click', () => this.clear());
    this.undoButton.addEventListener('click', () => this.undo());
    this.file.addEventListener('change', () => {
      const [f] = this.file.files;
      this.file.value = ''; // the same file again is a new choice
      if (f) this.load(f);
    });

    const c = this.canvas;
    c.addEventListener('pointerdown', (e) => {
      if (e.button !== 0) return;
      e.preventDefault();
      c.setPointerCapture(e.pointerId);
      c.focus({ preventScroll: true });
      this.begin();
      this.stroke(this.cell(e));
    });
    c.addEventListener('pointermove', (e) => {
      if (this.last && c.hasPointerCapture(e.pointerId)) {
        for (const p of e.getCoalescedEvents?.() ?? [e]) this.stroke(this.cell(p));
      }
    });
    const end = () => { if (this.last) this.end(); };
    c.addEventListener('pointerup', end);
    c.addEventListener('pointercancel', end);
    c.addEventListener('keydown', (e) => this.key(e));
    c.addEventListener('keyup', (e) => { if (e.key === 'Shift' && this.painting) this.end(); });
    c.addEventListener('focus', () => this.showCursor());
    c.addEventListener('blur', () => { this.cursor.hidden = true; });
  }

  /** The pad's pixels, SIZE×SIZE RGBA (opaque). */
  rgba() {
    return this.ctx.getImageData(0, 0, SIZE, SIZE).data;
  }

  pickColour(css) {
    this.colour = css;
    for (const b of this.canvas.closest('.paint').querySelectorAll('.swatch')) {
      b.setAttribute('aria-pressed', String(b.dataset.colour === css));
    }
  }

  /** The pad cell under a pointer event. */
  cell(e) {
    const r = this.canvas.getBoundingClientRect();
    const f = (v, lo, len) => Math.max(0, Math.min(SIZE - 1, Math.floor(((v - lo) / len) * SIZE)));
    return { x: f(e.clientX, r.left, r.width), y: f(e.clientY, r.top, r.height) };
  }

  /** A stroke starts: the picture before it is what undo brings back. */
  begin() {
    this.record();
    this.last = null;
    this.painting = true;
  }

  /** Paints from the stroke's last point to `p`, every cell on the way. */
  stroke(p) {
    const from = this.last ?? p;
    const n = Math.max(Math.abs(p.x - from.x), Math.abs(p.y - from.y), 1);
    this.ctx.fillStyle = this.colour;
    const h = Math.floor((this.brush - 1) / 2);
    for (let i = 0; i <= n; i++) {
      const x = Math.round(from.x + ((p.x - from.x) * i) / n);
      const y = Math.round(from.y + ((p.y - from.y) * i) / n);
      this.ctx.fillRect(x - h, y - h, this.brush, this.brush);
    }
    this.last = p;
    this.at = p;
    this.onChange(this.rgba(), { done: false });
  }

  end() {
    this.last = null;
    this.painting = false;
    this.onChange(this.rgba(), { done: true });
  }

  key(e) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
      e.preventDefault();
      this.undo();
    } else if (moves[e.key]) {
      e.preventDefault();
      const [dx, dy] = moves[e.key];
      const next = { x: Math.max(0, Math.min(SIZE - 1, this.at.x + dx)), y: Math.max(0, Math.min(SIZE - 1, this.at.y + dy)) };
      if (e.shiftKey) {
        if (!this.painting) { this.begin(); this.last = this.at; }
        this.stroke(next);
      } else {
        if (this.painting) this.end();
        this.at = next;
      }
      this.showCursor();
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      if (this.painting) this.end();
      this.begin();
      this.stroke(this.at);
      this.end();
    }
  }

  showCursor() {
    const h = Math.floor((this.brush - 1) / 2);
    const s = this.cursor.style;
    s.left = `${((this.at.x - h) / SIZE) * 100}%`;
    s.top = `${((this.at.y - h) / SIZE) * 100}%`;
    s.width = s.height = `${(this.brush / SIZE) * 100}%`;
    this.cursor.hidden = this.canvas.getRootNode().activeElement !== this.canvas;
  }

  record() {
    this.history.push(this.ctx.getImageData(0, 0, SIZE, SIZE));
    if (this.history.length > UNDO_DEPTH) this.history.shift();
    this.undoButton.disabled = false;
  }

  undo() {
    const previous = this.history.pop();
    if (!previous) return;
    this.ctx.putImageData(previous, 0, 0);
    this.undoButton.disabled = this.history.length === 0;
    this.onChange(this.rgba(), { done: true });
  }

  /** White all over (undoable, unless `record` is false). */
  clear({ record = true } = {}) {
    if (record) this.record();
    else this.undoButton.disabled = true;
    this.ctx.fillStyle = '#ffffff';
    this.ctx.fillRect(0, 0, SIZE, SIZE);
    if (record) this.onChange(this.rgba(), { done: true });
  }

  /** Puts an RGBA picture of SIZE×SIZE on the pad (undoable). */
  put(rgba) {
    this.record();
    this.ctx.putImageData(new ImageData(new Uint8ClampedArray(rgba), SIZE, SIZE), 0, 0);
    this.onChange(this.rgba(), { done: true });
  }

  /** A picture file onto the pad, scaled to SIZE×SIZE on white; a bad file changes nothing. */
  async load(file) {
    if (file.size > MAX_FILE_BYTES) {
      this.onError('errImageTooBig', { mb: this.host.number(file.size / 1048576, 1), max: MAX_FILE_BYTES / 1048576 });
      return false;
    }
    let bitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch (err) {
      this.onError('errImageFile', { name: file.name, detail: String(err?.message ?? err) });
      return false;
    }
    try {
      this.put(rgbaFromImage(bitmap, SIZE));
    } finally {
      bitmap.close();
    }
    return true;
  }
}
