// The "seeds and guidance" tab: six seeds of one prompt side by side (English), six blends from one
// prompt's embedding to another's, the teacher over guidance 0, 1, 2, 3, 5, 8 with the student
// beside it, and a cancel in the middle of the sweep (German); at 360 px the tabs fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, labText, screenshot, assertNoUnexpectedErrors, waitIdle, meanPixelDistance as distance,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });

const cells = (page) => page.locator('diffusion-lab').evaluate((el) => [...el.shadowRoot.querySelectorAll('#exp-grid figure')].map((f) => {
  const c = f.querySelector('canvas');
  return { caption: f.querySelector('figcaption').textContent, pixels: Array.from(c.getContext('2d').getImageData(0, 0, 32, 32).data) };
}));

test('six seeds of one prompt: six runs, six captions, the pictures drawn', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    // on WebGPU (SwiftShader); the blend and the guidance sweep run the default CPU path
    await openLab(page, env.baseUrl, 'embed.html?lang=en&mode=explore&prompt=Hund&seed=3&backend=webgpu');
    assert.equal(await labText(page, 'exp-seeds'), 'Show 6 seeds');
    const detail = await page.locator('diffusion-lab').evaluate((el) => el.seedGrid());
    assert.equal(detail.kind, 'seeds');
    assert.equal(await page.evaluate(() => document.querySelector('diffusion-lab').backend), 'webgpu');
    assert.equal(detail.runs.length, 6);
    assert.ok(detail.runs.every((r) => r.passes === 4), JSON.stringify(detail.runs));
    const grid = await cells(page);
    assert.deepEqual(grid.map((c) => c.caption.split(':')[0]), ['Seed 3', 'Seed 4', 'Seed 5', 'Seed 6', 'Seed 7', 'Seed 8']);
    assert.ok(grid.every((c) => /4 model calls, [\d.]+ s$/.test(c.caption)), grid.map((c) => c.caption).join(' | '));
    const mean = (p) => p.reduce((s, v) => s + v, 0) / p.length;
    assert.ok(grid.every((c) => mean(c.pixels) > 20 && mean(c.pixels) < 250), 'every cell is drawn');
    const pairs = [];
    for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) pairs.push(distance(grid[i].pixels, grid[j].pixels));
    t.diagnostic(`mean pixel distance between seeds: ${(pairs.reduce((a, b) => a + b, 0) / pairs.length).toFixed(2)} (0–255)`);
    assert.ok(pairs.every((d) => d > 0), 'two seeds drew the very same picture');
    assert.match(await labText(page, 'status'), /^Done: 6 pictures\./);
    await screenshot(page, 'explore-seeds');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('from one prompt to another: six blends of their embeddings at one seed, from the first picture to the second', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl, 'embed.html?lang=en&mode=explore&prompt=Hund&seed=5');
    await page.locator('diffusion-lab #exp-other').fill('Katze');
    await page.locator('diffusion-lab #exp-blend').click();
    await page.waitForFunction(() => document.querySelector('diffusion-lab').explorePanel.last?.cells.every((c) => c.result), null, { timeout: TIMEOUTS.generate, polling: 250 });
    const grid = await cells(page);
    assert.deepEqual(grid.map((c) => c.caption.split(':')[0]), ['0 % second prompt', '20 % second prompt', '40 % second prompt', '60 % second prompt', '80 % second prompt', '100 % second prompt']);
    assert.match(await labText(page, 'exp-title'), /^From "Hund" to "Katze", seed 5$/);
    const ends = distance(grid[0].pixels, grid[5].pixels);
    t.diagnostic(`distance 0 % ↔ 100 %: ${ends.toFixed(1)}; neighbours: ${grid.slice(1).map((c, i) => distance(grid[i].pixels, c.pixels).toFixed(1)).join(' ')}`);
    assert.ok(ends > 5, 'the two ends should be two different pictures');
    // the ends are the two prompts' own pictures at that seed
    const plain = await page.locator('diffusion-lab').evaluate(async (el) => {
      const client = el.loading.client();
      const one = async (prompt) => Array.from((await client.start('generate', { prompt, options: { seed: 5 } }).promise).image);
      return [await one('Hund'), await one('Katze')];
    });
    assert.ok(distance(plain[0], grid[0].pixels) < 1 && distance(plain[1], grid[5].pixels) < 1, 'the ends differ from the prompts alone');
    await screenshot(page, 'explore-blend');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('guidance 0 … 8 beside the student (German), and a cancel in the middle of the sweep', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl, 'embed.html?lang=de&mode=explore&prompt=Katze&seed=2');
    await page.locator('diffusion-lab #exp-steps').fill('3'); // fewer teacher steps: a quicker sweep
    const detail = await page.locator('diffusion-lab').evaluate((el) => el.guidanceSweep());
    assert.equal(detail.runs.length, 7);
    const grid = await cells(page);
    assert.deepEqual(grid.map((c) => c.caption.split(':')[0]),
      ['Guidance 0', 'Guidance 1', 'Guidance 2', 'Guidance 3', 'Guidance 5', 'Guidance 8', 'Schüler (Guidance eingebaut)']);
    t.diagnostic(grid.map((c) => c.caption).join(' | '));
    for (let i = 0; i < 6; i++) {
      for (let j = i + 1; j < 6; j++) assert.ok(distance(grid[i].pixels, grid[j].pixels) > 0, `guidance cells ${i} and ${j} are the same picture`);
    }
    assert.ok(distance(grid[0].pixels, grid[5].pixels) > 5, 'guidance 0 and 8 should look clearly different');
    assert.equal(detail.runs[6].passes, 4, 'the student: one call per step');
    assert.ok(detail.runs.slice(0, 6).every((r) => r.passes === 6), 'the teacher: 3 steps, two calls each');
    await screenshot(page, 'explore-guidance-de');

    // cancel after the first picture of a new sweep
    const cancelled = await page.locator('diffusion-lab').evaluate(async (el) => {
      const before = el.explorePanel.last;
      const run = el.guidanceSweep().then(() => 'done', (e) => e.code);
      await new Promise((resolve) => {
        const check = () => (el.explorePanel.last !== before && el.explorePanel.last.cells[0]?.result ? resolve() : setTimeout(check, 20));
        check();
      });
      el.cancel();
      return run;
    });
    assert.equal(cancelled, 'cancelled');
    assert.match(await labText(page, 'status'), /^Abgebrochen nach [12] von 7 Bildern\./);
    await waitIdle(page);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('at 360 px the four tabs fit, and the explore tab has no sideways scroll', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE', viewport: { width: 360, height: 780 } });
  try {
    await openLab(page, env.baseUrl, 'embed.html?lang=de&mode=explore&prompt=Hund');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    // negative where the page keeps the scrollbar's room (embed.css): no sideways scroll either
    assert.ok(overflow <= 0, `${overflow} px sideways scroll`);
    await screenshot(page, 'explore-360');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
