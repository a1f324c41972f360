// The forward-process panel: a data-set example (or the last generated picture) with noise of
// level t, the true noise beside the model's estimate, the reconstruction and the noise error; the
// slider is debounced (one request at a time, the latest value wins); the tabs by keyboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS, WWW, useBrowser, newPage, openLab, runGenerate, labText, screenshot, assertNoUnexpectedErrors,
  waitIdle, waitEvent, eventCount,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });
const examplesFile = path.join(WWW, 'examples/examples.json');
const EXAMPLES = existsSync(examplesFile) ? JSON.parse(readFileSync(examplesFile, 'utf8')) : [];

const shadow = (page, fn, arg) => page.locator('diffusion-lab').evaluate(fn, arg);

/**
 * What each forward canvas shows: every pixel opaque (`opaque`), its spread (`std`, 0-255), how
 * noisy it is (`hf`: mean difference of neighbouring pixels) and its RGB values.
 */
const canvases = (page) => shadow(page, ({ shadowRoot: root }) => Object.fromEntries(
  ['fwd-x0', 'fwd-xt', 'fwd-noise', 'fwd-epshat', 'fwd-x0hat'].map((id) => {
    const c = root.getElementById(id);
    const { width: w, height: h } = c;
    const d = c.getContext('2d').getImageData(0, 0, w, h).data;
    const rgb = [];
    let opaque = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] === 255) opaque++;
      rgb.push(d[i], d[i + 1], d[i + 2]);
    }
    const mean = rgb.reduce((a, b) => a + b, 0) / rgb.length;
    const std = Math.sqrt(rgb.reduce((a, b) => a + (b - mean) ** 2, 0) / rgb.length);
    let hf = 0;
    for (let y = 0; y < h; y++) for (let x = 0; x + 1 < w; x++) for (let ch = 0; ch < 3; ch++) {
      hf += Math.abs(rgb[(y * w + x) * 3 + ch] - rgb[(y * w + x + 1) * 3 + ch]);
    }
    return [id, { opaque, std, hf: hf / (h * (w - 1) * 3), rgb }];
  }),
));
const distance = (a, b) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

/** Sets the t slider like a very fast hand: `values` one after the other, in one go. */
const slide = (page, values) => shadow(page, ({ shadowRoot: root }, values) => {
  const input = root.getElementById('fwd-t');
  for (const v of values) {
    input.value = String(v);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }
}, values);

/** Waits for a `forward` event after `mark` whose t is `t`; returns it. */
async function forwardAt(page, mark, t) {
  await page.waitForFunction(({ mark, t }) => window.__lab.events.slice(mark).some((e) => (e.type === 'forward' && e.detail.t === t) || e.type === 'error'),
    { mark, t }, { timeout: TIMEOUTS.generate, polling: 100 });
  const e = await page.evaluate(({ mark, t }) => window.__lab.events.slice(mark).find((x) => (x.type === 'forward' && x.detail.t === t) || x.type === 'error'), { mark, t });
  assert.equal(e.type, 'forward', `forward failed: ${e.detail.message}`);
  return e;
}

