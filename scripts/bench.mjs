#!/usr/bin/env node
// Runs www/bench.html in headless Chromium (WebGPU on SwiftShader, as the e2e tests do), prints
// markdown tables and writes bench-results.json. Figures, never pass/fail on timings.
// scripts/bench.sh installs and builds first; this driver only needs www/ built and node_modules.
//
//   node scripts/bench.mjs [--quick] [--out bench-results.json] [--suites ttfi,main,compare,stability] [--runs N]
//
// The default suites are ttfi,main,compare. stability (bench.html?suite=stability) is long and
// only runs when named: 1 + 1000 generations in one page (2–3 s each on SwiftShader on the 2-core
// machine, so 35–50 minutes), with --quick 1 + 50 (about 2.5 minutes), with --runs N 1 + N; it
// needs no ONNX files.
// ttfi runs twice: in a fresh browser context (cold: no HTTP cache, no Cache API store) and then
// reloaded in the same context (warm: the model files come from the Cache API store).
// Environment: DLAB_E2E_CHROMIUM (another Chromium), DLAB_E2E_HEADED=1 (show the window).

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from './serve.mjs';
import { prepareBench, REPO } from './bench-prepare.mjs';
import { markdown } from '../www/bench-report.js';

// the same flags as tests/e2e/helpers.mjs
const ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader',
  // for the stability suite's memory figures: a GC before each reading (window.gc), and an exact
  // performance.memory (without the flag Chromium may round it and update it less often)
  '--js-flags=--expose-gc', '--enable-precise-memory-info',
];
const SUITES = ['ttfi', 'main', 'compare', 'stability'];
const PAGE_TIMEOUT = 15 * 60_000;
const STABILITY_TIMEOUT = 3 * 60 * 60_000; // 1,000 generations at a few seconds each

function parseArgs(argv) {
  const o = { quick: false, out: path.join(REPO, 'bench-results.json'), suites: ['ttfi', 'main', 'compare'], runs: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--out') o.out = path.resolve(argv[++i]);
    else if (a === '--runs') {
      o.runs = Number(argv[++i]);
      if (!Number.isInteger(o.runs) || o.runs < 1) {
        console.error('bench.mjs: --runs takes a whole number of generations, at least 1');
        process.exit(2);
      }
    }
    else if (a === '--suites') {
      o.suites = argv[++i].split(',');
      const unknown = o.suites.filter((s) => !SUITES.includes(s));
      if (unknown.length) {
        console.error(`bench.mjs: unknown suite ${unknown.join(', ')} (known: ${SUITES.join(', ')})`);
        process.exit(2);
      }
    } else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/bench.mjs [--quick] [--out bench-results.json] [--suites ttfi,main,compare,stability] [--runs N]');
      process.exit(0);
    } else {
      console.error(`bench.mjs: unknown argument ${a} (try --help)`);
      process.exit(2);
    }
  }
  return o;
}

async function runPage(context, baseUrl, query, timeout = PAGE_TIMEOUT) {
  const page = await context.newPage();
  page.on('console', (m) => {
    const text = m.text();
    if (text.startsWith('[bench]')) console.log(text);
    else if (m.type() === 'error') console.error(`  page console.error: ${text}`);
  });
  page.on('pageerror', (e) => console.error(`  page error: ${e.message}`));
  const url = new URL(`bench.html?${query}`, baseUrl).href;
  console.log(`[bench] open ${url}`);
  await page.goto(url);
  await page.waitForFunction(() => window.__bench?.done, null, { timeout, polling: 500 });
  const state = await page.evaluate(() => window.__bench);
  await page.close();
  if (state.error) console.error(`[bench] ${query}: ${state.error}`);
  return state.results;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  // the ONNX export and ort-web are for the other suites; stability alone needs neither
  const cfg = opts.suites.some((s) => s !== 'stability') ? prepareBench() : { studentStandIn: false };
  const q = opts.quick ? '&quick=1' : '';
  const { server, url } = await startServer({ port: 0, host: '127.0.0.1', root: 'www' });
  const browser = await chromium.launch({
    executablePath: process.env.DLAB_E2E_CHROMIUM || '/usr/bin/chromium',
    headless: process.env.DLAB_E2E_HEADED !== '1',
    args: ARGS,
  });
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
      loadAverageAtStart: os.loadavg()[0],
    },
    browser: `Chromium ${browser.version()}, headless, WebGPU on SwiftShader`,
    quick: opts.quick,
    studentStandIn: cfg.studentStandIn,
    onnx: cfg.onnx,
    ortVersion: cfg.ortVersion,
  };
  try {
    const context = await browser.newContext();
    if (opts.suites.includes('ttfi')) {
      const cold = await runPage(context, url, `suite=ttfi${q}`);
      const warm = await runPage(context, url, `suite=ttfi${q}`);
      results.ttfi = { cold: cold.ttfi, warm: warm.ttfi };
      results.download = cold.download;
    }
    if (opts.suites.includes('main')) {
      results.main = {};
      for (const b of ['webgpu', 'cpu']) {
        const r = await runPage(context, url, `suite=main&backends=${b}${q}`);
        results.main[b] = r.main?.[b] ?? { error: 'no result' };
      }
    }
    if (opts.suites.includes('compare')) {
      results.compare = (await runPage(context, url, `suite=compare${q}`)).compare;
    }
    if (opts.suites.includes('stability')) {
      const runs = opts.runs ? `&runs=${opts.runs}` : '';
      results.stability = (await runPage(context, url, `suite=stability${q}${runs}`, STABILITY_TIMEOUT)).stability ?? { error: 'no result' };
    }
    await context.close();
  } finally {
    await browser.close();
    server.close();
  }
  results.wallSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.loadAverageAtEnd = os.loadavg()[0];
  writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n## diffusion-lab browser benchmark (${results.date.slice(0, 10)}; ${results.browser}; `
    + `${results.machine.cpus} cores, load average ${results.machine.loadAverageAtStart.toFixed(1)} → `
    + `${results.machine.loadAverageAtEnd.toFixed(1)}${opts.quick ? '; --quick' : ''})\n`);
  if (cfg.studentStandIn) console.log('The student is a stand-in (the teacher\'s weights, same config and cost): www/models has no student yet.\n');
  console.log(markdown(results));
  console.log(`\n[bench] ${results.wallSeconds} s; results in ${path.relative(process.cwd(), opts.out) || opts.out}`);
  if (results.compare && results.compare.parityOk === false) {
    console.error('[bench] ours and onnxruntime-web disagree by more than 1e-3: see compare.batches[*].maxAbsDiff');
    process.exitCode = 3;
  }
}

main().catch((e) => {
  console.error(`bench.mjs: ${e.stack || e}`);
  process.exit(1);
});
