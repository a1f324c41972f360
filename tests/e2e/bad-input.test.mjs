// (b) Bad input: a clear message in the page's alert, and the next valid generate still works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, runGenerate, screenshot,
  assertNoUnexpectedErrors, waitIdle,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });

const VALID = { prompt: 'Apfel', steps: 2, seed: 7 };

async function expectValidWorks(page, label) {
  const ok = await runGenerate(page, VALID);
  assert.equal(ok.outcome, 'done', `after ${label}, a valid generate failed: ${ok.alert}`);
  assert.equal(ok.alert, '', `after ${label}, the alert was not cleared`);
  assert.deepEqual(ok.steps.map((s) => s.detail.index), [0, 1]);
}

test('the element rejects bad input with a message and stays usable', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const bad = [
      { label: 'an empty prompt', input: { prompt: '', steps: 8, seed: 1 }, message: /prompt/i },
      { label: 'a prompt of spaces', input: { prompt: '   ', steps: 8, seed: 1 }, message: /prompt/i },
      { label: 'a 10,000-character prompt', input: { prompt: 'Hund'.repeat(2500), steps: 8, seed: 1 }, message: /1000/ },
      { label: 'steps 0', input: { prompt: 'Hund', steps: 0, seed: 1 }, message: /steps/i },
      { label: 'steps 10000', input: { prompt: 'Hund', steps: 10000, seed: 1 }, message: /steps/i },
      { label: 'steps 2.5', input: { prompt: 'Hund', steps: 2.5, seed: 1 }, message: /steps/i },
      { label: 'seed -1', input: { prompt: 'Hund', steps: 2, seed: -1 }, message: /seed/i },
    ];
    for (const b of bad) {
      const r = await runGenerate(page, b.input);
      assert.equal(r.outcome, 'error', `${b.label} was accepted`);
      assert.match(r.alert, b.message, `${b.label}: alert says "${r.alert}"`);
      assert.equal(r.error.detail.message, r.alert);
      assert.equal(r.error.detail.kind, 'input');
      assert.equal(r.steps.length, 0, `${b.label}: steps ran`);
      assert.equal(await page.locator('diffusion-lab #generate').isEnabled(), true);
      t.diagnostic(`${b.label}: "${r.alert}"`);
      if (b.label === 'steps 0') await screenshot(page, 'bad-input-steps0');
      await expectValidWorks(page, b.label);
    }

    // generate() itself rejects with the same message.
    await page.locator('diffusion-lab #steps').fill('0');
    const rejected = await page.evaluate(() => document.querySelector('diffusion-lab').generate().then(() => 'resolved', (e) => e.message));
    assert.match(rejected, /steps/i);
    await page.locator('diffusion-lab #steps').fill('2');

    // Emoji and right-to-left text: accepted and generated (or, if the model refuses it, a clear
    // message), and in either case the next valid generate works.
    const odd = await runGenerate(page, { prompt: '🐶 كلب', steps: 2, seed: 1 });
    if (odd.outcome === 'done') {
      t.diagnostic('"🐶 كلب" was accepted and generated');
      assert.deepEqual(odd.steps.map((s) => s.detail.index), [0, 1]);
    } else {
      t.diagnostic(`"🐶 كلب" was refused: ${odd.alert}`);
      assert.ok(odd.alert.length > 10);
    }
    await screenshot(page, 'bad-input-unicode');
    await expectValidWorks(page, 'emoji/RTL text');

    // German messages too.
    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    const de = await runGenerate(page, { prompt: '', steps: 2, seed: 1 });
    assert.match(de.alert, /Bitte gib einen Prompt ein/);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('the worker and the Lab reject bad input themselves, and keep working', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser);
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    // Talk to a second worker directly, past the element's own checks, to test the Rust side.
    const results = await page.evaluate(async () => {
      const worker = new Worker(new URL('./worker.js', location.href), { type: 'module' });
      const manifest = new URL('./models/manifest.json', location.href).href;
      const call = (msg) => new Promise((resolve) => {
        const steps = [];
        const onMessage = (e) => {
          const m = e.data;
          if (m.type === 'step' && m.id === msg.id) steps.push(m.index);
          if ((m.type === 'done' || m.type === 'error' || m.type === 'ready' || m.type === 'forward') && (m.id === msg.id)) {
            worker.removeEventListener('message', onMessage);
            resolve({ type: m.type, message: m.message, backend: m.backend, steps });
          }
        };
        worker.addEventListener('message', onMessage);
        worker.postMessage(msg);
      });
      const out = {};
      out.beforeLoad = await call({ type: 'generate', id: 1, prompt: 'Hund', options: { steps: 1, seed: 1 } });
      out.load = await call({ type: 'load', id: 2, url: manifest, backend: 'webgpu' });
      const opts = { seed: 1 };
      out.empty = await call({ type: 'generate', id: 3, prompt: '', options: { ...opts, steps: 2 } });
      out.steps0 = await call({ type: 'generate', id: 4, prompt: 'Hund', options: { ...opts, steps: 0 } });
      out.steps101 = await call({ type: 'generate', id: 5, prompt: 'Hund', options: { ...opts, steps: 101 } });
      out.long = await call({ type: 'generate', id: 6, prompt: 'x'.repeat(1001), options: { ...opts, steps: 2 } });
      out.bogus = await call({ type: 'bogus', id: 7 });
      // options of the wrong type or value, straight to the Lab (issue: every bad input gets words)
      let id = 100;
      const gen = (options, prompt = 'Hund') => call({ type: 'generate', id: id++, prompt, options });
      const rgba = new Uint8ClampedArray(32 * 32 * 4);
      const fwd = (options, picture = rgba) => call({ type: 'forward', id: id++, rgba: picture, prompt: 'Hund', options });
      out.more = {
        stepsString: await gen({ steps: '4', seed: 1 }),
        seedNull: await gen({ steps: 1, seed: null }),
        guidanceNaN: await gen({ model: 'teacher', steps: 1, seed: 1, guidance: NaN }),
        guidanceInf: await gen({ model: 'teacher', steps: 1, seed: 1, guidance: Infinity }),
        guidanceNegInf: await gen({ model: 'teacher', steps: 1, seed: 1, guidance: -Infinity }),
        guidance1e309: await gen({ model: 'teacher', steps: 1, seed: 1, guidance: 1e309 }), // eslint-disable-line no-loss-of-precision -- overflows to Infinity on purpose
        seed2pow53: await gen({ steps: 1, seed: 2 ** 53 }),
        seed1e21: await gen({ steps: 1, seed: 1e21 }),
        promptNumber: await gen({ steps: 1, seed: 1 }, 42),
        promptObject: await gen({ steps: 1, seed: 1 }, { text: 'Hund' }),
        tMinus1: await fwd({ t: -1, seed: 1 }),
        t1000: await fwd({ t: 1000, seed: 1 }),
        tNaN: await fwd({ t: NaN, seed: 1 }),
        rgbaShort: await fwd({ t: 10, seed: 1 }, new Uint8ClampedArray(100)),
        rgbaNotArray: await fwd({ t: 10, seed: 1 }, 'pixels'),
      };
      out.tMissing = await fwd({ seed: 1 });
      out.valid = await call({ type: 'generate', id: 8, prompt: 'Hund', options: { ...opts, steps: 2 } });
      worker.terminate();
      return out;
    });
    for (const [k, v] of Object.entries(results)) t.diagnostic(`${k}: ${v.type} ${v.message ?? v.backend ?? ''}`);
    assert.equal(results.beforeLoad.type, 'error');
    assert.equal(results.load.type, 'ready');
    for (const k of ['empty', 'steps0', 'steps101', 'long', 'bogus']) {
      assert.equal(results[k].type, 'error', `${k} was accepted`);
      assert.ok(results[k].message && results[k].message.length > 5, `${k}: message "${results[k].message}"`);
      assert.doesNotMatch(results[k].message, /unreachable|RuntimeError|panicked/i, `${k}: not a readable message`);
      assert.deepEqual(results[k].steps, [], `${k}: steps ran`);
    }
    assert.match(results.steps0.message, /step/i);
    assert.match(results.steps101.message, /step/i);
    assert.match(results.empty.message, /prompt|empty/i);
    assert.match(results.long.message, /prompt|long|1000|char/i);
    for (const [k, v] of Object.entries(results.more)) {
      t.diagnostic(`${k}: ${v.type} ${v.message ?? ''}`);
      assert.equal(v.type, 'error', `${k} was accepted`);
      assert.doesNotMatch(v.message, /unreachable|RuntimeError|panicked|undefined/i, `${k}: ${v.message}`);
      assert.deepEqual(v.steps, [], `${k}: steps ran`);
    }
    assert.match(results.more.stepsString.message, /invalid type: string "4"/);
    assert.match(results.more.guidanceNaN.message, /guidance/);
    assert.match(results.more.seed1e21.message, /seed/);
    assert.match(results.more.promptObject.message, /prompt must be text/);
    assert.match(results.more.t1000.message, /\bt\b.*0 to 999/);
    assert.match(results.more.rgbaShort.message, /4096|32×32|32 x 32|pixels/i);
    // no t: the forward process at t = 0 (the picture itself), which is no error
    t.diagnostic(`forward without t: ${results.tMissing.type}`);
    assert.equal(results.valid.type, 'done', `valid generate after rejections failed: ${results.valid.message}`);
    assert.deepEqual(results.valid.steps, [0, 1]);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
