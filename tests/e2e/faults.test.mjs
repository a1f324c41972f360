// Faults and cancel paths in the page: cancel before a run starts, during the model download,
// with runs queued, racing the last step; a forward job cancelled in the queue; a Lab that ignores
// the stop; a download that stalls; a model file longer than the manifest says; a 200 that is no
// manifest (a captive portal) with a cached one; misspelt or wrong-typed options straight to the
// worker; two elements on one worker when the GPU device is lost. After each: the next run works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, runGenerate, labText, assertNoUnexpectedErrors, waitIdle, screenshot,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });
const LOAD_404 = /Failed to load resource/;

/** Runs `fn(element)` in the page; returns what it returns. */
const inLab = (page, fn) => page.locator('diffusion-lab').first().evaluate(fn);

/** What a stand-in wasm module's Lab says it holds (`lab.models`): a teacher only. */
const FAKE_MODELS = JSON.stringify({
  default: 'teacher',
  teacher: { steps: 3, maxSteps: 100, passesPerStep: 2, guidance: 3, sampler: 'dpm', timesteps: [900, 600, 300] },
});
/** A stand-in module's `limits()`, which the element asks for before anything else. */
const FAKE_LIMITS = `export function limits() {
  return { stepsMin: 1, stepsMax: 100, promptMaxChars: 1000, seedMax: Number.MAX_SAFE_INTEGER, guidanceMin: 0, guidanceMax: 20,
    backends: ['auto', 'webgpu', 'cpu'], samplers: ['ddim', 'dpm'], models: ${FAKE_MODELS} };
}`;

