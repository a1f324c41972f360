// (a) The happy path: by default the CPU path (the browser's WebGPU here is SwiftShader, emulated
// on the processor, and slower), then WebGPU when asked: prompt → 8 teacher steps drawn one by
// one → a clean picture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, runGenerate, labText, screenshot,
  assertNoUnexpectedErrors, writeResult, waitIdle,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });

function differingBytes(a, b) {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

const CASES = [
  {
    prompt: 'Hund', locale: 'de-DE', counter: 'Schritt 8 / 8', slug: 'hund', software: 'WebGPU, in Software auf dem Prozessor nachgebildet',
    notice: /^WebGPU gibt es in diesem Browser nur als Nachbildung auf dem Prozessor \(ohne Grafikkarte\)\. Der direkte Weg über den Prozessor \(CPU\) ist hier schneller/, useWebgpu: 'Trotzdem WebGPU verwenden',
  },
  {
    prompt: 'a dog', locale: 'en-US', counter: 'Step 8 / 8', slug: 'a-dog', software: 'WebGPU emulated in software on the processor',
    notice: /^This browser offers WebGPU only as an emulation on the processor \(without a graphics card\)\. The direct path through the processor \(CPU\) is faster here/, useWebgpu: 'Use WebGPU anyway',
  },
];

for (const c of CASES) {
  test(`"${c.prompt}": SwiftShader is passed over for the CPU path by default; WebGPU when asked: 8 teacher steps drawn one by one end in a clean picture`, { timeout: TIMEOUTS.test }, async (t) => {
    const { context, page, errors } = await newPage(env.browser, { locale: c.locale });
    try {
      await openLab(page, env.baseUrl);
      // The default: the browser's WebGPU here is SwiftShader (emulated on the processor), where
      // the CPU path is faster, so the first picture comes from the CPU path and the page says why.
      const auto = await runGenerate(page, { model: 'student', prompt: c.prompt, seed: 1 });
      assert.equal(auto.outcome, 'done', auto.alert);
      assert.equal(auto.done.detail.backend, 'cpu');
      assert.match(await labText(page, 'notice'), c.notice);
      const offer = page.getByRole('button', { name: c.useWebgpu });
      assert.equal(await offer.isVisible(), true, 'no way to choose WebGPU anyway');
      await screenshot(page, `generate-default-cpu-${c.slug}`);
      // "Use WebGPU anyway": loads on SwiftShader, and the page must not claim a graphics card.
      await offer.click();
      await page.waitForFunction(() => document.querySelector('diffusion-lab').backend === 'webgpu', null, { timeout: TIMEOUTS.load });
      await waitIdle(page);
      assert.ok((await labText(page, 'status')).includes(c.software), `status: ${await labText(page, 'status')}`);
      assert.equal(await page.locator('diffusion-lab #notice').isVisible(), false);
      assert.equal(await offer.isVisible(), false);
      const gpuStudent = await runGenerate(page, { model: 'student', prompt: c.prompt, seed: 1 });
      assert.equal(gpuStudent.done.detail.backend, 'webgpu');
      t.diagnostic(`student image: ${auto.done.detail.ms.toFixed(0)} ms on the default (CPU path), `
        + `${gpuStudent.done.detail.ms.toFixed(0)} ms on WebGPU (SwiftShader)`);
      const r = await runGenerate(page, { model: 'teacher', prompt: c.prompt, steps: 8, seed: 1 }, { keepPixels: true });
      await screenshot(page, `generate-${c.slug}`);
      assert.equal(r.outcome, 'done', `generate failed: ${r.alert}`);

      // step events: in order 0..7, total 8, timestep falling, a time for every step
      assert.deepEqual(r.steps.map((s) => s.detail.index), [0, 1, 2, 3, 4, 5, 6, 7]);
      for (const s of r.steps) {
        assert.equal(s.detail.total, 8);
        assert.ok(Number.isFinite(s.detail.t), `t is ${s.detail.t}`);
        assert.ok(Number.isFinite(s.detail.ms) && s.detail.ms >= 0, `ms is ${s.detail.ms}`);
      }
      const ts = r.steps.map((s) => s.detail.t);
      for (let i = 1; i < ts.length; i++) assert.ok(ts[i] < ts[i - 1], `timesteps should fall: ${ts.join(', ')}`);

      // the main canvas shows a new x_t after every step
      for (let i = 1; i < r.steps.length; i++) {
        const changed = differingBytes(r.steps[i].pixels, r.steps[i - 1].pixels);
        assert.ok(changed > 0, `the canvas did not change between step ${i - 1} and step ${i}`);
      }

      // the final picture is not noise: far less neighbour-to-neighbour variation than step 0
      const first = r.steps[0].hf;
      const last = r.done.hf;
      t.diagnostic(`neighbour difference: first step ${first.toFixed(1)}, final ${last.toFixed(1)}; `
        + `${r.done.detail.ms.toFixed(0)} ms total on ${r.done.detail.backend}`);
      assert.ok(last < 0.6 * first, `final image still looks like noise (hf ${last.toFixed(1)} vs first step ${first.toFixed(1)})`);
      assert.ok(last < 40, `final image is too busy (hf ${last.toFixed(1)})`);
      const mean = r.done.mean;
      assert.ok(mean > 5 && mean < 250, `final image is blank (mean ${mean.toFixed(1)})`);

      assert.equal(r.done.detail.backend, 'webgpu');
      assert.equal(r.done.detail.steps, 8);
      assert.equal(r.done.detail.model, 'teacher');
      assert.equal(r.done.detail.passes, 16, 'the teacher takes two passes per step (guidance)');
      assert.equal(await labText(page, 'counter'), c.counter);
      assert.equal(r.alert, '');
      assert.equal(await page.evaluate(() => document.querySelector('diffusion-lab').backend), 'webgpu');

      writeResult(`generate-${c.slug}.json`, {
        prompt: c.prompt,
        steps: r.steps.map((s) => ({ ...s.detail, hf: s.hf, mean: s.mean })),
        done: { ...r.done.detail, hf: r.done.hf, mean: r.done.mean },
      });
      assertNoUnexpectedErrors(errors);
    } finally {
      await context.close();
    }
  });
}

test('works at 360 px width and from the keyboard', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { viewport: { width: 360, height: 800 }, locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 360px width`);
    assert.ok(await page.evaluate(() => document.scrollingElement.scrollWidth) <= 360);
    const labWidth = await page.locator('diffusion-lab').evaluate((el) => el.getBoundingClientRect().width);
    assert.ok(labWidth <= 360, `the element is ${labWidth}px wide`);

    // Every control has an accessible name.
    const unnamed = await page.evaluate(() => {
      const root = document.querySelector('diffusion-lab').shadowRoot;
      return [...root.querySelectorAll('input, button:not(.thumb), select, meter')].filter((el) => {
        const byLabel = el.id && root.querySelector(`label[for="${el.id}"]`)?.textContent.trim();
        return !(byLabel || el.getAttribute('aria-label') || el.textContent.trim());
      }).map((el) => el.id);
    });
    assert.deepEqual(unnamed, []);

    // Keyboard only: focus the prompt, type, Tab through the fields, press Enter to generate.
    await page.locator('diffusion-lab #prompt').focus();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Katze');
    // past the example prompts to the model menu
    for (let i = 0; i < 12 && await page.evaluate(() => document.querySelector('diffusion-lab').shadowRoot.activeElement?.id) !== 'model'; i++) {
      await page.keyboard.press('Tab');
    }
    assert.equal(await page.evaluate(() => document.querySelector('diffusion-lab').shadowRoot.activeElement?.id), 'model');
    await page.keyboard.press('Tab'); // steps
    await page.keyboard.press('Control+A');
    await page.keyboard.type('2');
    await page.keyboard.press('Tab'); // seed
    await page.keyboard.press('Control+A');
    await page.keyboard.type('3');
    assert.equal(await page.evaluate(() => document.querySelector('diffusion-lab').shadowRoot.activeElement?.id), 'seed');
    const mark = await page.evaluate(() => window.__lab.events.length);
    await page.keyboard.press('Enter');
    await page.waitForFunction((m) => window.__lab.events.slice(m).some((e) => e.type === 'done' || e.type === 'error'),
      mark, { timeout: TIMEOUTS.generate, polling: 200 });
    const end = await page.evaluate((m) => window.__lab.events.slice(m).find((e) => e.type === 'done' || e.type === 'error'), mark);
    assert.equal(end.type, 'done', `keyboard generate failed: ${await labText(page, 'alert')}`);
    assert.equal(end.detail.steps, 2);
    assert.equal(end.detail.prompt, 'Katze');
    assert.equal(end.detail.seed, 3);
    await screenshot(page, 'narrow-360');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
