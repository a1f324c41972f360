// scripts/bench-dawn.mjs --quick, the Dawn (npm `webgpu`) benchmark, as it runs on a machine
// without a GPU: the CPU rows (our candle path in wasm, onnxruntime-web's wasm EP) give real
// numbers and agree within 1e-3; the WebGPU rows either have numbers too or say plainly that
// Dawn offers no adapter; time to first image cold and warm, and the warm run downloads fewer
// bytes (the model files come from the Cache API folder). No browser; no timing thresholds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkBuilt, REPO, RESULTS } from './helpers.mjs';
import { prepareBench } from '../../scripts/bench-prepare.mjs';

const positive = (v) => Number.isFinite(v) && v > 0;

test('bench-dawn --quick: CPU rows with numbers, WebGPU rows or a clear "no adapter"', { timeout: 5 * 60_000 }, (t) => {
  checkBuilt();
  let ort = true;
  try {
    prepareBench({ log: () => {} });
  } catch (e) {
    if (process.env.DLAB_REQUIRE_PARITY === '1') throw e;
    ort = false;
    t.diagnostic(`no ONNX files, so no onnxruntime-web rows: ${e.message.split('\n')[0]}`);
  }
  const out = path.join(RESULTS, 'bench-dawn.json');
  const r = spawnSync(process.execPath, [path.join(REPO, 'scripts/bench-dawn.mjs'), '--quick', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, `bench-dawn.mjs failed:\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(readFileSync(out, 'utf8'));

  // the CPU rows: every pass and image timed
  assert.ok(!res.cpu.error, `CPU rows failed: ${res.cpu.error}\n${res.cpu.log?.join('\n')}`);
  assert.equal(res.cpu.lab.backend, 'cpu');
  for (const b of ['2', '1']) {
    assert.ok(positive(res.cpu.passes[b].timing.oursCpu?.mean), `batch ${b}: no time for ours on the CPU`);
    if (ort) assert.ok(positive(res.cpu.passes[b].timing.ortWasm?.mean), `batch ${b}: no time for ORT wasm: ${res.cpu.ort.error}`);
    if (ort) assert.ok(res.parity[b].ortWasm <= 1e-3, `batch ${b}: ORT wasm differs from ours by ${res.parity[b].ortWasm}`);
  }
  assert.deepEqual(res.cpu.images.map((i) => i.model).sort(), ['student', 'teacher']);
  for (const i of res.cpu.images) assert.ok(positive(i.perImageWarm) && positive(i.perImageCold), `${i.model}: no image times`);

  // WebGPU: numbers, or a row that says why there are none
  assert.ok(res.webgpu.length >= 1);
  for (const g of res.webgpu) {
    assert.ok(!g.error, `our WebGPU run failed on an adapter Dawn offers: ${g.error}\n${g.log?.join('\n')}`);
    if (g.noAdapter) {
      assert.equal(res.probe.adapterInfo ?? null, null, 'a "no adapter" row although Dawn offered one');
      assert.match(res.markdown, /no WebGPU adapter/);
      continue;
    }
    for (const b of ['2', '1']) {
      assert.ok(positive(g.passes[b].timing.oursWebgpu?.mean), `batch ${b}: no time for ours on WebGPU`);
      assert.ok(g.passes[b].perPass.oursWebgpu.dispatches > 0, `batch ${b}: no dispatch counted`);
      assert.ok(res.parity[b].oursWebgpu <= 1e-3, `batch ${b}: ours on WebGPU differs from the CPU by ${res.parity[b].oursWebgpu}`);
    }
  }

  // time to first image, cold and warm, and the bytes each moved
  const { cold, warm } = res.ttfi;
  for (const [name, x] of Object.entries({ cold, warm })) {
    assert.ok(!x.error, `ttfi ${name}: ${x.error}\n${x.log?.join('\n')}`);
    assert.ok(positive(x.msToFirstImage) && positive(x.transferredBytes), `ttfi ${name}: ${JSON.stringify(x)}`);
  }
  assert.ok(warm.transferredBytes < cold.transferredBytes / 2, `the warm run moved ${warm.transferredBytes} bytes, the cold one ${cold.transferredBytes}`);
  assert.ok(positive(res.download.filesBytes) && res.download.gzipBytes < res.download.filesBytes);
  assert.equal(res.parityOk, true);
  assert.match(res.markdown, /ours WebGPU ÷ ORT WebGPU/);
});
