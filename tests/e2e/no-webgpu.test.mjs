// (d) No WebGPU. The page says WebGPU is unavailable, uses the CPU path, and still generates.
// Two ways a browser lacks WebGPU:
//   1. no adapter: Chromium without the WebGPU flags and with the feature disabled. (Chromium 156
//      still defines navigator.gpu on http://127.0.0.1, but requestAdapter() gives null.)
//   2. no navigator.gpu at all (older or locked-down browsers): hidden in the page by an init
//      script and in the worker by a line put in front of worker.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS, WWW, useBrowser, newPage, openLab, runGenerate, labText, isHidden, screenshot,
  assertNoUnexpectedErrors, waitIdle,
} from './helpers.mjs';

const env = useBrowser({ webgpu: false });

/** What a (classic) worker of this page sees: {hasGpu, adapter}. */
function workerGpu(page) {
  return page.evaluate(() => new Promise((resolve) => {
    const src = `onmessage = async () => {
      const gpu = self.navigator && self.navigator.gpu;
      let adapter = null;
      try { adapter = gpu ? await gpu.requestAdapter() : null; } catch (e) { adapter = null; }
      postMessage({ hasGpu: Boolean(gpu), adapter: Boolean(adapter) });
    };`;
    const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    w.onmessage = (e) => {
      resolve(e.data);
      w.terminate();
    };
    w.postMessage(0);
  }));
}

async function expectCpuFallback(t, page, errors, slug) {
  await waitIdle(page);
  assert.equal(await labText(page, 'alert'), '');
  assert.equal(await isHidden(page, 'notice'), false, 'no CPU notice shown');
  const notice = await labText(page, 'notice');
  t.diagnostic(`notice: "${notice}"`);
  assert.match(notice, /WebGPU is not available/);
  assert.match(notice, /CPU/);
  assert.equal(await page.evaluate(() => document.querySelector('diffusion-lab').backend), 'cpu');

  const r = await runGenerate(page, { prompt: 'Hund', steps: 2, seed: 1 });
  await screenshot(page, `no-webgpu-${slug}`);
  assert.equal(r.outcome, 'done', `CPU generate failed: ${r.alert}`);
  assert.equal(r.done.detail.backend, 'cpu');
  assert.deepEqual(r.steps.map((s) => s.detail.index), [0, 1]);
  t.diagnostic(`cpu: ${r.done.detail.ms.toFixed(0)} ms for 2 steps`);

  // The German notice too.
  await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
  assert.match(await labText(page, 'notice'), /WebGPU ist hier nicht verfügbar/);
  assertNoUnexpectedErrors(errors);
}

test('no WebGPU adapter: falls back to the CPU and says so', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    const gpu = await workerGpu(page);
    t.diagnostic(`worker: navigator.gpu ${gpu.hasGpu ? 'present' : 'missing'}, adapter ${gpu.adapter ? 'present' : 'none'}`);
    assert.equal(gpu.adapter, false, 'the test browser still offers a WebGPU adapter to workers');
    await expectCpuFallback(t, page, errors, 'no-adapter');
  } finally {
    await context.close();
  }
});

test('no navigator.gpu at all: falls back to the CPU and says so', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    const hide = `for (const proto of [globalThis.Navigator, globalThis.WorkerNavigator].filter(Boolean).map((c) => c.prototype)) {
      Object.defineProperty(proto, 'gpu', { get: () => undefined, configurable: true });
    }\n`;
    await page.addInitScript(hide);
    const workerSource = readFileSync(path.join(WWW, 'worker.js'), 'utf8');
    await page.route('**/worker.js', (route) => route.fulfill({
      status: 200, contentType: 'text/javascript', body: hide + workerSource,
    }));
    await openLab(page, env.baseUrl);
    assert.equal(await page.evaluate(() => navigator.gpu), undefined);
    await expectCpuFallback(t, page, errors, 'no-navigator-gpu');
  } finally {
    await context.close();
  }
});
