// The WebGPU path and the CPU path draw the same picture for the same prompt and seed: the page's
// own canvases compared pixel by pixel, for the student and for the teacher (whose guidance and
// sampler run around the denoiser on either path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TIMEOUTS, useBrowser, newPage, openLab, runGenerate, assertNoUnexpectedErrors } from './helpers.mjs';

const env = useBrowser({ webgpu: true });

/** Mean and largest absolute difference of the RGB channels of two RGBA arrays (0-255). */
function difference(a, b) {
  assert.equal(a.length, b.length);
  let sum = 0;
  let max = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    max = Math.max(max, d);
    n++;
  }
  return { mean: sum / n, max };
}

test('WebGPU and the CPU path draw the same picture', { timeout: TIMEOUTS.test * 2 }, async (t) => {
  const { context, page, errors } = await newPage(env.browser);
  try {
    await openLab(page, env.baseUrl);
    const runs = {};
    for (const backend of ['webgpu', 'cpu']) {
      await page.evaluate((backend) => document.querySelector('diffusion-lab').setAttribute('backend', backend), backend);
      for (const [model, steps] of [['student', 2], ['teacher', 2]]) {
        const run = await runGenerate(page, { prompt: 'ein roter Apfel', steps, seed: 11, model }, { keepPixels: true });
        assert.equal(run.outcome, 'done', run.alert);
        assert.equal(run.done.detail.backend, backend, `${model} ran on ${run.done.detail.backend}`);
        runs[`${backend}/${model}`] = run.done.pixels;
      }
    }
    for (const model of ['student', 'teacher']) {
      const d = difference(runs[`webgpu/${model}`], runs[`cpu/${model}`]);
      t.diagnostic(`${model}: mean ${d.mean.toFixed(3)}, max ${d.max} of 255`);
      // float order differs between the paths (measured: max 1 of 255); a wrong kernel differs by tens
      assert.ok(d.mean < 0.5 && d.max <= 6, `${model}: WebGPU and CPU differ by mean ${d.mean}, max ${d.max}`);
    }
    // and the two models draw different pictures, so the comparison can tell pictures apart
    const apart = difference(runs['cpu/student'], runs['cpu/teacher']);
    assert.ok(apart.mean > 3, `student and teacher drew the same picture (mean ${apart.mean})`);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
