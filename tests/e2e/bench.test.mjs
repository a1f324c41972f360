// The benchmark page's parity check (www/bench.html?suite=parity): our WGSL UNet on WebGPU and
// onnxruntime-web's WebGPU execution provider, given the same x, t and text, agree within 1e-3 at
// batch 2 (teacher) and batch 1 (student). No timings here: those are scripts/bench.sh's figures.
//
// It needs the ONNX export (scripts/train/diffusion_lab/export_onnx.py, i.e. python with torch
// and onnx: scripts/bench.sh prepares .cache/bench-venv); without one the test is skipped and says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, assertNoUnexpectedErrors, writeResult, TIMEOUTS } from './helpers.mjs';
import { prepareBench } from '../../scripts/bench-prepare.mjs';

const env = useBrowser({ webgpu: true });

test('bench.html parity: ours on WebGPU equals onnxruntime-web on WebGPU within 1e-3', { timeout: TIMEOUTS.test }, async (t) => {
  try {
    prepareBench({ log: () => {} });
  } catch (e) {
    t.skip(`bench files not prepared: ${e.message.split('\n')[0]}`);
    return;
  }
  const { context, page, errors } = await newPage(env.browser);
  try {
    await page.goto(new URL('bench.html?suite=parity', env.baseUrl).href);
    await page.waitForFunction(() => window.__bench?.done, null, { timeout: TIMEOUTS.generate, polling: 500 });
    const state = await page.evaluate(() => window.__bench);
    writeResult('bench-parity.json', state);
    assert.equal(state.error, null, `bench.html failed: ${state.error}`);
    const c = state.results.compare;
    assert.ok(c && !c.error, `compare suite failed: ${c?.error}`);
    assert.equal(c.runtimes.oursWebgpu.backend, 'webgpu');
    assert.ok(!c.runtimes.ortWebgpu.error, `onnxruntime-web did not load: ${c.runtimes.ortWebgpu.error}`);
    for (const b of ['2', '1']) {
      const d = c.batches[b].maxAbsDiff.ortWebgpu;
      assert.ok(d != null && d <= 1e-3, `batch ${b} (${c.batches[b].model}): max abs diff ${d} > 1e-3`);
      assert.ok(c.batches[b].outputMaxAbs > 0.1, `batch ${b}: the output is all near zero`);
    }
    assert.equal(state.ok, true);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
