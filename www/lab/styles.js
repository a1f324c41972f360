// The styles of the <diffusion-lab> element's shadow DOM. They are adopted as a constructable
// stylesheet (no <style> element), so the element works under a Content-Security-Policy with
// `style-src 'self'` and without 'unsafe-inline'.

export const CSS = `
:host {
  display: block;
  max-width: 52rem;
  color-scheme: light dark;
  --dl-accent: #3b5bdb;
  --dl-accent-text: #fff;
  --dl-border: color-mix(in srgb, currentColor 25%, transparent);
  --dl-muted: color-mix(in srgb, currentColor 70%, transparent);
  --dl-panel: color-mix(in srgb, currentColor 5%, transparent);
  --dl-alert-bg: #fde8e8;
  --dl-alert-fg: #8a1c1c;
  --dl-notice-bg: #fff4d6;
  --dl-notice-fg: #5c4400;
  font: inherit;
  line-height: 1.45;
}
@media (prefers-color-scheme: dark) {
  :host {
    --dl-accent: #91a7ff;
    --dl-accent-text: #111;
    --dl-alert-bg: #4a1616;
    --dl-alert-fg: #ffd7d7;
    --dl-notice-bg: #3d3212;
    --dl-notice-fg: #ffe8a8;
  }
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.lab {
  border: 1px solid var(--dl-border);
  border-radius: 12px;
  padding: 1rem;
  background: var(--dl-panel);
  display: grid;
  grid-template-columns: minmax(0, 1fr);
  gap: 0.75rem;
}

/* tabs */
.tabs {
  display: grid;
  grid-template-columns: repeat(auto-fit, minmax(min(100%, 9.5rem), 1fr));
  gap: 0.4rem;
  border-bottom: 2px solid var(--dl-border);
  padding-bottom: 0.4rem;
}
.tabs [role="tab"] {
  padding: 0.4rem 0.8rem;
  font-weight: 600;
  background: transparent;
  border-color: transparent;
}
.tabs [role="tab"][aria-selected="true"] {
  background: var(--dl-accent);
  color: var(--dl-accent-text);
}
[role="tabpanel"] { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.75rem; min-width: 0; }
.intro { margin: 0; }

/* forms */
form {
  display: grid;
  grid-template-columns: repeat(2, minmax(0, 1fr));
  gap: 0.75rem;
  margin: 0;
}
.field { display: grid; gap: 0.25rem; min-width: 0; align-content: start; }
.field.wide, .actions { grid-column: 1 / -1; }
label, .label { font-weight: 600; }
.hint { font-size: 0.85em; color: var(--dl-muted); margin: 0; }
input, select {
  font: inherit;
  width: 100%;
  min-width: 0;
  min-height: 2.75rem;
  padding: 0.45rem 0.6rem;
  border: 1px solid var(--dl-border);
  border-radius: 8px;
  background: Canvas;
  color: CanvasText;
}
input[type="range"] { padding: 0; border: 0; background: transparent; accent-color: var(--dl-accent); }
input:disabled, select:disabled { opacity: 0.6; }
input[aria-invalid="true"] { border-color: #c92a2a; box-shadow: 0 0 0 1px #c92a2a; }
.with-button { display: flex; gap: 0.4rem; min-width: 0; }
.with-button input { flex: 1 1 5rem; }
button {
  font: inherit;
  min-height: 2.75rem;
  min-width: 2.75rem;
  padding: 0.35rem 0.75rem;
  border-radius: 8px;
  border: 1px solid var(--dl-border);
  background: Canvas;
  color: CanvasText;
  cursor: pointer;
}
.with-button button { flex: 0 0 auto; white-space: nowrap; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; }
button.primary {
  background: var(--dl-accent);
  color: var(--dl-accent-text);
  border-color: transparent;
  font-weight: 700;
  padding: 0.5rem 1.25rem;
  flex: 1 1 12rem;
}
.actions .secondary { flex: 0 1 auto; }
button:disabled { opacity: 0.55; cursor: not-allowed; }
:host([data-busy]) button.primary:disabled { cursor: progress; }
:is(input, button, select):focus-visible { outline: 3px solid var(--dl-accent); outline-offset: 2px; }

/* loading, status, messages */
.progress { display: grid; grid-template-columns: 1fr auto; gap: 0.5rem; align-items: center; }
progress { width: 100%; height: 0.9rem; accent-color: var(--dl-accent); }
.mb { font-variant-numeric: tabular-nums; white-space: nowrap; }
.messages { display: grid; gap: 0.5rem; }
.status { margin: 0; min-height: 1.45em; }
.notice, .alert { margin: 0; padding: 0.6rem 0.8rem; border-radius: 8px; overflow-wrap: anywhere; }
.notice { background: var(--dl-notice-bg); color: var(--dl-notice-fg); }
.alert { background: var(--dl-alert-bg); color: var(--dl-alert-fg); font-weight: 600; }
.alert:empty { display: none; }

/* pictures */
figure { margin: 0; display: grid; gap: 0.3rem; justify-items: start; align-content: start; min-width: 0; }
figcaption { font-size: 0.9em; }
canvas {
  display: block;
  image-rendering: pixelated;
  image-rendering: crisp-edges;
  aspect-ratio: 1 / 1;
  height: auto;
  border: 1px solid var(--dl-border);
  border-radius: 6px;
  background: repeating-conic-gradient(#8883 0% 25%, transparent 0% 50%) 50% / 16px 16px;
}
.views { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }
.main canvas { width: min(256px, 100%); }
.main { flex: 0 1 256px; min-width: 0; }
.side { flex: 1 1 12rem; min-width: 0; display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fill, minmax(7rem, 1fr)); }
.side canvas { width: 96px; max-width: 100%; }
.stepinfo { grid-column: 1 / -1; margin: 0; display: grid; gap: 0.1rem; font-variant-numeric: tabular-nums; }
.stepinfo .counter { font-size: 1.25em; font-weight: 700; }
.explain { margin: 0; font-size: 0.9em; color: var(--dl-muted); }
.credits { font-size: 0.85em; color: var(--dl-muted); }
.credits summary { cursor: pointer; min-height: 1.5rem; }
.credits ul { margin: 0.3rem 0 0; padding-left: 1.2rem; }
.side .explain { grid-column: 1 / -1; }
button svg { display: block; margin: auto; }

/* timeline */
.timeline { display: grid; gap: 0.4rem; min-width: 0; }
.scrubrow { display: flex; gap: 0.6rem; align-items: center; min-width: 0; }
.scrub { flex: 1 1 auto; display: grid; gap: 0.1rem; min-width: 0; }
.strip {
  display: flex;
  gap: 4px;
  overflow-x: auto;
  padding: 2px 2px 6px;
  min-width: 0;
  max-width: 100%;
}
.strip .thumb {
  flex: 0 0 auto;
  min-width: 0;
  min-height: 0;
  padding: 1px;
  border: 2px solid transparent;
  border-radius: 6px;
  background: transparent;
}
.strip .thumb.current { border-color: var(--dl-accent); }
.strip canvas { width: 40px; border-radius: 3px; }
.export { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.examples { display: flex; flex-wrap: wrap; gap: 0.35rem; align-items: center; margin-top: 0.35rem; }
.examples button { padding: 0.2rem 0.6rem; border-radius: 999px; font-size: 0.9em; }
.share { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
.share input { flex: 1 1 16rem; min-width: 0; }

/* the formulas */
.maths summary { cursor: pointer; font-weight: 600; }
.maths p { margin: 0.35rem 0 0; font-variant-numeric: tabular-nums; line-height: 1.6; }

/* the noise schedule plot */
.schedule { margin: 0.5rem 0 0; display: grid; gap: 0.25rem; max-width: 30rem; }
.schedule svg { width: 100%; height: auto; overflow: visible; }
.schedule figcaption { font-size: 0.9em; color: var(--dl-muted); }
.sched-axes line { stroke: currentColor; stroke-opacity: 0.5; }
.sched-axes text { fill: currentColor; font-size: 10px; }
.sched-signal { fill: none; stroke: var(--dl-accent); stroke-width: 2.5; }
.sched-noise { fill: none; stroke: currentColor; stroke-opacity: 0.55; stroke-width: 2.5; stroke-dasharray: 5 3; }
.sched-signal-dot { fill: var(--dl-accent); }
.sched-noise-dot { fill: currentColor; fill-opacity: 0.7; }
.sched-marker { stroke: currentColor; stroke-width: 1.5; }
.sched-mark-student, .sched-mark-run { fill: var(--dl-accent); }
.detail-thumbs { display: flex; gap: 4px; padding-left: 30px; overflow-x: auto; }
.detail-thumbs canvas { width: 32px; flex: 0 0 auto; }
.sched-mark-teacher { fill: currentColor; fill-opacity: 0.55; }

/* forward process */
.fwd-views { display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 7.5rem), 1fr)); }
.fwd-views canvas { width: 100%; max-width: 128px; }
.fwd-mix { margin: 0; font-variant-numeric: tabular-nums; }
.paint { display: grid; gap: 0.5rem; border: 1px solid var(--dl-border); border-radius: 8px; padding: 0.75rem; }
.paint h3 { margin: 0; font-size: 1em; }
.paint .hint { margin: 0; }
.paint-row { display: flex; flex-wrap: wrap; gap: 0.75rem; align-items: flex-start; }
.paint-pad { position: relative; width: min(192px, 100%); flex: 0 0 auto; }
.paint-pad canvas { width: 100%; cursor: crosshair; touch-action: none; background: #fff; }
.paint-pad canvas:focus-visible { outline: 3px solid var(--dl-accent); outline-offset: 2px; }
.paint-cursor { position: absolute; box-sizing: border-box; outline: 2px solid var(--dl-accent); box-shadow: 0 0 0 3px #fff; pointer-events: none; }
.paint-tools { display: grid; gap: 0.4rem; flex: 1 1 12rem; align-content: start; }
.swatches { display: flex; flex-wrap: wrap; gap: 0.3rem; }
.swatch { min-width: 2.75rem; min-height: 2.75rem; padding: 0; border: 2px solid var(--dl-border); }
.swatch[aria-pressed="true"] { outline: 3px solid var(--dl-accent); outline-offset: 2px; }
.paint-buttons { display: flex; flex-wrap: wrap; gap: 0.4rem; }
.file-button { display: inline-flex; align-items: center; justify-content: center; min-height: 2.75rem; padding: 0.35rem 0.75rem;
  border-radius: 8px; border: 1px solid var(--dl-border); background: Canvas; color: CanvasText; cursor: pointer; justify-self: start; }
.file-button:has(+ input:focus-visible) { outline: 3px solid var(--dl-accent); outline-offset: 2px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); border: 0; white-space: nowrap; }
.meter { display: grid; gap: 0.25rem; }
.meter-row { display: flex; gap: 0.6rem; align-items: center; }
.meter-row output { font-variant-numeric: tabular-nums; font-weight: 700; min-width: 4ch; }
meter { flex: 1 1 auto; width: 100%; height: 1rem; }

/* explore: seeds and guidance */
.exp-title { margin: 0.5rem 0 0; font-size: 1.05em; }
.exp-grid { display: grid; gap: 0.75rem; grid-template-columns: repeat(auto-fill, minmax(min(100%, 7.5rem), 1fr)); }
.exp-grid figure { margin: 0; display: grid; gap: 0.25rem; }
.exp-grid canvas { width: 100%; max-width: 160px; }
.exp-grid figcaption { font-size: 0.9em; font-variant-numeric: tabular-nums; }
.exp-grid .student canvas { outline: 3px solid var(--dl-accent); outline-offset: 2px; }

/* compare */
.cmp-cols { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 15rem), 1fr)); }
.cmp-col { border: 1px solid var(--dl-border); border-radius: 10px; padding: 0.75rem; display: grid; gap: 0.5rem; align-content: start; min-width: 0; }
.cmp-col h3 { margin: 0; font-size: 1.05em; }
.cmp-col .big { width: min(192px, 100%); }
.cmp-col .strip canvas { width: 28px; }
.cmp-col dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0.1rem 0.6rem; font-variant-numeric: tabular-nums; }
.cmp-col dt { color: var(--dl-muted); }
.cmp-col dd { margin: 0; font-weight: 600; }
.summary { margin: 0; font-weight: 600; }

@media (max-width: 420px) {
  .lab { padding: 0.6rem; }
  form { grid-template-columns: minmax(0, 1fr); }
  .main { flex-basis: 100%; }
  .tabs [role="tab"] { padding: 0.3rem 0.5rem; }
}
@media (prefers-reduced-motion: reduce) {
  * { transition: none !important; animation: none !important; scroll-behavior: auto !important; }
}
`;

let sheet = null;

/** Gives `root` (a ShadowRoot) the element's styles. */
export function adoptStyles(root) {
  if ('adoptedStyleSheets' in Document.prototype && typeof CSSStyleSheet === 'function' && 'replaceSync' in CSSStyleSheet.prototype) {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];
    return;
  }
  // Older browsers (before constructable stylesheets): an ordinary <style> element.
  const style = document.createElement('style');
  style.textContent = CSS;
  root.prepend(style);
}
