// Absurd attribute values (steps="abc", seed="-5", mode="banana", model="x", guidance="1e9", ...)
// are ignored with a localized notice and the defaults hold; mode and model switch the element;
// every error code gets a localized lead sentence (plus the English detail), "cancelled" none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, runGenerate, labText, screenshot, assertNoUnexpectedErrors,
  waitIdle, waitReady, loadManifest,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });
const hasStudent = Boolean(loadManifest().student);

const fields = (page) => page.locator('diffusion-lab').evaluate((el) => {
  const root = el.shadowRoot;
  return {
    mode: el.mode,
    model: el.model,
    tab: root.querySelector('[role="tab"][aria-selected="true"]').id,
    steps: root.getElementById('steps').value,
    stepsMax: root.getElementById('steps').max,
    seed: root.getElementById('seed').value,
    guidance: root.getElementById('guidance').value,
    guidanceDisabled: root.getElementById('guidance').disabled,
    settings: root.getElementById('settings').hidden ? '' : root.getElementById('settings').textContent,
  };
});

test('absurd values in the embed URL: a notice in English and German, defaults, and it still generates', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    const query = 'lang=en&steps=abc&seed=-5&mode=banana&model=x&guidance=1e9&sampler=zzz&backend=gpu&prompt=Hund';
    await page.goto(new URL(`embed.html?${query}`, env.baseUrl).href);
    await page.waitForFunction(() => document.querySelector('diffusion-lab')?.getAttribute('lang') === 'en');
    await waitReady(page);
    let f = await fields(page);
    t.diagnostic(`notice: ${f.settings}`);
    for (const part of ['steps="abc"', 'seed="-5"', 'mode="banana"', 'model="x"', 'guidance="1e9"', 'sampler="zzz"', 'backend="gpu"']) {
      assert.ok(f.settings.includes(`The setting ${part} is ignored`), `no notice for ${part}`);
    }
    assert.match(f.settings, /mode="banana" is ignored: allowed are reverse, forward, compare, explore\. Using reverse instead\./);
    assert.match(f.settings, /seed="-5" is ignored: it must be a whole number from 0 to \d+\. Using 1 instead\./);
    assert.match(f.settings, /backend="gpu" is ignored: allowed are auto, webgpu, cpu\. Using auto instead\./);
    assert.equal(f.mode, 'reverse');
    assert.equal(f.tab, 'tab-reverse');
    assert.equal(f.seed, '1');
    assert.ok(/^\d+$/.test(f.steps) && Number(f.steps) >= 1 && Number(f.steps) <= Number(f.stepsMax), `steps ${f.steps}`);
    assert.ok(f.guidanceDisabled || f.guidance === '3', `guidance ${f.guidance}`);
    await screenshot(page, 'attributes-absurd-en');

    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    f = await fields(page);
    assert.match(f.settings, /Die Einstellung mode="banana" wird ignoriert: erlaubt sind reverse, forward, compare, explore\. Stattdessen gilt reverse\./);
    assert.match(f.settings, /steps="abc" wird ignoriert/);

    // It still works: load on the first click, one step.
    const mark = await page.evaluate(() => {
      const el = document.querySelector('diffusion-lab');
      window.__lab = { events: [] };
      for (const type of ['done', 'error']) el.addEventListener(type, (e) => window.__lab.events.push({ type, detail: e.detail }));
      return 0;
    });
    await page.locator('diffusion-lab #steps').fill('1');
    await page.locator('diffusion-lab #generate').click();
    await page.waitForFunction((m) => window.__lab.events.length > m, mark, { timeout: TIMEOUTS.generate });
    const end = await page.evaluate(() => window.__lab.events[0]);
    assert.equal(end.type, 'done', `generate failed: ${end.detail.message}`);
    assert.equal(end.detail.backend, 'cpu', 'backend="gpu" is not auto (the CPU path over SwiftShader)');
    // Once the model is loaded the notice still holds (steps was never valid).
    f = await fields(page);
    assert.match(f.settings, /model="x" wird ignoriert/);
    await screenshot(page, 'attributes-absurd-de');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('mode and model attributes switch the element; values that do not fit the model are refused', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const set = (name, value) => page.evaluate(([n, v]) => document.querySelector('diffusion-lab').setAttribute(n, v), [name, value]);
    await set('mode', 'compare');
    assert.equal((await fields(page)).tab, 'tab-compare');
    await set('mode', 'Reverse');
    assert.equal((await fields(page)).tab, 'tab-reverse');
    await set('model', 'teacher');
    let f = await fields(page);
    assert.deepEqual([f.model, f.stepsMax, f.guidanceDisabled], ['teacher', '100', false]);
    await set('steps', '3');
    assert.equal((await fields(page)).steps, '3');
    await set('steps', '1e3');
    f = await fields(page);
    assert.match(f.settings, /steps="1e3" is ignored: it must be a whole number from 1 to 100\. Using 8 instead\./);
    assert.equal(f.steps, '8');
    await set('steps', '2');
    await set('guidance', '4.5');
    f = await fields(page);
    assert.equal(f.settings, '', 'the notice stays after valid values');
    assert.equal(f.guidance, '4.5');
    await set('guidance', '-1');
    assert.match((await fields(page)).settings, /guidance="-1" is ignored: it must be a number from 0 to 20\. Using 3 instead\./);
    await page.evaluate(() => document.querySelector('diffusion-lab').removeAttribute('guidance'));
    if (!hasStudent) {
      await set('model', 'student');
      f = await fields(page);
      assert.equal(f.model, 'teacher');
      assert.match(f.settings, /model="student" is ignored: these model files contain no distilled student\. Using teacher instead\./);
    }
    const r = await runGenerate(page, { prompt: 'Apfel', steps: 1 });
    assert.equal(r.outcome, 'done', r.alert);
    assert.equal(r.done.detail.model, 'teacher');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('every error code has a localized explanation; "cancelled" is no error', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const show = (lang, kind, code, detail) => page.evaluate(async ([lang, kind, code, detail]) => {
      const { LabError } = await import(new URL('lab/client.js', location.href).href);
      const el = document.querySelector('diffusion-lab');
      el.setAttribute('lang', lang);
      const events = [];
      for (const type of ['error', 'cancel']) el.addEventListener(type, (e) => events.push({ type, ...e.detail }), { once: true });
      const err = el.fail(new LabError({ kind, code, detail }));
      const root = el.shadowRoot;
      return { alert: root.getElementById('alert').textContent, status: root.getElementById('status').textContent, events, code: err.code };
    }, [lang, kind, code, detail]);

    const cases = [
      ['en', 'generate', 'gpu', 'WebGPU: device lost', /^The connection to the graphics card \(GPU\) was lost \(“device lost”\)\. The next click loads the model again\. \(WebGPU: device lost\)$/],
      ['de', 'generate', 'gpu', 'WebGPU: device lost', /^Die Verbindung zur Grafikkarte \(GPU\) ist verloren gegangen \(„device lost“\)\. Beim nächsten Klick wird das Modell neu geladen\. \(WebGPU: device lost\)$/],
      ['en', 'generate', 'busy', 'the model is busy', /^The model is still busy with another job\. Wait a moment, then try again\. \(the model is busy\)$/],
      ['de', 'forward', 'busy', 'the model is busy', /^Das Modell ist noch mit einer anderen Aufgabe beschäftigt/],
      ['en', 'load', 'weights', 'sha256 mismatch', /^The model could not be loaded: its files are missing, incomplete or damaged\. \(sha256 mismatch\)$/],
      ['de', 'load', 'weights', 'sha256 mismatch', /^Das Modell konnte nicht geladen werden: Seine Dateien fehlen/],
      ['en', 'load', 'gpu', 'no adapter', /^The model could not be loaded: the graphics card \(WebGPU\) failed/],
      ['en', 'generate', 'input', 'invalid input: steps', /^The model did not accept this input\. \(invalid input: steps\)$/],
      ['en', 'forward', 'shape', 'shapes do not fit: conv2d', /^The parts of the model do not fit together \(a fault in the model, not in your browser\)\. The model stays loaded\. \(shapes do not fit: conv2d\)$/],
      ['de', 'generate', 'shape', 'shapes do not fit: conv2d', /^Die Teile des Modells passen nicht zusammen/],
      ['de', 'forward', 'other', 'boom', /^Das verrauschte Bild konnte nicht berechnet werden\. \(boom\)$/],
      ['en', 'generate', 'something-new', 'boom', /^The picture could not be generated\. \(boom\)$/],
    ];
    for (const [lang, kind, code, detail, expected] of cases) {
      const r = await show(lang, kind, code, detail);
      assert.match(r.alert, expected, `${lang} ${kind}/${code}: "${r.alert}"`);
      assert.equal(r.events[0]?.type, 'error');
      assert.equal(r.events[0].code, code);
      assert.equal(r.events[0].message, r.alert);
    }
    await screenshot(page, 'attributes-error-gpu');
    // The alert follows a language switch.
    await show('en', 'generate', 'gpu', 'WebGPU: device lost');
    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    assert.match(await labText(page, 'alert'), /^Die Verbindung zur Grafikkarte/);

    const c = await show('en', 'generate', 'cancelled', 'cancelled');
    assert.equal(c.code, 'cancelled');
    assert.deepEqual(c.events.map((e) => e.type), ['cancel']);
    assert.match(c.status, /^Cancelled before a step ran/); // no run had begun
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
