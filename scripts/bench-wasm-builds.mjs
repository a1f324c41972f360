#!/usr/bin/env node
// Two builds of the wasm module side by side in one headless Chromium page, on the CPU path
// (or WebGPU on SwiftShader with --backend webgpu): the same model, prompt and seeds, the builds
// taking turns, so that both see the same machine load. Prints the module sizes and the median
// time per image (student and teacher) of each. For build choices such as `simd128`, wasm-opt
// or a kernel change: figures, never pass/fail.
//
//   node scripts/bench-wasm-builds.mjs DIR_A DIR_B [--runs 7] [--labels a,b] [--backend cpu|webgpu]
//
// DIR_A and DIR_B each hold a wasm-bindgen `--target web` output (diffusion_lab.js and
// diffusion_lab_bg.wasm, as www/pkg does); the model comes from www/models.

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';

const REPO = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function parseArgs(argv) {
  const o = { dirs: [], runs: 7, labels: null, backend: 'cpu' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--runs') o.runs = Number(argv[++i]);
    else if (argv[i] === '--labels') o.labels = argv[++i].split(',');
    else if (argv[i] === '--backend') o.backend = argv[++i];
    else o.dirs.push(argv[i]);
  }
  if (o.dirs.length !== 2 || !Number.isInteger(o.runs) || o.runs < 1 || !['cpu', 'webgpu'].includes(o.backend)) {
    console.error('usage: node scripts/bench-wasm-builds.mjs DIR_A DIR_B [--runs 7] [--labels a,b] [--backend cpu|webgpu]');
    process.exit(2);
  }
  o.labels ??= o.dirs.map((d) => path.basename(path.resolve(d)));
  return o;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>wasm builds</title>
<script type="module">
  window.bench = async (builds, runs, backend) => {
    const labs = [];
    for (const b of builds) {
      const mod = await import('./' + b + '/diffusion_lab.js');
      await mod.default({ module_or_path: './' + b + '/diffusion_lab_bg.wasm' });
      labs.push(await mod.Lab.load('./models/manifest.json', () => {}, { backend }));
    }
    const run = (lab, model, seed) => lab.generate('ein Hund im Park', { model, seed }, () => true);
    for (const lab of labs) { await run(lab, 'student', 0); await run(lab, 'teacher', 0); } // warm
    const times = labs.map(() => ({ student: [], teacher: [] }));
    for (let r = 1; r <= runs; r++) {
      for (const model of ['student', 'teacher']) {
        for (let i = 0; i < labs.length; i++) { // A then B in every round
          const t0 = performance.now();
          await run(labs[i], model, r);
          times[i][model].push(performance.now() - t0);
        }
      }
    }
    return times;
  };
</script>`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const opts = parseArgs(process.argv.slice(2));
const root = mkdtempSync(path.join(tmpdir(), 'dlab-builds-'));
try {
  const names = ['a', 'b'];
  opts.dirs.forEach((d, i) => cpSync(d, path.join(root, names[i]), { recursive: true }));
  cpSync(path.join(REPO, 'www/models'), path.join(root, 'models'), { recursive: true });
  writeFileSync(path.join(root, 'index.html'), PAGE);
  const site = await startServer({ port: 0, host: '127.0.0.1', root });
  const browser = await chromium.launch({
    executablePath: process.env.DLAB_E2E_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(30 * 60_000);
    await page.goto(site.url);
    await page.waitForFunction(() => typeof window.bench === 'function');
    const { runs, backend } = opts;
    const times = await page.evaluate(({ builds, runs, backend }) => window.bench(builds, runs, backend), { builds: names, runs, backend });
    const rows = names.map((n, i) => {
      const wasm = path.join(root, n, 'diffusion_lab_bg.wasm');
      return {
        label: opts.labels[i],
        mb: statSync(wasm).size / 1e6,
        gzMb: gzipSync(readFileSync(wasm), { level: 9 }).length / 1e6,
        student: median(times[i].student),
        teacher: median(times[i].teacher),
      };
    });
    const where = backend === 'cpu' ? 'CPU path (wasm)' : 'WebGPU on SwiftShader';
    console.log(`${where} in Chromium, prompt "ein Hund im Park", ${runs} runs each, medians, builds taking turns`);
    console.log('| build | wasm MB | gzip MB | student image ms | teacher image ms |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.label} | ${r.mb.toFixed(2)} | ${r.gzMb.toFixed(2)} | ${r.student.toFixed(0)} | ${r.teacher.toFixed(0)} |`);
    const [a, b] = rows;
    console.log(`| ${b.label} ÷ ${a.label} | ${(b.mb / a.mb).toFixed(2)} | ${(b.gzMb / a.gzMb).toFixed(2)} | ${(b.student / a.student).toFixed(2)} | ${(b.teacher / a.teacher).toFixed(2)} |`);
  } finally {
    await browser.close();
    site.server.close();
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
