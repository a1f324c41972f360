// The forward-process panel: a data-set example (or the last generated picture, or one painted
// or loaded by the learner) with noise of level t, the true noise beside the model's estimate, the reconstruction and the noise error; the
// slider is debounced (one request at a time, the latest value wins); the tabs by keyboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS, WWW, useBrowser, newPage, openLab, runGenerate, labText, screenshot, assertNoUnexpectedErrors,
  waitIdle, waitEvent, eventCount, askForWebgpu, meanPixelDistance as distance,
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
    await askForWebgpu(page); // the German tests run the default CPU path
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
      assert.equal(await page.evaluate(() => document.querySelector('diffusion-lab').backend), 'webgpu');
      const sel = await shadow(page, ({ shadowRoot: root }) => ({
        options: [...root.getElementById('fwd-source').options].map((o) => [o.value, o.textContent, o.disabled]),
        value: root.getElementById('fwd-source').value,
        prompt: root.getElementById('fwd-prompt').value,
      }));
      assert.equal(sel.options.length, EXAMPLES.length + 2);
      assert.deepEqual(sel.options[0], ['last', 'The last picture you generated (none yet)', true]);
      assert.deepEqual(sel.options.at(-1), ['own', 'Your own picture (paint one or load a file)', false]);
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
      // the hint names the schedule's last timestep, as the slider has it
      assert.equal(await page.locator('diffusion-lab #fwd-t-hint').textContent(), '0 = almost no noise, 999 = nothing but noise.');

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

/** The pad's and the forward panel's pictures as comma-joined RGBA. */
const pixels = (page) => shadow(page, ({ shadowRoot: root }) => Object.fromEntries(['paint-canvas', 'fwd-x0', 'fwd-xt'].map((id) => {
  const c = root.getElementById(id);
  return [id, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)];
})));
const rgbAt = (data, x, y) => data.slice((y * 32 + x) * 4, (y * 32 + x) * 4 + 3);
const near = (rgb, want, tol = 40) => rgb.every((v, i) => Math.abs(v - want[i]) <= tol);

/** A PNG of w×h made by the page's canvas: the left part blue, the right part yellow. */
const twoColourPng = (page, w, h) => page.evaluate(async ({ w, h }) => {
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.fillStyle = '#0000ff';
  ctx.fillRect(0, 0, w / 2, h);
  ctx.fillStyle = '#ffff00';
  ctx.fillRect(w / 2, 0, w / 2, h);
  const blob = await c.convertToBlob({ type: 'image/png' });
  return Array.from(new Uint8Array(await blob.arrayBuffer()));
}, { w, h });

