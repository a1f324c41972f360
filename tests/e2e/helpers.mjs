// Shared helpers for the browser end-to-end tests (node --test tests/e2e/).
//
// Chromium: Debian's /usr/bin/chromium driven by playwright-core (never `npx playwright install`).
// WebGPU runs on SwiftShader (a CPU emulation of a GPU), so everything is slow: timeouts are long.
//
// Environment:
//   DLAB_E2E_HEADED=1    show the browser window
//   DLAB_E2E_CHROMIUM    another Chromium binary (default /usr/bin/chromium)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WWW = path.join(REPO, 'www');
export const RESULTS = path.join(REPO, 'test-results');

/** Generous limits: SwiftShader and the wasm CPU path may take seconds per step. */
export const TIMEOUTS = {
  test: 20 * 60_000,
  load: 10 * 60_000,
  generate: 10 * 60_000,
  action: 10 * 60_000,
};

export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
export const NO_WEBGPU_ARGS = ['--disable-features=WebGPU'];

/** Fails early, with a clear message, when the page cannot work yet. */
export function checkBuilt() {
  const missing = [
    'www/pkg/diffusion_lab.js',
    'www/pkg/diffusion_lab_bg.wasm',
    'www/models/manifest.json',
  ].filter((p) => !existsSync(path.join(REPO, p)));
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: build the wasm (wasm-bindgen --target web into www/pkg) `
      + 'and the model files first (scripts/build.sh)');
  }
}

export async function launch({ webgpu = true } = {}) {
  return chromium.launch({
    executablePath: process.env.DLAB_E2E_CHROMIUM || '/usr/bin/chromium',
    headless: process.env.DLAB_E2E_HEADED !== '1',
    args: [...BASE_ARGS, ...(webgpu ? WEBGPU_ARGS : NO_WEBGPU_ARGS)],
  });
}

export async function startTestServer(options = {}) {
  return startServer({ port: 0, host: '127.0.0.1', root: 'www', ...options });
}

/**
 * One server and one browser for a test file: returns an object whose `browser` and `baseUrl`
 * are set before the first test and closed after the last.
 */
export function useBrowser({ webgpu, server = {} }) {
  const env = { browser: null, baseUrl: '', server: null };
  before(async () => {
    checkBuilt();
    ({ server: env.server, url: env.baseUrl } = await startTestServer(server));
    env.browser = await launch({ webgpu });
  });
  after(async () => {
    await env.browser?.close();
    env.server?.close();
  });
  return env;
}

/**
 * A course site on another origin than the widget: www/ on 127.0.0.1 with the widget's CSP, and
 * tests/e2e/course/ on localhost with the CSP a course site sends to embed it (frame-src for the
 * widget; with `widgetScripts`, script-src too, for embed-resize.js from the widget's origin).
 * Returns {widget, course, courseUrl, close()}.
 */
export async function startCourseSites({ widgetScripts = false } = {}) {
  const widget = await startServer({ port: 0, host: '127.0.0.1', root: 'www', csp: true });
  const widgetOrigin = new URL(widget.url).origin;
  const course = await startServer({
    port: 0,
    host: '127.0.0.1',
    root: 'tests/e2e/course',
    csp: `default-src 'self'; script-src 'self'${widgetScripts ? ` ${widgetOrigin}` : ''}; style-src 'self'; img-src 'self' data:; frame-src ${widgetOrigin}`,
  });
  return {
    widget,
    course,
    courseUrl: `http://localhost:${new URL(course.url).port}/`,
    close() {
      widget.server.close();
      course.server.close();
    },
  };
}

/** The manifest the page will see. */
export function loadManifest() {
  return JSON.parse(readFileSync(path.join(WWW, 'models/manifest.json'), 'utf8'));
}

/**
 * A new page with error collection. Returns {context, page, errors}.
 * `errors` collects uncaught page errors and console errors from the page and its workers.
 * Service workers are blocked unless `serviceWorkers: 'allow'`: requests a service worker makes
 * are invisible to page.route(), which most tests rely on (sw.js is tested in offline.test.mjs).
 */
export async function newPage(browser, {
  viewport = { width: 1000, height: 1200 }, locale = 'en-US', serviceWorkers = 'block', reducedMotion,
} = {}) {
  const context = await browser.newContext({ viewport, locale, serviceWorkers, reducedMotion, acceptDownloads: true });
  context.setDefaultTimeout(TIMEOUTS.action);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error${msg.worker?.() ? ' (worker)' : ''}: ${msg.text()}`);
  });
  page.on('worker', (worker) => {
    worker.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console.error (worker): ${msg.text()}`);
    });
  });
  return { context, page, errors };
}