test('forward process on an example: noise levels, the estimate, the error; debounced slider (English)', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    let mark = await eventCount(page);
    await page.getByRole('tab', { name: 'Add noise (forward)' }).click();
    assert.equal(await page.locator('diffusion-lab #panel-forward').isVisible(), true);
    assert.equal(await page.locator('diffusion-lab #panel-reverse').isVisible(), false);

    if (EXAMPLES.length === 0) {
      // No data-set examples shipped: the panel says to generate a picture first.
      assert.match(await labText(page, 'fwd-nosource'), /no example pictures/);
      t.diagnostic('www/examples/examples.json is missing: only the generated picture is tested');
    } else {
      const first = await forwardAt(page, mark, 500);
      const sel = await shadow(page, ({ shadowRoot: root }) => ({
        options: [...root.getElementById('fwd-source').options].map((o) => [o.value, o.textContent, o.disabled]),
        value: root.getElementById('fwd-source').value,
        prompt: root.getElementById('fwd-prompt').value,
      }));
      assert.equal(sel.options.length, EXAMPLES.length + 1);
      assert.deepEqual(sel.options[0], ['last', 'The last picture you generated (none yet)', true]);
      assert.equal(sel.options[1][1], `Example: ${EXAMPLES[0].en}`);
      assert.equal(sel.value, 'ex:0');
      assert.equal(sel.prompt, EXAMPLES[0].en);
      const d = first.detail;
      t.diagnostic(`t=500: alphaBar ${d.alphaBar.toFixed(3)}, noise error ${d.noiseError.toFixed(4)}`);
      assert.ok(d.alphaBar > 0.05 && d.alphaBar < 0.95, `alphaBar ${d.alphaBar} at t=500`);
      assert.ok(Number.isFinite(d.noiseError) && d.noiseError >= 0);
      // what the canvases show, not only that they are painted
      const c = await canvases(page);
      for (const [id, v] of Object.entries(c)) {
        assert.equal(v.opaque, 32 * 32, `${id} is not drawn`);
        assert.ok(v.std > 5, `${id} is flat (spread ${v.std.toFixed(1)})`);
      }
      t.diagnostic(`hf: x0 ${c['fwd-x0'].hf.toFixed(1)}, xt ${c['fwd-xt'].hf.toFixed(1)}, noise ${c['fwd-noise'].hf.toFixed(1)}; `
        + `distance to x0: xt ${distance(c['fwd-xt'].rgb, c['fwd-x0'].rgb).toFixed(1)}, x0hat ${distance(c['fwd-x0hat'].rgb, c['fwd-x0'].rgb).toFixed(1)}`);
      assert.ok(c['fwd-xt'].hf > c['fwd-x0'].hf + 5, 'the noisy picture is no noisier than the picture');
      assert.ok(c['fwd-noise'].hf > c['fwd-x0'].hf + 20, 'the noise canvas does not show noise');
      assert.ok(distance(c['fwd-x0hat'].rgb, c['fwd-x0'].rgb) < distance(c['fwd-xt'].rgb, c['fwd-x0'].rgb),
        "the model's estimate of the picture is no closer to it than the noisy picture");
      assert.ok(distance(c['fwd-epshat'].rgb, c['fwd-noise'].rgb) < distance(c['fwd-x0'].rgb, c['fwd-noise'].rgb),
        "the model's estimate of the noise is no closer to the noise than the picture is");
      assert.equal(await labText(page, 'fwd-error-out'), d.noiseError.toFixed(3));
      assert.match(await labText(page, 'fwd-mix'), /^t = 500: the noisy picture is \d+ % picture and \d+ % noise/);
      assert.equal(await page.locator('diffusion-lab #fwd-xt').getAttribute('aria-label'), 'The picture with noise of level t = 500');
      await screenshot(page, 'forward-example-en');

      // The slider by keyboard: End = nothing but noise, Home = almost none.
      mark = await eventCount(page);
      await page.locator('diffusion-lab #fwd-t').focus();
      await page.keyboard.press('End');
      const end = await forwardAt(page, mark, 999);
      await page.keyboard.press('Home');
      const start = await forwardAt(page, mark, 0);
      t.diagnostic(`alphaBar: t=0 ${start.detail.alphaBar.toFixed(4)}, t=999 ${end.detail.alphaBar.toFixed(6)}; `
        + `noise error: t=0 ${start.detail.noiseError.toFixed(3)}, t=999 ${end.detail.noiseError.toFixed(3)}`);
      assert.ok(start.detail.alphaBar > 0.99, 'at t=0 the picture should be almost untouched');
      assert.ok(end.detail.alphaBar < 0.01, 'at t=999 the picture should be almost gone');
      assert.equal(await page.locator('diffusion-lab #fwd-t').getAttribute('aria-valuetext'), 't = 0 of 999');

      // A fast slide: nine values at once give fewer requests, and the last value wins.
      mark = await eventCount(page);
      await slide(page, [100, 200, 300, 400, 500, 600, 700, 800, 900]);
      await forwardAt(page, mark, 900);
      await page.waitForTimeout(1000);
      const ts = await page.evaluate((m) => window.__lab.events.slice(m).filter((e) => e.type === 'forward').map((e) => e.detail.t), mark);
      t.diagnostic(`slide 100..900 computed t = ${ts.join(', ')}`);
      assert.ok(ts.length < 9, 'every intermediate value was computed');
      assert.equal(ts.at(-1), 900, 'the last value did not win');

      // Another example: its name becomes the prompt; an empty prompt is allowed.
      mark = await eventCount(page);
      await page.locator('diffusion-lab #fwd-source').selectOption('ex:3');
      await forwardAt(page, mark, 900);
      assert.equal(await page.locator('diffusion-lab #fwd-prompt').inputValue(), EXAMPLES[3].en);
      mark = await eventCount(page);
      await page.locator('diffusion-lab #fwd-prompt').fill('');
      const bare = await forwardAt(page, mark, 900);
      assert.equal(bare.detail.prompt, '');
    }

    // The last generated picture.
    await page.getByRole('tab', { name: 'Generate (reverse)' }).click();
    const gen = await runGenerate(page, { prompt: 'frog', steps: 1, seed: 3 });
    assert.equal(gen.outcome, 'done', gen.alert);
    await page.getByRole('tab', { name: 'Add noise (forward)' }).click();
    mark = await eventCount(page);
    await page.locator('diffusion-lab #fwd-source').selectOption('last');
    const fromLast = await waitEvent(page, mark, ['forward', 'error']);
    assert.equal(fromLast.type, 'forward');
    const same = await shadow(page, ({ shadowRoot: root }) => {
      const read = (id) => root.getElementById(id).getContext('2d').getImageData(0, 0, 32, 32).data.join();
      return read('fwd-x0') === read('xt');
    });
    assert.ok(same, 'the forward panel does not show the generated picture');
    assert.equal(await labText(page, 'alert'), '');
    await screenshot(page, 'forward-last-en');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('tabs by keyboard, and the forward panel in German and after a language switch', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const state = () => shadow(page, ({ shadowRoot: root }) => ({
      selected: root.querySelector('[role="tab"][aria-selected="true"]').id,
      focused: root.activeElement?.id ?? null,
      visible: [...root.querySelectorAll('[role="tabpanel"]')].filter((p) => !p.hidden).map((p) => p.id),
      tabindex: [...root.querySelectorAll('[role="tab"]')].map((t) => t.tabIndex),
    }));
    assert.equal(await page.locator('diffusion-lab #tabs').getAttribute('role'), 'tablist');
    await page.locator('diffusion-lab #tab-reverse').focus();
    let mark = await eventCount(page);
    await page.keyboard.press('ArrowRight');
    assert.deepEqual(await state(), { selected: 'tab-forward', focused: 'tab-forward', visible: ['panel-forward'], tabindex: [-1, 0, -1, -1] });
    await page.keyboard.press('ArrowRight');
    assert.equal((await state()).selected, 'tab-compare');
    await page.keyboard.press('ArrowRight');
    assert.equal((await state()).selected, 'tab-explore');
    await page.keyboard.press('ArrowRight');
    assert.equal((await state()).selected, 'tab-reverse', 'ArrowRight does not wrap around');
    await page.keyboard.press('ArrowLeft');
    assert.equal((await state()).selected, 'tab-explore');
    await page.keyboard.press('Home');
    assert.equal((await state()).selected, 'tab-reverse');
    await page.keyboard.press('End');
    assert.equal((await state()).focused, 'tab-explore');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    assert.deepEqual((await state()).visible, ['panel-forward']);

    if (EXAMPLES.length) {
      await forwardAt(page, mark, 500);
      assert.equal(await page.locator('diffusion-lab #fwd-prompt').inputValue(), EXAMPLES[0].de);
      const option = await page.locator('diffusion-lab #fwd-source option[value="ex:0"]').textContent();
      assert.equal(option, `Beispiel: ${EXAMPLES[0].de}`);
      assert.match(await labText(page, 'fwd-mix'), /^t = 500: Das verrauschte Bild besteht zu \d+ % aus dem Bild/);
      assert.match(await labText(page, 'fwd-error-out'), /^\d+,\d{3}$/, 'German decimal comma');
      await screenshot(page, 'forward-example-de');
      // The language switch: example names and the (untouched) prompt follow.
      mark = await eventCount(page);
      await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'en'));
      assert.equal(await page.locator('diffusion-lab #fwd-source option[value="ex:0"]').textContent(), `Example: ${EXAMPLES[0].en}`);
      assert.equal(await page.locator('diffusion-lab #fwd-prompt').inputValue(), EXAMPLES[0].en);
      assert.match(await labText(page, 'fwd-mix'), /^t = 500: the noisy picture/);
    } else {
      assert.match(await labText(page, 'fwd-nosource'), /keine Beispielbilder/);
    }
    assert.equal(await labText(page, 'alert'), '');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