test('your own picture: what is painted or loaded is what the forward panel noises; undo; a bad file changes nothing (German, then in the embed)', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    await page.getByRole('tab', { name: 'Verrauschen (vorwärts)' }).click();
    if (EXAMPLES.length) await forwardAt(page, 0, 500);
    assert.equal(await page.locator('diffusion-lab #fwd-own').isVisible(), false, 'the pad shows before it is chosen');
    let mark = await eventCount(page);
    await page.locator('diffusion-lab #fwd-source').selectOption('own');
    let e = await waitEvent(page, mark, ['forward', 'error']);
    assert.equal(e.type, 'forward', e.detail.message);
    assert.equal(e.detail.source, 'own');
    assert.equal(e.detail.prompt, '', 'the own picture has no name to tell the model');
    assert.equal(await page.locator('diffusion-lab #fwd-own').isVisible(), true);
    assert.equal(await page.locator('diffusion-lab #paint-copy').isDisabled(), !EXAMPLES.length);
    let px = await pixels(page);
    assert.ok(px['paint-canvas'].every((v) => v === 255), 'the pad does not start white');
    assert.deepEqual(px['fwd-x0'], px['paint-canvas']);

    // t = 0: the noisy picture is the picture.
    mark = await eventCount(page);
    await slide(page, [0]);
    await forwardAt(page, mark, 0);

    // A red stroke by mouse across the pad's middle row.
    await page.getByRole('button', { name: 'Rot', exact: true }).click();
    assert.equal(await page.getByRole('button', { name: 'Rot', exact: true }).getAttribute('aria-pressed'), 'true');
    await page.locator('diffusion-lab #paint-brush').selectOption('2');
    const box = await page.locator('diffusion-lab #paint-canvas').boundingBox();
    const at = (x, y) => [box.x + ((x + 0.5) / 32) * box.width, box.y + ((y + 0.5) / 32) * box.height];
    mark = await eventCount(page);
    await page.mouse.move(...at(4, 16));
    await page.mouse.down();
    for (const x of [6, 9, 12, 15, 18, 21, 24, 27]) await page.mouse.move(...at(x, 16));
    await page.mouse.up();
    await waitEvent(page, mark, ['forward', 'error']);
    // the last wish wins: wait until the noised picture (t = 0) follows the finished stroke
    await page.waitForFunction(() => {
      const root = document.querySelector('diffusion-lab').shadowRoot;
      const read = (id) => root.getElementById(id).getContext('2d').getImageData(0, 0, 32, 32).data;
      const [a, b] = [read('fwd-x0'), read('fwd-xt')];
      return a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length < 12;
    }, null, { timeout: TIMEOUTS.generate, polling: 200 });
    px = await pixels(page);
    for (const x of [4, 10, 16, 22, 27]) {
      assert.ok(near(rgbAt(px['paint-canvas'], x, 16), [229, 57, 53], 2), `no red at (${x}, 16): ${rgbAt(px['paint-canvas'], x, 16)}`);
    }
    assert.ok(near(rgbAt(px['paint-canvas'], 16, 4), [255, 255, 255], 0), 'paint away from the stroke');
    assert.deepEqual(px['fwd-x0'], px['paint-canvas'], 'the forward panel does not show the painted picture');
    const xtDiff = px['fwd-xt'].reduce((s, v, i) => s + Math.abs(v - px['fwd-x0'][i]), 0) / px['fwd-x0'].length;
    t.diagnostic(`t=0: mean |x_t - x0| = ${xtDiff.toFixed(2)} (0-255)`);
    assert.ok(xtDiff < 12, 'at t = 0 the noised picture is not the painted one');
    const painted = px['paint-canvas'];

    // By keyboard: Space paints a dot where the brush stands (the stroke's end), Ctrl+Z takes it back.
    await page.getByRole('button', { name: 'Blau', exact: true }).click();
    await page.locator('diffusion-lab #paint-canvas').focus();
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowUp');
    assert.equal(await page.locator('diffusion-lab #paint-cursor').isVisible(), true, 'no brush frame to steer by keyboard');
    await page.keyboard.press('Space');
    await page.keyboard.down('Shift'); // one stroke while Shift is held
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.up('Shift');
    px = await pixels(page);
    assert.ok(near(rgbAt(px['paint-canvas'], 27, 8), [30, 136, 229], 2), `no blue dot at (27, 8): ${rgbAt(px['paint-canvas'], 27, 8)}`);
    assert.ok(near(rgbAt(px['paint-canvas'], 29, 8), [30, 136, 229], 2), 'Shift + arrow does not paint');
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+z');
    px = await pixels(page);
    assert.deepEqual(px['paint-canvas'], painted, 'undo does not bring the painted picture back');

    // A file: a 96×48 picture, its centre square scaled to 32×32 (left half blue, right half yellow).
    mark = await eventCount(page);
    await page.locator('diffusion-lab #paint-file').setInputFiles({ name: 'bild.png', mimeType: 'image/png', buffer: Buffer.from(await twoColourPng(page, 96, 48)) });
    await waitEvent(page, mark, ['forward', 'error']);
    await page.waitForTimeout(300);
    px = await pixels(page);
    assert.ok(near(rgbAt(px['paint-canvas'], 4, 16), [0, 0, 255]), `left of the loaded picture: ${rgbAt(px['paint-canvas'], 4, 16)}`);
    assert.ok(near(rgbAt(px['paint-canvas'], 27, 16), [255, 255, 0]), `right of the loaded picture: ${rgbAt(px['paint-canvas'], 27, 16)}`);
    assert.deepEqual(px['fwd-x0'], px['paint-canvas']);
    const loaded = px['paint-canvas'];
    await screenshot(page, 'forward-own-de');

    // Not a picture: a message, and the pad and the panel stay as they were.
    await page.locator('diffusion-lab #paint-file').setInputFiles({ name: 'notizen.png', mimeType: 'image/png', buffer: Buffer.from('kein Bild') });
    await page.locator('diffusion-lab #paint-error').waitFor({ state: 'visible' });
    assert.match(await labText(page, 'paint-error'), /„notizen\.png“ ließ sich nicht als Bild lesen/);
    px = await pixels(page);
    assert.deepEqual(px['paint-canvas'], loaded);
    assert.deepEqual(px['fwd-x0'], loaded);
    assert.equal(await labText(page, 'alert'), '');

    // Undo takes the file back; the prompt field still names nothing; a higher t noises the painted picture.
    await page.getByRole('button', { name: 'Rückgängig' }).click();
    mark = await eventCount(page);
    await slide(page, [600]);
    await forwardAt(page, mark, 600);
    px = await pixels(page);
    assert.deepEqual(px['paint-canvas'], painted);
    assert.deepEqual(px['fwd-x0'], painted);
    assert.equal(await page.locator('diffusion-lab #paint-error').isVisible(), false, 'the message outlives the next change');
    await screenshot(page, 'forward-own-painted-de');
    assertNoUnexpectedErrors(errors);

    // Inside the embed (the iframe's page): the pad is there and takes a file.
    const embedPage = await context.newPage();
    await openLab(embedPage, env.baseUrl, 'embed.html?lang=en&mode=forward');
    await embedPage.locator('diffusion-lab #fwd-source option[value="own"]').waitFor({ state: 'attached', timeout: TIMEOUTS.generate });
    const embedMark = await eventCount(embedPage);
    await embedPage.locator('diffusion-lab #fwd-source').selectOption('own');
    await embedPage.locator('diffusion-lab #paint-file').setInputFiles({ name: 'picture.png', mimeType: 'image/png', buffer: Buffer.from(await twoColourPng(embedPage, 40, 40)) });
    await embedPage.waitForFunction(() => {
      const root = document.querySelector('diffusion-lab').shadowRoot;
      const d = root.getElementById('fwd-x0').getContext('2d').getImageData(0, 16, 1, 1).data;
      return d[2] > 200 && d[0] < 60;
    }, null, { timeout: TIMEOUTS.generate });
    const embedForward = await waitEvent(embedPage, embedMark, ['forward', 'error']);
    assert.equal(embedForward.type, 'forward', embedForward.detail.message);
    assert.equal(embedForward.detail.source, 'own');
    await embedPage.waitForFunction(() => {
      const root = document.querySelector('diffusion-lab').shadowRoot;
      return root.getElementById('fwd-xt').getContext('2d').getImageData(0, 0, 32, 32).data.some((v, i) => i % 4 !== 3 && v !== 0);
    }, null, { timeout: TIMEOUTS.generate });
    assert.equal(await embedPage.getByRole('button', { name: 'Undo' }).isEnabled(), true);
    await screenshot(embedPage, 'forward-own-embed-en');
  } finally {
    await context.close();
  }
});