/** Fails when `errors` holds anything that no pattern in `allowed` matches. */
export function assertNoUnexpectedErrors(errors, allowed = []) {
  const unexpected = [...new Set(errors)].filter((e) => !allowed.some((re) => re.test(e)));
  if (unexpected.length) throw new Error(`unexpected errors in the page:\n  ${unexpected.join('\n  ')}`);
}

/**
 * Opens the demo page and installs a recorder on <diffusion-lab> that keeps every step, done,
 * error, cancel, forward and compare event in window.__lab.events. Step (of the reverse panel) and
 * done records carry the main canvas's pixel statistics, read right when the event fires (the
 * element draws before it dispatches).
 */
/**
 * Asks the page's element for WebGPU (SwiftShader here): by default it takes the faster CPU path
 * over a software adapter, so a test that must run the GPU path says so before the first run.
 */
export async function askForWebgpu(page) {
  await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('backend', 'webgpu'));
}

/** Waits until the page's element knows the wasm's limits and has checked its attributes against them. */
export async function waitReady(page) {
  await page.waitForFunction(() => customElements.get('diffusion-lab') && document.querySelector('diffusion-lab')?.shadowRoot);
  await page.evaluate(() => document.querySelector('diffusion-lab').ready.catch(() => {}));
}

export async function openLab(page, baseUrl, pagePath = 'index.html') {
  await page.goto(new URL(pagePath, baseUrl).href);
  await page.waitForFunction(() => customElements.get('diffusion-lab') && document.querySelector('diffusion-lab')?.shadowRoot);
  await page.evaluate(() => {
    const el = document.querySelector('diffusion-lab');
    const canvasStats = () => {
      const c = el.shadowRoot.getElementById('xt');
      const { width: w, height: h } = c;
      const d = c.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, w, h).data;
      // Mean absolute difference of horizontally and vertically neighbouring pixels (RGB): high
      // for noise, low for a clean picture with flat areas.
      let sum = 0;
      let n = 0;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const i = (y * w + x) * 4;
          for (let ch = 0; ch < 3; ch++) {
            if (x + 1 < w) { sum += Math.abs(d[i + ch] - d[i + 4 + ch]); n++; }
            if (y + 1 < h) { sum += Math.abs(d[i + ch] - d[i + 4 * w + ch]); n++; }
          }
        }
      }
      let mean = 0;
      for (let i = 0; i < d.length; i += 4) mean += d[i] + d[i + 1] + d[i + 2];
      return { hf: sum / n, mean: mean / (w * h * 3), pixels: Array.from(d) };
    };
    window.__lab = { events: [] };
    for (const type of ['step', 'done', 'error', 'cancel', 'forward', 'compare']) {
      el.addEventListener(type, (event) => {
        const record = { type, detail: { ...event.detail }, at: performance.now() };
        if (type === 'done' || (type === 'step' && event.detail.panel !== 'compare')) Object.assign(record, canvasStats());
        window.__lab.events.push(record);
      });
    }
  });
  // the element checks its attributes once the wasm's limits are known (its worker answers them)
  await waitReady(page);
}

export function labText(page, id) {
  return page.evaluate((id) => document.querySelector('diffusion-lab').shadowRoot.getElementById(id).textContent, id);
}

export function isHidden(page, id) {
  return page.evaluate((id) => {
    const el = document.querySelector('diffusion-lab').shadowRoot.getElementById(id);
    return el.hidden || getComputedStyle(el).display === 'none';
  }, id);
}

/** Waits until the element is ready (the wasm's limits known) and idle (autoload finished, or failed), and the button can be pressed. */
export async function waitIdle(page, timeout = TIMEOUTS.load) {
  await page.waitForFunction(() => {
    const el = document.querySelector('diffusion-lab');
    return el && el.limits && !el.busy && !el.shadowRoot.getElementById('generate').disabled;
  }, null, { timeout, polling: 250 });
}

/**
 * Fills the form like a user, presses the button, and waits for the `done` or `error` event that
 * follows. Returns {outcome, done, error, steps, alert}; pixel arrays are dropped unless `keepPixels`.
 * `model` ("student" | "teacher") is picked in the model menu first.
 */
