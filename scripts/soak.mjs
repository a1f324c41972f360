#!/usr/bin/env node
// The soak benchmark: many generations in the real page (embed.html: the element, its worker, the
// wasm Lab on WebGPU/SwiftShader), with the forward tab opened and the language switched now and
// then, printing at checkpoints what must stay flat: live GPU buffers (counted in the worker by
// www/gpu-counters.js), the Lab's GPU bytes, the wasm memory, workers, the localizer's bindings,
// the page's JS heap after a GC. Figures, never pass/fail on timings.
//
//   node scripts/soak.mjs [--runs 1000] [--every 100] [--steps 1] [--out soak-results.json]
//
// Needs www/ built (scripts/build.sh) and node_modules (scripts/setup.sh).

import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
  '--js-flags=--expose-gc', '--enable-precise-memory-info',
];

function parseArgs(argv) {
  const o = { runs: 1000, every: 100, steps: 1, out: path.join(REPO, 'soak-results.json') };
  for (let i = 0; i < argv.length; i++) {
    const [name, value] = [argv[i], argv[i + 1]];
    if (name === '--out') o.out = path.resolve(value);
    else if (['--runs', '--every', '--steps'].includes(name) && Number.isInteger(Number(value)) && Number(value) > 0) o[name.slice(2)] = Number(value);
    else {
      console.error('usage: node scripts/soak.mjs [--runs 1000] [--every 100] [--steps 1] [--out soak-results.json]');
      process.exit(2);
    }
    i++;
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const site = await startServer({ port: 0, host: '127.0.0.1', root: path.join(REPO, 'www') });
const browser = await chromium.launch({ executablePath: process.env.DLAB_E2E_CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS });
const errors = [];
try {
  const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1000, height: 1200 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(new URL(`embed.html?lang=de&prompt=Hund&steps=${opts.steps}&seed=0&backend=webgpu`, site.url).href);
  await page.waitForFunction(() => customElements.get('diffusion-lab'));
  // count WebGPU objects from before the device exists
  await page.evaluate(() => document.querySelector('diffusion-lab').loading.client().statsForTest(true));

  const checkpoint = async (run, msPerRun) => {
    const s = await page.evaluate(async () => {
      const el = document.querySelector('diffusion-lab');
      globalThis.gc?.();
      const stats = await el.loading.client().statsForTest();
      return {
        liveBuffers: stats.gpu?.liveBuffers ?? null,
        liveBufferBytes: stats.gpu?.liveBufferBytes ?? null,
        buffersCreated: stats.gpu?.created?.buffers ?? null,
        labGpuBytes: stats.gpuBufferBytes,
        wasmBytes: stats.wasmBytes,
        bindings: el.loc.bindings.size,
        pageHeapBytes: performance.memory?.usedJSHeapSize ?? null,
      };
    });
    const row = { run, msPerRun, workers: page.workers().length, ...s };
    console.log(`run ${String(run).padStart(5)}: ${msPerRun === null ? '   –' : msPerRun.toFixed(0).padStart(5)} ms/run, live GPU buffers ${row.liveBuffers} `
      + `(${(row.liveBufferBytes / 1e6).toFixed(2)} MB, ${row.buffersCreated} created), Lab GPU ${(row.labGpuBytes / 1e6).toFixed(2)} MB, `
      + `wasm ${(row.wasmBytes / 1e6).toFixed(1)} MB, workers ${row.workers}, localizer bindings ${row.bindings}, page heap ${(row.pageHeapBytes / 1e6).toFixed(2)} MB`);
    return row;
  };

  const rows = [];
  let block = Date.now();
  for (let run = 0; run <= opts.runs; run++) {
    const outcome = await page.evaluate(async (run) => {
      const el = document.querySelector('diffusion-lab');
      el.seed = run;
      try {
        await el.generate();
      } catch (err) {
        return `run ${run}: ${err.code}: ${err.message}`;
      }
      if (run % 10 === 5) {
        // the forward tab computes on the picture just made, then back
        el.shadowRoot.getElementById('tab-forward').click();
        await new Promise((resolve) => el.addEventListener('forward', resolve, { once: true }));
        el.shadowRoot.getElementById('tab-reverse').click();
      }
      if (run % 50 === 25) el.setAttribute('lang', el.getAttribute('lang') === 'de' ? 'en' : 'de');
      return null;
    }, run);
    if (outcome) throw new Error(outcome);
    if (run === 0) {
      rows.push(await checkpoint(0, null)); // after the warm-up
      block = Date.now();
    } else if (run % opts.every === 0 || run === opts.runs) {
      const done = run - rows[rows.length - 1].run;
      rows.push(await checkpoint(run, (Date.now() - block) / done));
      block = Date.now();
    }
  }
  const first = rows[0];
  const last = rows[rows.length - 1];
  const change = Object.fromEntries(['liveBuffers', 'liveBufferBytes', 'labGpuBytes', 'wasmBytes', 'workers', 'bindings', 'pageHeapBytes']
    .map((k) => [k, last[k] - first[k]]));
  console.log(`after ${opts.runs} runs, change since the warm-up: ${JSON.stringify(change)}`);
  if (errors.length) console.log(`page errors: ${errors.join(' | ')}`);
  writeFileSync(opts.out, JSON.stringify({ opts, rows, change, errors }, null, 2));
  console.log(`wrote ${opts.out}`);
} finally {
  await browser.close();
  site.server.close();
}