test('cancel before a run starts, with runs queued, and racing the last step: each stops cleanly, the next run works', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    // generate(); cancel() at once: nothing runs
    const first = await inLab(page, async (el) => {
      const run = el.generate().then(() => ({ ok: true }), (e) => ({ ok: false, code: e.code }));
      el.cancel();
      return run;
    });
    assert.deepEqual(first, { ok: false, code: 'cancelled' });
    assert.equal(await page.evaluate(() => window.__lab.events.filter((e) => e.type === 'step').length), 0, 'no step ran');
    assert.match(await labText(page, 'status'), /^Cancelled before a step ran\./);
    assert.equal(await labText(page, 'alert'), '');

    // two runs queued behind each other, then cancel at the first step: both end "cancelled", the
    // running one stops at once (at most the step under way still arrives), the queued one never starts
    const queued = await inLab(page, async (el) => {
      const settle = (p) => p.then(() => 'done', (e) => e.code);
      el.setAttribute('model', 'teacher');
      el.setAttribute('steps', '8');
      const a = settle(el.generate());
      const b = settle(el.generate());
      await new Promise((r) => el.addEventListener('step', r, { once: true }));
      let later = 0;
      el.addEventListener('step', () => { later++; });
      el.cancel();
      const out = [await a, await b, el.cancellable, el.busy];
      el.removeAttribute('model');
      el.removeAttribute('steps');
      return { out, later };
    });
    assert.deepEqual(queued.out, ['cancelled', 'cancelled', false, false]);
    assert.ok(queued.later <= 1, `${queued.later} steps arrived after the cancel`);

    // cancel as the last step arrives: done or cancelled, never stuck; the run after it is not cancelled
    const race = await inLab(page, async (el) => {
      el.addEventListener('step', (e) => { if (e.detail.index === e.detail.total - 1) el.cancel(); }, { once: false });
      const r = await el.generate().then(() => 'done', (e) => e.code);
      return r;
    });
    assert.ok(['done', 'cancelled'].includes(race), race);
    await openLab(page, env.baseUrl);
    const after = await runGenerate(page, { prompt: 'Hund', seed: 2 });
    assert.equal(after.outcome, 'done', after.alert);
    const late = await inLab(page, async (el) => {
      await el.generate();
      el.cancel(); // nothing is running: must not reach the next run
      return el.generate().then(() => 'done', (e) => e.code);
    });
    assert.equal(late, 'done');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('100 generate/cancel pairs in a row end in a usable element with no job left behind', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const loop = await inLab(page, async (el) => {
      const codes = [];
      for (let i = 0; i < 100; i++) {
        const run = el.generate().then(() => 'done', (e) => e.code);
        if (i % 2) await new Promise((r) => setTimeout(r, 0)); // now and then, let the run start first
        el.cancel();
        codes.push(await run);
      }
      const client = el.loading.client();
      return { codes: [...new Set(codes)], pending: client.pending.size, cancellable: el.cancellable, busy: el.busy };
    });
    assert.deepEqual(loop, { codes: ['cancelled'], pending: 0, cancellable: false, busy: false });
    const after = await runGenerate(page, { prompt: 'Hund', seed: 4 });
    assert.equal(after.outcome, 'done', after.alert);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('cancel during the model download ends it; the next click loads and draws (German)', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    let hold = true;
    await page.route('**/models/text_encoder.safetensors', async (route) => {
      if (hold) return; // never answered: the download hangs
      await route.continue();
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=de&prompt=Hund');
    await page.locator('diffusion-lab #generate').click();
    await page.waitForFunction(() => !document.querySelector('diffusion-lab').shadowRoot.getElementById('cancel').disabled, null, { timeout: 60_000 });
    assert.equal(await page.locator('diffusion-lab #progress').isVisible(), true);
    await page.locator('diffusion-lab #cancel').click();
    await page.waitForFunction(() => !document.querySelector('diffusion-lab').busy, null, { timeout: 60_000 });
    assert.match(await labText(page, 'status'), /^Abgebrochen, bevor ein Schritt lief\./);
    assert.equal(await labText(page, 'alert'), '');
    assert.equal(await page.locator('diffusion-lab #cancel').isDisabled(), true);
    await screenshot(page, 'fault-cancel-download');
    hold = false;
    const again = await runGenerate(page, { prompt: 'Hund', seed: 1 });
    assert.equal(again.outcome, 'done', again.alert);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('a download that stalls fails with words after LabClient.stallMs; the next click works', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    let hold = true;
    await page.route('**/models/student.safetensors', async (route) => {
      if (!hold) await route.continue();
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=en');
    await page.evaluate(async () => { (await import('./lab/client.js')).LabClient.stallMs = 1500; });
    const stuck = await runGenerate(page, { prompt: 'Hund' });
    assert.equal(stuck.outcome, 'error');
    assert.equal(stuck.error.detail.code, 'stalled');
    assert.match(stuck.alert, /^The download of the model files is stuck: nothing arrived for 2 seconds\. Check the connection and try again\./);
    hold = false;
    const again = await runGenerate(page, { prompt: 'Hund' });
    assert.equal(again.outcome, 'done', again.alert);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('a model file longer than the manifest says is cut off with words, not buffered', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await page.route('**/models/student.safetensors', async (route) => {
      const res = await route.fetch();
      const body = Buffer.concat([await res.body(), Buffer.alloc(4 << 20)]);
      await route.fulfill({ status: 200, contentType: 'application/octet-stream', body });
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=en');
    const res = await runGenerate(page, { prompt: 'Hund' });
    assert.equal(res.outcome, 'error');
    assert.equal(res.error.detail.code, 'weights');
    assert.match(res.alert, /student\.safetensors is larger than the 2020726 bytes the manifest gives for it/);
    await page.unroute('**/models/student.safetensors');
    const again = await runGenerate(page, { prompt: 'Hund' });
    assert.equal(again.outcome, 'done', again.alert);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('a 200 that is no manifest (a captive portal) falls back to the cached manifest', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl, 'embed.html?lang=en');
    assert.equal((await runGenerate(page, { prompt: 'Hund', seed: 3 })).outcome, 'done');
    const second = await context.newPage();
    await second.route('**/models/manifest.json', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>Wi-Fi login</title><p>Please log in</p>' }));
    await openLab(second, env.baseUrl, 'embed.html?lang=en');
    const res = await runGenerate(second, { prompt: 'Hund', seed: 3 });
    assert.equal(res.outcome, 'done', res.alert);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('options straight to the worker: misspelt keys and wrong types are refused with words, the next job works', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const results = await inLab(page, async (el) => {
      const client = el.loading.client();
      await client.load();
      const run = (options, op = 'generate') => client.start(op, op === 'generate' ? { prompt: 'Hund', options } : { rgba: new Uint8ClampedArray(32 * 32 * 4), prompt: 'Hund', options }).promise
        .then(() => 'ok', (e) => `${e.code}: ${e.detail}`);
      return {
        misspelt: await run({ stpes: 50 }),
        string: await run('steps=4'),
        number: await run(4),
        array: await run([4]),
        stringSteps: await run({ steps: '4' }),
        forwardExtra: await run({ t: 10, seed: 1, noise: 2 }, 'forward'),
        fine: await run({ steps: 1, seed: 1 }),
      };
    });
    assert.match(results.misspelt, /^input: invalid input: options: unknown option "stpes" \(known: model, steps, seed, guidance, sampler, blendPrompt, blend\)/);
    assert.match(results.string, /^input: invalid input: options must be an object such as \{ model: … \}, got a string/);
    assert.match(results.number, /got a number/);
    assert.match(results.array, /got an array/);
    assert.match(results.stringSteps, /^input: invalid input: options: invalid type: string "4"/);
    assert.match(results.forwardExtra, /unknown option "noise" \(known: t, seed\)/);
    assert.equal(results.fine, 'ok');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('two elements on one worker: the GPU device is lost, one run fails with "gpu", the other loads the model again and draws', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    // WebGPU on SwiftShader for both (the default takes the CPU path there: no device to lose)
    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('backend', 'webgpu'));
    assert.equal((await runGenerate(page, { prompt: 'Hund', steps: 1 })).outcome, 'done');
    const result = await page.evaluate(async () => {
      const a = document.querySelector('diffusion-lab');
      const b = document.createElement('diffusion-lab');
      b.setAttribute('backend', 'webgpu');
      b.setAttribute('prompt', 'Katze');
      b.setAttribute('steps', '1');
      a.after(b);
      await b.generate(); // same manifest: same client, same worker
      const same = a.loading.client() === b.loading.client();
      await a.loading.client().loseGpuDeviceForTest();
      const settle = (p) => p.then((d) => `done ${d.backend}`, (e) => e.code);
      const [ra, rb] = await Promise.all([settle(a.generate()), settle(b.generate())]);
      return { same, ra, rb };
    });
    assert.deepEqual(result, { same: true, ra: 'gpu', rb: 'done webgpu' });
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('a forward job cancelled while it waits, and a Lab that ignores the stop: both end "cancelled"', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const forward = await inLab(page, async (el) => {
      const client = el.loading.client();
      await client.load();
      const gen = client.start('generate', { prompt: 'Hund', options: { model: 'teacher', steps: 4 } });
      const fwd = client.start('forward', { rgba: new Uint8ClampedArray(32 * 32 * 4), prompt: 'Hund', options: { t: 500, seed: 1 } });
      fwd.cancel();
      const settle = (p) => p.then(() => 'done', (e) => e.code);
      return [await settle(gen.promise), await settle(fwd.promise)];
    });
    assert.deepEqual(forward, ['done', 'cancelled']);
    await context.close();

    // A stand-in for the wasm module whose generate() calls every step and ignores `false`.
    const fake = await newPage(env.browser, { locale: 'en-US' });
    await fake.page.route('**/pkg/diffusion_lab.js', (route) => route.fulfill({
      contentType: 'text/javascript',
      body: `export default async function init() {}
        ${FAKE_LIMITS}
        export class Lab {
          static async load() { return new Lab(); }
          get backend() { return 'cpu'; }
          get models() { return ${FAKE_MODELS}; }
          async generate(prompt, options, onStep) {
            for (let i = 0; i < 3; i++) {
              onStep({ index: i, total: 3, t: 900 - 300 * i, ms: 1, width: 32, height: 32, x_next: new Uint8ClampedArray(4096), eps: new Uint8ClampedArray(4096), x0: new Uint8ClampedArray(4096) });
              await new Promise((r) => setTimeout(r, 200));
            }
            return { image: new Uint8ClampedArray(4096), steps: 3, ms: 3, model: 'teacher', passes: 6, width: 32, height: 32 };
          }
        }`,
    }));
    await openLab(fake.page, env.baseUrl);
    const ignored = await inLab(fake.page, async (el) => {
      const run = el.generate().then(() => 'done', (e) => e.code);
      await new Promise((r) => el.addEventListener('step', r, { once: true }));
      el.cancel();
      return run;
    });
    assert.equal(ignored, 'cancelled');
    assertNoUnexpectedErrors(fake.errors);
    await fake.context.close();
    assertNoUnexpectedErrors(errors.filter((e) => !LOAD_404.test(e)));
  } finally {
    await context.close().catch(() => {});
  }
});

test('a worker ended from outside, and a wasm trap in the middle of a run: words, and the next run works', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    // the first worker gets a stand-in module whose generate traps after one step; later workers the real one
    let served = 0;
    await page.route('**/pkg/diffusion_lab.js', async (route) => {
      if (served++ > 0) return route.continue();
      const real = await (await route.fetch()).text();
      await route.fulfill({
        contentType: 'text/javascript',
        body: `${real}
          const realGenerate = Lab.prototype.generate;
          Lab.prototype.generate = async function (prompt, options, onStep) {
            onStep({ index: 0, total: 2, t: 999, ms: 1, width: 32, height: 32, x_next: new Uint8ClampedArray(4096), eps: new Uint8ClampedArray(4096), x0: new Uint8ClampedArray(4096) });
            throw new WebAssembly.RuntimeError('unreachable executed');
          };`,
      });
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=en&prompt=Hund&steps=2');
    const trapped = await runGenerate(page, {});
    assert.equal(trapped.outcome, 'error');
    assert.match(trapped.alert, /unreachable executed/);
    const after = await runGenerate(page, {});
    assert.equal(after.outcome, 'done', `after the trap: ${after.alert}`);

    // the worker ended from outside: its jobs get no answer; after jobSilenceMs they fail, the next run works
    const gone = await inLab(page, async (el) => {
      (await import('./lab/client.js')).LabClient.jobSilenceMs = 1500;
      el.loading.client().worker.terminate();
      return el.generate().then(() => 'done', (e) => `${e.code}: ${e.message}`);
    });
    assert.match(gone, /^other: The model stopped answering: nothing came for 2 seconds\./);
    // the default again: a new worker's first step (shaders compiled) may take longer than the test's 1.5 s
    await page.evaluate(async () => { (await import('./lab/client.js')).LabClient.jobSilenceMs = 60_000; });
    const again = await runGenerate(page, {});
    assert.equal(again.outcome, 'done', again.alert);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('model-url: not a URL, a data: URL, another origin: each gets words and nothing hangs', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl, 'embed.html?lang=en&prompt=Hund&steps=1');
    const results = {};
    for (const url of ['http://[::1', 'data:application/json,{"files":[]}', 'https://models.example.invalid/manifest.json']) {
      results[url] = await page.locator('diffusion-lab').evaluate((el, url) => {
        el.setAttribute('model-url', url);
        return el.generate().then(() => 'done', (e) => `${e.kind}/${e.code}: ${e.message}`);
      }, url);
      t.diagnostic(`${url} → ${results[url]}`);
      assert.doesNotMatch(results[url], /undefined|\[object/);
      if (url === 'http://[::1') {
        // not a URL: a notice, and the default model
        assert.equal(results[url], 'done');
        assert.match(await page.locator('diffusion-lab #settings').textContent(), /model-url="http:\/\/\[::1" is ignored: it is not a valid address \(URL\)\. Using http:\/\/127\.0\.0\.1:\d+\/models\/manifest\.json instead\./);
      }
    }
    assert.match(results['data:application/json,{"files":[]}'], /^load\/weights: /);
    assert.match(results['https://models.example.invalid/manifest.json'], /^load\//);
    // back to the real model: it works
    await page.locator('diffusion-lab').evaluate((el) => el.removeAttribute('model-url'));
    const ok = await runGenerate(page, {});
    assert.equal(ok.outcome, 'done', ok.alert);
    assertNoUnexpectedErrors(errors, [/Failed to load resource|ERR_NAME_NOT_RESOLVED|net::/]);
  } finally {
    await context.close();
  }
});

test('the GPU device lost while the model loads: words, and the next click loads it again and draws', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    // the first worker's first GPU device is destroyed right after it is made, in the middle of the load
    let served = 0;
    await page.route('**/worker.js', async (route) => {
      if (served++ > 0) return route.continue();
      const real = await (await route.fetch()).text();
      await route.fulfill({
        contentType: 'text/javascript',
        body: `const requestDevice = GPUAdapter.prototype.requestDevice;
          let lostOnce = false;
          GPUAdapter.prototype.requestDevice = async function (...args) {
            const device = await requestDevice.apply(this, args);
            if (!lostOnce) { lostOnce = true; setTimeout(() => device.destroy(), 0); }
            return device;
          };
          ${real}`,
      });
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=en&prompt=Hund&steps=1&backend=webgpu');
    const lost = await runGenerate(page, {});
    t.diagnostic(`${lost.outcome}: ${lost.alert}`);
    assert.equal(lost.outcome, 'error');
    assert.equal(lost.error.detail.code, 'gpu');
    assert.match(lost.alert, /^The connection to the graphics card \(GPU\) was lost \(“device lost”\)\. The next click loads the model again\./);
    const again = await runGenerate(page, {});
    assert.equal(again.outcome, 'done', `the next click: ${again.alert}`);
    assert.equal(again.done.detail.backend, 'webgpu');
    assertNoUnexpectedErrors(errors, [/device|destroyed|GPU/i]);
  } finally {
    await context.close();
  }
});

test('a shape error keeps the loaded model; only a GPU failure drops it', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    // A stand-in module: the prompt says which error generate() throws; `ms` reports how often
    // the worker has loaded a Lab, so the page sees whether the model was dropped.
    await page.route('**/pkg/diffusion_lab.js', (route) => route.fulfill({
      contentType: 'text/javascript',
      body: `let loads = 0;
        const coded = (message, code) => Object.assign(new Error(message), { code });
        export default async function init() {}
        ${FAKE_LIMITS}
        export class Lab {
          static async load() { loads++; return new Lab(); }
          get backend() { return 'cpu'; }
          get models() { return ${FAKE_MODELS}; }
          async generate(prompt) {
            if (prompt === 'shape') throw coded('shapes do not fit: conv2d \`down.0\`: 3 channels, expected 4', 'shape');
            if (prompt === 'gpu') throw coded('WebGPU: the GPU device was lost (Destroyed); reload the model to continue', 'gpu');
            return { image: new Uint8ClampedArray(4096), steps: 1, ms: loads, model: 'teacher', passes: 2, width: 32, height: 32 };
          }
        }`,
    }));
    await openLab(page, env.baseUrl);
    const outcomes = await inLab(page, async (el) => {
      const out = [];
      for (const prompt of ['ok', 'shape', 'ok', 'gpu', 'ok']) {
        el.setAttribute('prompt', prompt);
        out.push(await el.generate().then((d) => `done, ${d.ms} load(s)`, (e) => e.code));
      }
      return out;
    });
    assert.deepEqual(outcomes, ['done, 1 load(s)', 'shape', 'done, 1 load(s)', 'gpu', 'done, 2 load(s)']);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('a WebAssembly module that does not come: words as the page opens, nothing else changes, and the next click asks again and draws', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    // the element asks its worker for the wasm's limits as it is put on the page: that is where it fails
    let refuse = true;
    await page.route('**/pkg/diffusion_lab.js', (route) => (refuse ? route.fulfill({ status: 404, body: 'gone' }) : route.continue()));
    await page.goto(new URL('embed.html?lang=en&prompt=Hund&steps=1', env.baseUrl).href);
    await page.waitForFunction(() => document.querySelector('diffusion-lab')?.shadowRoot.getElementById('alert').textContent !== '');
    const first = await inLab(page, (el) => ({
      alert: el.shadowRoot.getElementById('alert').textContent,
      limits: el.limits,
      button: el.shadowRoot.getElementById('generate').disabled,
      prompt: el.shadowRoot.getElementById('prompt').value,
    }));
    assert.match(first.alert, /^The model could not be loaded\. .*could not load the WebAssembly module/);
    assert.equal(first.limits, null);
    assert.equal(first.button, false, 'the button stays usable');
    assert.equal(first.prompt, 'Hund');
    const failed = await inLab(page, (el) => el.generate().then(() => 'done', (e) => `${e.kind}: ${e.message}`));
    assert.match(failed, /^load: The model could not be loaded\. .*WebAssembly/);

    refuse = false;
    const drawn = await inLab(page, (el) => el.generate().then((d) => ({ steps: d.steps, limits: Boolean(el.limits) }), (e) => e.message));
    assert.deepEqual(drawn, { steps: 1, limits: true });
    assertNoUnexpectedErrors(errors, [LOAD_404]);
  } finally {
    await context.close();
  }
});

test('the element checks with the limits the wasm exports, not a copy of its own', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    // the real module, with limits() narrowed: the form, its notices and its checks follow them
    await page.route('**/pkg/diffusion_lab.js', async (route) => {
      const real = await (await route.fetch()).text();
      await route.fulfill({
        contentType: 'text/javascript',
        body: real.replace(/export function limits\(\)/, 'function realLimits()') + `
          export function limits() {
            const l = realLimits();
            return { ...l, promptMaxChars: 5, stepsMax: 6, guidanceMax: 7, models: { ...l.models, teacher: { ...l.models.teacher, maxSteps: 6 } } };
          }`,
      });
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=en&model=teacher&guidance=9');
    const form = await inLab(page, (el) => ({
      stepsMax: el.shadowRoot.getElementById('steps').max,
      guidanceMax: el.shadowRoot.getElementById('guidance').max,
      notes: el.shadowRoot.getElementById('settings').textContent,
    }));
    assert.equal(form.stepsMax, '6');
    assert.equal(form.guidanceMax, '7');
    assert.match(form.notes, /guidance="9" is ignored: .*0 to 7/);
    const refused = await inLab(page, async (el) => {
      el.setAttribute('prompt', 'a dog in the park');
      return el.generate().then(() => 'done', (e) => e.message);
    });
    assert.equal(refused, 'The prompt is too long: 17 characters. At most 5 are allowed.');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