export async function runGenerate(page, { prompt, steps, seed, model }, { keepPixels = false, timeout = TIMEOUTS.generate } = {}) {
  await waitIdle(page);
  const mark = await page.evaluate(() => window.__lab.events.length);
  if (model !== undefined) await page.locator('diffusion-lab #model').selectOption(model);
  if (prompt !== undefined) await page.locator('diffusion-lab #prompt').fill(String(prompt));
  if (steps !== undefined) await page.locator('diffusion-lab #steps').fill(String(steps));
  if (seed !== undefined) await page.locator('diffusion-lab #seed').fill(String(seed));
  await page.locator('diffusion-lab #generate').click();
  await page.waitForFunction(
    (mark) => window.__lab.events.slice(mark).some((e) => e.type === 'done' || e.type === 'error'),
    mark,
    { timeout, polling: 200 },
  );
  const events = await page.evaluate((mark) => window.__lab.events.slice(mark), mark);
  if (!keepPixels) for (const e of events) delete e.pixels;
  const end = events.find((e) => e.type === 'done' || e.type === 'error');
  return {
    outcome: end.type,
    done: end.type === 'done' ? end : null,
    error: end.type === 'error' ? end : null,
    steps: events.filter((e) => e.type === 'step'),
    alert: await labText(page, 'alert'),
    events,
  };
}

export async function screenshot(page, name) {
  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const lab = page.locator('diffusion-lab');
  if (await lab.count()) await lab.screenshot({ path: path.join(RESULTS, `${name}-lab.png`) });
  return file;
}

export function writeResult(name, data) {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, name), JSON.stringify(data, null, 2));
}

/**
 * Waits for the first event of one of `types` after event number `mark`; returns it, its pixel
 * array dropped unless `keepPixels` (the recorded event keeps it).
 */
export async function waitEvent(page, mark, types, { keepPixels = false, timeout = TIMEOUTS.generate } = {}) {
  await page.waitForFunction(
    ({ mark, types }) => window.__lab.events.slice(mark).some((e) => types.includes(e.type)),
    { mark, types },
    { timeout, polling: 200 },
  );
  return page.evaluate(({ mark, types, keepPixels }) => {
    const { pixels, ...e } = window.__lab.events.slice(mark).find((x) => types.includes(x.type));
    return keepPixels ? { ...e, pixels } : e;
  }, { mark, types, keepPixels });
}

/** Mean absolute difference of two equally long pixel byte arrays (0–255). */
export const meanPixelDistance = (a, b) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

export function eventCount(page) {
  return page.evaluate(() => window.__lab.events.length);
}

const STAND_IN = 'stand-in-student.safetensors';

/**
 * The manifest, with a stand-in student where it has none: the teacher's weights under another
 * name (stand-in-student.safetensors), run as a student (few DDIM steps, one pass, no guidance).
 * Its pictures mean little, but the panels that need a student can be driven with it.
 */
export function manifestWithStudent() {
  const m = loadManifest();
  if (m.student) return m;
  const teacher = m.files.find((f) => f.name === m.denoiser.weights);
  m.student = { config: m.denoiser.config, weights: STAND_IN };
  m.files.push({ ...teacher, name: STAND_IN });
  return m;
}

/** Serves manifestWithStudent() (and the stand-in's weights) to `target`, a page or a context. */
export async function routeStudentManifest(target) {
  const m = loadManifest();
  if (m.student) return false;
  await target.route('**/models/manifest.json', (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify(manifestWithStudent()),
  }));
  const weights = readFileSync(path.join(WWW, 'models', m.denoiser.weights));
  await target.route(`**/models/${STAND_IN}`, (route) => route.fulfill({
    status: 200, contentType: 'application/octet-stream', body: weights,
  }));
  return true;
}

/** Serves the bundled manifest without its student (a model folder from before distillation). */
export async function routeManifestWithoutStudent(target) {
  const m = loadManifest();
  const studentFile = m.student?.weights;
  delete m.student;
  m.files = m.files.filter((f) => f.name !== studentFile);
  await target.route('**/models/manifest.json', (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify(m),
  }));
}

/** Width, height and the 8-byte signature check of a PNG file's bytes. */
export function pngInfo(buffer) {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return {
    isPng: signature.every((b, i) => buffer[i] === b) && buffer.toString('latin1', 12, 16) === 'IHDR',
    width: buffer.readUInt32BE(16),
    height: buffer.readUInt32BE(20),
  };
}
