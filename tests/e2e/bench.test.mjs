// The benchmark page's parity check (www/bench.html?suite=parity): our WGSL UNet on WebGPU and
// onnxruntime-web's WebGPU execution provider, given the same x, t and text, agree within 1e-3 at
// batch 2 (teacher) and batch 1 (student). No timings here: those are scripts/bench.sh's figures.
//
// It needs the ONNX export (scripts/train/diffusion_lab/export_onnx.py, i.e. python with torch
// and onnx: scripts/test.sh installs both into .venv, scripts/bench.sh into .cache/bench-venv).
// Under scripts/test.sh (DLAB_REQUIRE_PARITY=1) a missing export fails the test; run alone
// without one, the test is skipped and says so.
//
// And the stability suite in short (bench.html?suite=stability&runs=3): its WebGPU counters work,
// each WGSL kernel is compiled once for both models, after the warm-up image no buffer, bind
// group, shader module or pipeline is made and no GPU buffer is left behind, `lab.free()` leaves
// no buffer live; every step time is a positive number. Again no timings: how fast is scripts/bench.sh's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBrowser, newPage, assertNoUnexpectedErrors, writeResult, TIMEOUTS } from './helpers.mjs';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { prepareBench, REPO } from '../../scripts/bench-prepare.mjs';

const env = useBrowser({ webgpu: true });

/** Opens bench.html?QUERY in a fresh context, waits for it to finish, saves and returns its state. */
async function runBenchPage(query, resultFile) {
  const { context, page, errors } = await newPage(env.browser);
  try {
    await page.goto(new URL(`bench.html?${query}`, env.baseUrl).href);
    await page.waitForFunction(() => window.__bench?.done, null, { timeout: TIMEOUTS.generate, polling: 500 });
    const state = await page.evaluate(() => window.__bench);
    writeResult(resultFile, state);
    assert.equal(state.error, null, `bench.html failed: ${state.error}`);
    return { state, errors };
  } finally {
    await context.close();
  }
}

test('bench.html parity: ours on WebGPU equals onnxruntime-web on WebGPU within 1e-3', { timeout: TIMEOUTS.test }, async (t) => {
  try {
    prepareBench({ log: () => {} });
  } catch (e) {
    if (process.env.DLAB_REQUIRE_PARITY === '1') throw e;
    t.skip(`bench files not prepared: ${e.message.split('\n')[0]}`);
    return;
  }
  const { state, errors } = await runBenchPage('suite=parity', 'bench-parity.json');
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
});

test('bench.html stability, 3 generations: nothing created after the warm-up, nothing left live after free()', { timeout: TIMEOUTS.test }, async () => {
  const { state, errors } = await runBenchPage('suite=stability&runs=3', 'bench-stability.json');
  const st = state.results.stability;
  assert.ok(st && !st.error, `stability suite failed: ${st?.error}`);
  assert.equal(st.backend, 'webgpu');
  assert.equal(st.generations, 3);

  const { warm, end } = st;
  for (const [name, snap] of Object.entries({ afterLoad: st.afterLoad, warm, end })) {
    const values = { ...snap.created, ...snap.calls, liveBuffers: snap.liveBuffers, liveBufferBytes: snap.liveBufferBytes,
      labGpuBufferBytes: snap.labGpuBufferBytes, wasmMemoryBytes: snap.wasmMemoryBytes };
    for (const [k, v] of Object.entries(values)) assert.ok(Number.isFinite(v), `${name}.${k} is ${v}, not a number`);
  }
  // the wrappers were in place before the device: they saw the model's buffers, shaders and pipelines
  assert.ok(warm.created.buffers > 0 && warm.liveBuffers > 0 && warm.liveBufferBytes > 0, `no buffers counted: ${JSON.stringify(warm)}`);
  assert.ok(warm.created.shaderModules > 0 && warm.created.computePipelines > 0, `no shaders counted: ${JSON.stringify(warm.created)}`);
  assert.ok(end.calls.submits > warm.calls.submits, 'no submit after the warm-up');
  // the teacher's and the student's plans share the device's pipelines: one shader module and one
  // pipeline per WGSL kernel (conv2d's split-K entry point is never used on a CPU adapter)
  const kernels = readdirSync(path.join(REPO, 'src', 'gpu', 'shaders')).filter((f) => f.endsWith('.wgsl')).length;
  assert.equal(warm.created.shaderModules, kernels, 'shader modules: one per WGSL kernel');
  assert.equal(warm.created.computePipelines, kernels, 'compute pipelines: one per WGSL kernel');

  for (const k of ['buffers', 'bindGroups', 'shaderModules', 'computePipelines', 'renderPipelines']) {
    assert.equal(end.created[k], warm.created[k], `${k} created after the warm-up`);
  }
  assert.equal(end.liveBuffers, warm.liveBuffers, 'live GPU buffers grew after the warm-up');
  assert.equal(end.liveBufferBytes, warm.liveBufferBytes, 'live GPU buffer bytes grew after the warm-up');

  // Lab.free() destroys the device, so none of the model's GPU memory waits for the GC
  assert.equal(st.afterFree.liveBuffers, 0, `live GPU buffers after lab.free(): ${st.afterFree.liveBuffers}`);
  assert.equal(st.afterFree.calls.devicesDestroyed, 1);

  assert.equal(st.stepMs.length, 3 * st.stepsPerImage);
  for (const ms of st.stepMs) assert.ok(Number.isFinite(ms) && ms > 0, `step time ${ms}`);
  assert.equal(state.ok, true);
  assertNoUnexpectedErrors(errors);
});
