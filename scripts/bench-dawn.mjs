#!/usr/bin/env node
// Our wasm and onnxruntime-web in Dawn, the WebGPU engine inside Chrome, run by Node through the
// npm package `webgpu`: per pass and per image on WebGPU and on the CPU (wasm), dispatches per
// pass, download bytes, time to first image cold and warm. Figures, never pass/fail on timings.
// scripts/bench-dawn.sh packs what it needs and runs it on a machine with only Node.
//
//   node scripts/bench-dawn.mjs [--quick] [--out FILE] [--dawn OPT,OPT] [--all-adapters]
//                               [--suites webgpu,cpu,ttfi] [--swiftshader]
//     --dawn          options for webgpu's create(), e.g. backend=vulkan or "adapter=NVIDIA H100"
//     --all-adapters  one WebGPU table per adapter Dawn lists (default: the one it picks)
//     --suites        webgpu: ours and ORT on Dawn; cpu: our candle path and ORT's wasm EP;
//                     ttfi: time to first image, cold and warm (the page's default backend)
//     --swiftshader   Dawn on Chromium's SwiftShader Vulkan driver (VK_ICD_FILENAMES=
//                     $DLAB_SWIFTSHADER_ICD, default /usr/lib/chromium/vk_swiftshader_icd.json):
//                     a CPU-emulated GPU, to check the WebGPU rows on a machine without a GPU
//
// It needs www/pkg (scripts/build.sh), www/models, and for onnxruntime-web www/bench-build and
// www/vendor/ort (node scripts/bench-prepare.mjs); without those the ORT rows say so.
//
// Every measurement runs in a child process of this script (a fresh Dawn and wasm instance, as a
// fresh browser tab would be; a crash in a GPU driver costs one row, not the run). The children
// play the page's module worker: the global scope looks like a WorkerGlobalScope with fetch, a
// Cache API kept in a folder and navigator.gpu from Dawn, which is all our wasm and wgpu look for.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { errMsg, generateOnce, maxAbsDiff, mean, median, randn } from '../www/bench-common.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WWW = path.join(REPO, 'www');
const SELF = fileURLToPath(import.meta.url);
const PROMPT = 'dog';
const TOLERANCE = 1e-3;
const CHILD_TIMEOUT_MS = 8 * 60_000;
const SWIFTSHADER_ICD = process.env.DLAB_SWIFTSHADER_ICD || '/usr/lib/chromium/vk_swiftshader_icd.json';
let childEnv = process.env;
// the speed goals on a real GPU in Dawn: per pass, per 4-step image, and against ORT WebGPU
const GOALS = { passMs: 1, imageMs: 8, vsOrtWebgpu: 3 };

const args = process.argv.slice(2);
const opt = (name, fallback = null) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const has = (name) => args.includes(name);

// ---------------------------------------------------------------------------------------------
// Child side: a worker-like global, then one job.

/** The Cache API our wasm uses (src/web/files.rs), kept as files: a later process finds them. */
class FolderCache {
  constructor(dir) { this.dir = dir; }
  file(url) { return path.join(this.dir, createHash('sha256').update(String(url)).digest('hex')); }
  async match(url) {
    try { return new Response(await readFile(this.file(url))); } catch { return undefined; }
  }
  async put(url, response) { await writeFile(this.file(url), Buffer.from(await response.arrayBuffer())); }
}

/** What our wasm and wgpu's WebGPU backend look up in a worker: WorkerGlobalScope, location, caches, navigator.gpu. */
function installWorkerGlobals(base, cacheDir, gpu) {
  // src/web/files.rs asks `global instanceof WorkerGlobalScope` before it calls fetch and caches;
  // wgpu only asks whether `WorkerGlobalScope` is defined, then reads navigator.gpu
  globalThis.WorkerGlobalScope = class WorkerGlobalScope {
    static [Symbol.hasInstance](o) { return o === globalThis; }
  };
  globalThis.self = globalThis;
  globalThis.location = new URL(base); // Lab.load resolves the manifest's URL against it
  globalThis.Cache = FolderCache;
  mkdirSync(cacheDir, { recursive: true });
  const cache = new FolderCache(cacheDir);
  globalThis.caches = { open: async () => cache };
  // Node 21+ has a navigator of its own (without gpu); Node 20 has none
  Object.defineProperty(globalThis, 'navigator', {
    value: { gpu, userAgent: `Node ${process.version}`, hardwareConcurrency: os.cpus().length },
    configurable: true, writable: true,
  });
}

/** Dawn's GPU object, or why there is none. The WebGPU classes become globals (as in a browser). */
async function createDawn(dawnOptions) {
  let mod;
  try {
    mod = await import('webgpu');
  } catch (e) {
    return { error: `the npm package webgpu did not load: ${e.message}` };
  }
  Object.assign(globalThis, mod.globals);
  // dawn.node's writeBuffer refuses a view on a SharedArrayBuffer ("Invalid argument"), which
  // Chrome accepts; onnxruntime-web's wasm heap is one (its threaded build): hand Dawn a copy
  const writeBuffer = globalThis.GPUQueue.prototype.writeBuffer;
  globalThis.GPUQueue.prototype.writeBuffer = function (buffer, offset, data, ...rest) {
    return writeBuffer.call(this, buffer, offset, data?.buffer instanceof SharedArrayBuffer ? data.slice() : data, ...rest);
  };
  try {
    return { gpu: mod.create(dawnOptions) };
  } catch (e) {
    return { error: `webgpu create(${JSON.stringify(dawnOptions)}) failed: ${e.message}` };
  }
}

function adapterInfo(adapter) {
  if (!adapter) return null;
  const i = adapter.info ?? {};
  return {
    vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
    isFallbackAdapter: i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? null,
    features: [...(adapter.features ?? [])].sort(),
    maxStorageBufferBindingSize: adapter.limits?.maxStorageBufferBindingSize,
  };
}

/** Counts, from outside our code, the GPU work a call makes (as www/gpu-counters.js does). */
function installDispatchCounter() {
  const n = { dispatches: 0, computePasses: 0, submits: 0, writeBuffers: 0, mapAsyncs: 0 };
  const wrap = (cls, method, key) => {
    const proto = globalThis[cls]?.prototype;
    const original = proto?.[method];
    if (typeof original !== 'function') return;
    proto[method] = function (...a) {
      n[key]++;
      return original.apply(this, a);
    };
  };
  wrap('GPUComputePassEncoder', 'dispatchWorkgroups', 'dispatches');
  wrap('GPUComputePassEncoder', 'dispatchWorkgroupsIndirect', 'dispatches');
  wrap('GPUCommandEncoder', 'beginComputePass', 'computePasses');
  wrap('GPUQueue', 'submit', 'submits');
  wrap('GPUQueue', 'writeBuffer', 'writeBuffers');
  wrap('GPUBuffer', 'mapAsync', 'mapAsyncs');
  return { snapshot: () => ({ ...n }) };
}


function cat(...xs) {
  const o = new Float32Array(xs.reduce((s, x) => s + x.length, 0));
  let i = 0;
  for (const x of xs) { o.set(x, i); i += x.length; }
  return o;
}

/** Our wasm module, its bytes fetched from the server as a page would. */
async function initWasm(base) {
  const wasm = await import(pathToFileURL(path.join(WWW, 'pkg', 'diffusion_lab.js')).href);
  const r = await fetch(new URL('pkg/diffusion_lab_bg.wasm', base));
  if (!r.ok) throw new Error(`pkg/diffusion_lab_bg.wasm: HTTP ${r.status}`);
  await wasm.default({ module_or_path: await r.arrayBuffer() });
  return wasm;
}

/** onnxruntime-web's WebGPU build (www/vendor/ort), its wasm read from disk (Node's fetch takes no file: URLs). */
async function loadOrt(cfg) {
  const ortPath = path.join(WWW, cfg.ort);
  const ort = await import(pathToFileURL(ortPath).href);
  ort.env.wasm.numThreads = 1; // as on the page (not cross-origin isolated); candle is single-threaded too
  ort.env.wasm.wasmBinary = readFileSync(path.join(path.dirname(ortPath), 'ort-wasm-simd-threaded.asyncify.wasm'));
  ort.env.logLevel = 'error';
  return ort;
}

/** Whole images with our Lab: per image cold (the model's first) and warm, per step. */
async function images(lab, quick) {
  const runs = quick ? 1 : 5;
  const out = [];
  let seed = 1;
  const plan = [];
  if (lab.models.student) plan.push({ model: 'student', steps: 4 });
  plan.push({ model: 'teacher', steps: 4 });
  for (const p of plan) {
    const cold = await generateOnce(lab, PROMPT, p.model, p.steps, seed++);
    const warm = [];
    for (let i = 0; i < runs; i++) warm.push(await generateOnce(lab, PROMPT, p.model, p.steps, seed++));
    out.push({
      model: p.model, steps: p.steps, passes: cold.passes,
      perImageCold: cold.ms,
      perImageWarm: mean(warm.map((w) => w.ms)),
      perImageWarmMin: Math.min(...warm.map((w) => w.ms)),
      // step 0 also encodes the prompt (from the encoder's cache after the first run)
      perStepWarm: mean(warm.flatMap((w) => w.stepMs.slice(1))),
      warmImages: warm.map((w) => w.ms),
    });
  }
  return out;
}

/**
 * One denoiser pass on the same (x, t, text) for each runtime: outputs (for the parent's parity
 * check) and times, round robin. Batch 2 = the teacher's guided pass, batch 1 = the student's.
 */
async function passes(runtimes, emb, quick, counter) {
  const n = quick ? 2 : 20;
  const zeros = new Float32Array(emb.length);
  const x1 = randn(3 * 32 * 32, 7);
  const inputs = {
    2: { x: cat(x1, x1), t: new Float32Array([600, 600]), text: cat(emb, zeros) },
    1: { x: randn(3 * 32 * 32, 11), t: new Float32Array([800]), text: emb },
  };
  const out = {};
  for (const b of [2, 1]) {
    const { x, t, text } = inputs[b];
    const batch = { model: b === 2 ? 'teacher' : 'student', outputs: {}, timing: {}, perPass: {} };
    for (const [rt, run] of Object.entries(runtimes)) {
      try {
        // the first call warms up; its GPU work, counted from outside, is one pass
        const before = counter?.snapshot();
        batch.outputs[rt] = Array.from(await run(b, x, t, text));
        if (counter) {
          const after = counter.snapshot();
          batch.perPass[rt] = Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]]));
        }
      } catch (e) {
        batch.timing[rt] = { error: errMsg(e) };
      }
    }
    const ok = Object.keys(batch.outputs);
    const ms = Object.fromEntries(ok.map((rt) => [rt, []]));
    for (let i = 0; i < n; i++) {
      for (const rt of ok) {
        const s = performance.now();
        await runtimes[rt](b, x, t, text);
        ms[rt].push(performance.now() - s);
      }
    }
    for (const rt of ok) batch.timing[rt] = { mean: mean(ms[rt]), median: median(ms[rt]), min: Math.min(...ms[rt]), runs: ms[rt] };
    out[b] = batch;
  }
  return out;
}

/** Dawn's adapter, with the dispatch counter installed; or why there is none. */
async function dawnAdapter(dawnOptions) {
  const dawn = await createDawn(dawnOptions);
  if (dawn.error) return { noAdapter: dawn.error };
  const adapter = await dawn.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { noAdapter: 'Dawn offers no WebGPU adapter here (requestAdapter() gave null)' };
  return { gpu: dawn.gpu, adapterInfo: adapterInfo(adapter), counter: installDispatchCounter() };
}

/** Our Lab on one backend: 'webgpu' (Dawn) or 'cpu' (the candle path in wasm): passes and images. */
async function jobOurs(backend, base, cacheDir, dawnOptions, quick) {
  const res = { backend, dawnOptions };
  let dawn = {};
  if (backend === 'webgpu') {
    dawn = await dawnAdapter(dawnOptions);
    res.adapterInfo = dawn.adapterInfo;
    if (dawn.noAdapter) return { ...res, noAdapter: dawn.noAdapter };
  }
  installWorkerGlobals(base, cacheDir, dawn.gpu);
  const { Lab } = await initWasm(base);
  const t0 = performance.now();
  const lab = await Lab.load(new URL('models/manifest.json', base).href, () => {}, { backend });
  res.loadMs = performance.now() - t0;
  res.lab = { backend: lab.backend, adapter: lab.adapter, softwareAdapter: lab.softwareAdapter,
    fallbackReason: lab.fallbackReason, gpuBufferBytes: lab.gpuBufferBytes };
  if (lab.backend !== backend) {
    lab.free();
    // Dawn gave an adapter and our Lab asked for it: falling back is a failure, not a missing GPU
    return { ...res, error: `our Lab fell back to ${lab.backend} on an adapter Dawn offers: ${lab.fallbackReason}` };
  }
  const encode = (p) => { const s = performance.now(); lab.encodeText(p); return performance.now() - s; };
  const te = [PROMPT, 'cat face', 'Hund', 'roter Apfel', 'a slice of pizza'].map(encode);
  res.textEncoder = { cold: te[0], warm: mean(te.slice(1)) };
  res.embedding = Array.from(lab.encodeText(PROMPT)); // for the ORT process: the same text input
  const ours = backend === 'webgpu' ? 'oursWebgpu' : 'oursCpu';
  const run = (b, x, t, text) => lab.denoise(b === 2 ? 'teacher' : 'student', x, t, text);
  res.passes = await passes({ [ours]: run }, lab.encodeText(PROMPT), quick, dawn.counter);
  res.images = await images(lab, quick);
  lab.free();
  return res;
}

/**
 * onnxruntime-web on one execution provider ('webgpu' on Dawn, or 'wasm'), in a process of its
 * own, as a page of its own would be: beside our wasm in one Node process our CPU pass took 5x
 * as long and one image stalled for 86 s on the 2-core machine (likely V8 finishing its
 * optimised compile of ORT's 27 MB wasm, which takes that long there). The same ONNX files and build as www/bench.html (scripts/bench-prepare.mjs makes them).
 */
async function jobOrt(ep, dawnOptions, quick, embFile) {
  const res = { ep, ort: {} };
  let cfg;
  try { cfg = JSON.parse(readFileSync(path.join(WWW, 'bench-build', 'bench.json'), 'utf8')); } catch {
    return { ...res, ort: { error: 'no www/bench-build/bench.json: run node scripts/bench-prepare.mjs (needs python with torch and onnx)' } };
  }
  let dawn = {};
  if (ep === 'webgpu') {
    dawn = await dawnAdapter(dawnOptions);
    if (dawn.noAdapter) return { ...res, noAdapter: dawn.noAdapter };
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.gpu }, configurable: true, writable: true });
  }
  const name = ep === 'webgpu' ? 'ortWebgpu' : 'ortWasm';
  let run;
  try {
    const t1 = performance.now();
    const ort = await loadOrt(cfg);
    res.ort.version = cfg.ortVersion;
    const sessions = {};
    for (const b of [2, 1]) {
      sessions[b] = await ort.InferenceSession.create(readFileSync(path.join(WWW, cfg.onnx[b].url)),
        { executionProviders: [ep], graphOptimizationLevel: 'all' });
    }
    res.ort.loadMs = performance.now() - t1;
    run = async (b, x, t, text) => {
      const r = await sessions[b].run({
        x: new ort.Tensor('float32', x, [b, 3, 32, 32]),
        t: new ort.Tensor('float32', t, [b]),
        text: new ort.Tensor('float32', text, [b, text.length / b]),
      });
      const v = r.v;
      return v.location === 'cpu' || v.location === undefined ? v.data : await v.getData(true);
    };
  } catch (e) {
    return { ...res, ort: { ...res.ort, error: `onnxruntime-web (${ep}) did not load: ${errMsg(e)}` } };
  }
  const emb = Float32Array.from(JSON.parse(readFileSync(embFile, 'utf8')));
  res.passes = await passes({ [name]: run }, emb, quick, dawn.counter);
  return res;
}

/** Time to first image from process start, as a fresh tab: Dawn, wasm, model files, one generate(). */
async function jobTtfi(base, cacheDir, dawnOptions, backend) {
  let gpu;
  let dawnError = null;
  if (backend !== 'cpu') {
    const dawn = await createDawn(dawnOptions);
    gpu = dawn.gpu;
    dawnError = dawn.error ?? null;
  }
  const tStart = performance.now();
  installWorkerGlobals(base, cacheDir, gpu);
  const { Lab } = await initWasm(base);
  const tInit = performance.now();
  const lab = await Lab.load(new URL('models/manifest.json', base).href, () => {}, { backend });
  const tLoad = performance.now();
  const model = lab.models.default;
  const r = await lab.generate(PROMPT, { model, seed: 1 }, () => {});
  const tDone = performance.now();
  const out = { backend: lab.backend, adapter: lab.adapter, skippedSoftwareAdapter: lab.skippedSoftwareAdapter,
    fallbackReason: lab.fallbackReason, dawnError, model, steps: r.steps,
    msToFirstImage: tDone, msBeforeWasm: tStart, msWasmInit: tInit - tStart, msLoad: tLoad - tInit, msGenerate: tDone - tLoad };
  lab.free();
  return out;
}

/** Which adapter Dawn gives, and the list it prints for an adapter name it does not know. */
async function jobProbe(dawnOptions) {
  const dawn = await createDawn(dawnOptions);
  if (dawn.error) return { error: dawn.error };
  const adapter = await dawn.gpu.requestAdapter({ powerPreference: 'high-performance' });
  const fallback = await dawn.gpu.requestAdapter({ forceFallbackAdapter: true });
  return { adapterInfo: adapterInfo(adapter), fallbackAdapterInfo: adapterInfo(fallback) };
}

async function child() {
  const job = opt('--child');
  const dawnOptions = JSON.parse(opt('--dawn-json', '[]'));
  const base = opt('--base');
  const cacheDir = opt('--cache');
  let result;
  if (job === 'probe') result = await jobProbe(dawnOptions);
  else if (job === 'ttfi') result = await jobTtfi(base, cacheDir, dawnOptions, opt('--backend', 'auto'));
  else if (job.startsWith('ort-')) result = await jobOrt(job.slice(4), dawnOptions, has('--quick'), opt('--embedding'));
  else result = await jobOurs(job, base, cacheDir, dawnOptions, has('--quick'));
  writeFileSync(opt('--json'), JSON.stringify(result));
  // Leave at once, the answer written: Dawn keeps Node alive while its GPU object lives, and an
  // ordinary exit waits for V8 to finish compiling ORT's 27 MB wasm in the background (93 s on
  // the 2-core machine)
  process.kill(process.pid, 'SIGKILL');
}

// ---------------------------------------------------------------------------------------------
// Parent side: the server, the children, the tables.

/**
 * Runs one child job; resolves with its JSON (or {error}), its output and its exit. nodeFlags:
 * --no-liftoff where a job times passes: V8 then compiles each wasm module with its optimising
 * compiler before it runs, so every timed pass runs the code a page that has run a while would
 * (with the default tiering, a short run times the baseline code: ORT's wasm EP took 0.9 s per
 * student pass against 33 ms optimised on the 2-core machine; compiling ORT's 27 MB module so
 * takes 98 s there, less on more cores).
 */
function runChild(job, extra, tmp, nodeFlags = []) {
  const json = path.join(tmp, `${job}-${Math.random().toString(36).slice(2)}.json`);
  const started = Date.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...nodeFlags, SELF, '--child', job, '--json', json, ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
    let output = '';
    p.stdout.on('data', (d) => { output += d; });
    p.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      let result;
      try { result = JSON.parse(readFileSync(json, 'utf8')); } catch {
        result = { error: `the ${job} process ended without a result (exit ${code ?? signal})` };
      }
      result.log = output.trim().split('\n').filter(Boolean).slice(-20);
      result.wallMs = Date.now() - started;
      resolve(result);
    });
  });
}

/** The adapters Dawn lists when asked for one it does not have ("* backend: 'vulkan', name: '…'"). */
async function listAdapters(tmp) {
  const r = await runChild('probe', ['--dawn-json', JSON.stringify(['adapter=no such adapter'])], tmp);
  const names = [];
  // create() throws with the list in its message
  for (const line of [...(r.error ?? '').split('\n'), ...r.log]) {
    const m = line.match(/backend: '([^']*)', name: '([^']*)'/);
    if (m) names.push({ backend: m[1], name: m[2] });
  }
  return names;
}

/** Adds an ORT process's passes (and its errors) to our Lab's results for the same backend. */
function mergeRuns(into, from) {
  into.ort = from.error ? { error: from.error } : from.noAdapter ? { error: from.noAdapter } : from.ort;
  for (const [b, p] of Object.entries(from.passes ?? {})) {
    into.passes ??= {};
    const q = (into.passes[b] ??= { model: p.model, outputs: {}, timing: {}, perPass: {} });
    for (const k of ['outputs', 'timing', 'perPass']) Object.assign(q[k], p[k]);
  }
  into.ortWallMs = from.wallMs;
  into.log = [...(into.log ?? []), ...(from.log ?? [])];
}

const fmtMs = (ms) => (ms == null ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);
const ratio = (a, b) => (a == null || b == null || !b ? '—' : (a / b).toFixed(a / b >= 10 ? 1 : 3));
const mb = (b) => (b == null ? '—' : `${(b / 1e6).toFixed(1)} MB`);

function describeAdapter(g) {
  if (!g) return 'no WebGPU run';
  if (g.noAdapter) return `**no WebGPU adapter**: ${g.noAdapter}`;
  const i = g.adapterInfo ?? {};
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') + ` (isFallbackAdapter ${i.isFallbackAdapter})`;
}

/** The markdown report: one table of passes and one of images per adapter, then the rest. */
function markdown(r) {
  const lines = [];
  const cpu = r.cpu;
  for (const g of r.webgpu) {
    lines.push(`### WebGPU adapter: ${describeAdapter(g)}`, '');
    if (g.noAdapter) lines.push('No WebGPU adapter: the WebGPU columns are empty; the CPU columns still ran.', '');
    if (g.error) lines.push(`**Our WebGPU run failed**: ${g.error}`, '');
    lines.push('One denoiser pass on the same input (mean after a warm-up; ratios time ÷ time, below 1 = ours faster; candle CPU = our wasm CPU path):', '');
    lines.push('| batch (model) | ours WebGPU | ours CPU (candle) | ORT WebGPU | ORT wasm | ours WebGPU ÷ ORT WebGPU | ours WebGPU ÷ ORT wasm | ours WebGPU ÷ candle CPU | ours CPU ÷ ORT wasm | dispatches per pass: ours / ORT |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const b of ['2', '1']) {
      const t = (src, rt) => src?.passes?.[b]?.timing?.[rt]?.mean ?? null;
      const cell = (src, rt, none) => (t(src, rt) != null ? fmtMs(t(src, rt)) : src?.passes?.[b]?.timing?.[rt]?.error ? 'failed' : none);
      const gNone = g.noAdapter ? 'no adapter' : '—';
      const [ow, oc, rw, rc] = [t(g, 'oursWebgpu'), t(cpu, 'oursCpu'), t(g, 'ortWebgpu'), t(cpu, 'ortWasm')];
      const d = (rt) => g.passes?.[b]?.perPass?.[rt]?.dispatches ?? '—';
      lines.push(`| ${b} (${b === '2' ? 'teacher' : 'student'}) | ${cell(g, 'oursWebgpu', gNone)} | ${cell(cpu, 'oursCpu', '—')} | ${cell(g, 'ortWebgpu', gNone)} | `
        + `${cell(cpu, 'ortWasm', '—')} | ${ratio(ow, rw)} | ${ratio(ow, rc)} | ${ratio(ow, oc)} | ${ratio(oc, rc)} | ${d('oursWebgpu')} / ${d('ortWebgpu')} |`);
    }
    lines.push('', 'One image, 4 steps (ours: `lab.generate`, text encoding from its cache after the first run, sampler and read-backs included; '
      + 'ORT: passes × its time per pass, the UNet alone):', '');
    lines.push('| model | passes | ours WebGPU warm | ours WebGPU cold | ours CPU warm | ours CPU cold | ORT WebGPU (passes) | ORT wasm (passes) | ours WebGPU ÷ ORT WebGPU | ours WebGPU ÷ ORT wasm | ours WebGPU ÷ candle CPU | ours CPU ÷ ORT wasm |');
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    const models = (cpu?.images ?? g.images ?? []).map((i) => i.model);
    for (const m of models) {
      const gi = g.images?.find((i) => i.model === m);
      const ci = cpu?.images?.find((i) => i.model === m);
      const passes = gi?.passes ?? ci?.passes;
      const b = m === 'teacher' ? '2' : '1';
      const steps = passes / (m === 'teacher' ? 2 : 1);
      const ortW = g.passes?.[b]?.timing?.ortWebgpu?.mean;
      const ortC = cpu?.passes?.[b]?.timing?.ortWasm?.mean;
      const ortWi = ortW == null ? null : ortW * steps;
      const ortCi = ortC == null ? null : ortC * steps;
      const none = g.noAdapter ? 'no adapter' : '—';
      lines.push(`| ${m} | ${passes} | ${gi ? fmtMs(gi.perImageWarm) : none} | ${gi ? fmtMs(gi.perImageCold) : none} | ${fmtMs(ci?.perImageWarm)} | ${fmtMs(ci?.perImageCold)} | `
        + `${ortWi == null ? none : fmtMs(ortWi)} | ${fmtMs(ortCi)} | ${ratio(gi?.perImageWarm, ortWi)} | ${ratio(gi?.perImageWarm, ortCi)} | `
        + `${ratio(gi?.perImageWarm, ci?.perImageWarm)} | ${ratio(ci?.perImageWarm, ortCi)} |`);
    }
    if (!g.noAdapter && g.passes) {
      const pass = g.passes['1']?.timing?.oursWebgpu?.mean;
      const img = g.images?.find((i) => i.model === 'student')?.perImageWarm;
      const vs = g.passes['1']?.timing?.ortWebgpu?.mean;
      const pp = g.passes['1']?.perPass?.oursWebgpu;
      lines.push('', `Goals (student): a pass ${fmtMs(pass)} (goal ≤ ${GOALS.passMs} ms); a 4-step image ${fmtMs(img)} `
        + `(goal ≤ ${GOALS.imageMs} ms + text encoding, ${fmtMs(g.textEncoder?.warm)} here for a new prompt); `
        + `ORT WebGPU ÷ ours per pass ${vs && pass ? (vs / pass).toFixed(2) : '—'}× (goal ≥ ${GOALS.vsOrtWebgpu}×). `
        + `Our pass on the GPU: ${pp ? `${pp.dispatches} dispatches, ${pp.computePasses} compute passes, ${pp.submits} submits, ${pp.writeBuffers} writeBuffer, ${pp.mapAsyncs} mapAsync` : '—'}; `
        + `Lab.load ${fmtMs(g.loadMs)}, GPU buffers ${mb(g.lab?.gpuBufferBytes)}.`);
    }
    if (g.ort?.error && !g.noAdapter) lines.push('', `ORT WebGPU: ${g.ort.error}`);
    lines.push('');
  }
  if (cpu?.error) lines.push(`CPU rows failed: ${cpu.error}`, '');
  if (cpu?.ort?.error) lines.push(`ORT wasm: ${cpu.ort.error}`, '');
  const par = r.parity;
  if (par) {
    lines.push('Parity, max abs difference on the same x, t and text: '
      + Object.entries(par).map(([b, { reference, ...d }]) => `batch ${b}, against ${reference ?? 'nothing'}: `
        + `${Object.entries(d).map(([k, v]) => `${k} ${v == null ? '—' : v.toExponential(1)}`).join(', ') || '—'}`).join('; ')
      + ` (tolerance ${TOLERANCE}).`, '');
  }
  lines.push('| what | value |', '|---|---|');
  for (const [name, t] of Object.entries(r.ttfi ?? {})) {
    lines.push(`| time to first image, ${name} | ${t.error ? t.error : `${fmtMs(t.msToFirstImage)} from process start (${t.model}, ${t.steps} steps, ${t.backend}${t.adapter ? ` on ${t.adapter}` : ''}${t.skippedSoftwareAdapter ? ', the software adapter passed over' : ''}; `
      + `Node + Dawn ${fmtMs(t.msBeforeWasm)}, wasm ${fmtMs(t.msWasmInit)}, Lab.load ${fmtMs(t.msLoad)}, the image ${fmtMs(t.msGenerate)}; ${mb(t.transferredBytes)} over http)`} |`);
  }
  const d = r.download;
  if (d) lines.push(`| download (first visit) | ${mb(d.filesBytes)} as files = model files ${mb(d.modelBytes)} + www/pkg ${mb(d.pkgBytes)}; ${mb(d.gzipBytes)} gzip-compressed |`);
  return lines.join('\n');
}

/** What a first visit downloads: the manifest's files and www/pkg, as files and gzip-compressed. */
function downloadSizes() {
  const m = JSON.parse(readFileSync(path.join(WWW, 'models', 'manifest.json'), 'utf8'));
  const files = [...m.files.map((f) => path.join(WWW, 'models', f.name)),
    ...['diffusion_lab_bg.wasm', 'diffusion_lab.js'].map((f) => path.join(WWW, 'pkg', f))];
  let gzipBytes = 0;
  for (const f of files) gzipBytes += gzipSync(readFileSync(f)).length;
  const modelBytes = m.files.reduce((s, f) => s + f.bytes, 0);
  const pkgBytes = files.slice(m.files.length).reduce((s, f) => s + readFileSync(f).length, 0);
  return { modelBytes, pkgBytes, filesBytes: modelBytes + pkgBytes, gzipBytes };
}

async function parent() {
  const quick = has('--quick');
  const out = path.resolve(opt('--out', path.join(REPO, 'bench-dawn-results.json')));
  const dawnOptions = (opt('--dawn') ?? '').split(',').filter(Boolean);
  const suites = (opt('--suites') ?? 'webgpu,cpu,ttfi').split(',');
  if (has('--swiftshader')) {
    if (!existsSync(SWIFTSHADER_ICD)) throw new Error(`--swiftshader: no ${SWIFTSHADER_ICD} (Debian's chromium ships it; or set DLAB_SWIFTSHADER_ICD)`);
    childEnv = { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD };
  }
  for (const f of ['pkg/diffusion_lab.js', 'pkg/diffusion_lab_bg.wasm', 'models/manifest.json']) {
    if (!existsSync(path.join(WWW, f))) throw new Error(`www/${f} is missing: run scripts/build.sh (or unpack the bench-dawn.sh pack)`);
  }
  const started = Date.now();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-dawn-'));
  const { startServer } = await import('./serve.mjs');
  const { server, url } = await startServer({ port: 0, host: '127.0.0.1', root: path.relative(REPO, WWW) || '.' });
  // bytes the server sent, per connection: a first visit's transfer (gzip where it compresses)
  let sent = 0;
  server.on('connection', (s) => s.on('close', () => { sent += s.bytesWritten; }));
  const base = url.endsWith('/') ? url : `${url}/`;
  const common = ['--base', base, ...(quick ? ['--quick'] : [])];
  const timing = quick ? [] : ['--no-liftoff'];
  const log = (m) => console.log(`[bench-dawn] ${m}`);

  const results = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`, node: process.version, loadAverageAtStart: os.loadavg()[0] },
    quick, dawnOptions, suites, swiftshader: has('--swiftshader'), webgpu: [],
  };
  try {
    let adapters = [{ options: dawnOptions }];
    // our Lab's prompt embedding, handed to the ORT processes so that both get the same input
    const embFile = path.join(tmp, 'embedding.json');
    const keepEmbedding = (r) => {
      if (r.embedding && !existsSync(embFile)) writeFileSync(embFile, JSON.stringify(r.embedding));
      delete r.embedding;
    };
    if (suites.includes('cpu')) {
      log('CPU rows: our candle path in wasm…');
      results.cpu = await runChild('cpu', [...common, '--cache', path.join(tmp, 'cache-cpu')], tmp, timing);
      keepEmbedding(results.cpu);
      log('CPU rows: onnxruntime-web, wasm…');
      if (existsSync(embFile)) mergeRuns(results.cpu, await runChild('ort-wasm', [...common, '--embedding', embFile], tmp, timing));
    }
    if (suites.includes('webgpu')) {
      const probe = await runChild('probe', ['--dawn-json', JSON.stringify(dawnOptions)], tmp);
      results.probe = probe;
      log(`Dawn (${JSON.stringify(dawnOptions)}): ${probe.error ?? (probe.adapterInfo ? describeAdapter(probe) : 'no adapter')}`);
      for (const l of probe.log) log(`  dawn: ${l}`);
      results.adapters = await listAdapters(tmp);
      log(`Dawn lists ${results.adapters.length} adapter(s)${results.adapters.map((a) => `: ${a.backend} "${a.name}"`).join(',')}`);
      if (has('--all-adapters') && results.adapters.length) {
        adapters = results.adapters.map((a) => ({ options: [...dawnOptions.filter((o) => !o.startsWith('adapter=')), `adapter=${a.name}`] }));
      }
      for (const a of adapters) {
        const dawnJson = ['--dawn-json', JSON.stringify(a.options)];
        log(`WebGPU rows (${JSON.stringify(a.options)}): ours…`);
        const g = await runChild('webgpu', [...common, '--cache', path.join(tmp, 'cache-gpu'), ...dawnJson], tmp, timing);
        // a crash or a fallback where Dawn has an adapter is a failure; without one it is the reason
        if (g.error && !probe.adapterInfo) g.noAdapter = g.error;
        keepEmbedding(g);
        if (!g.noAdapter && !g.error && existsSync(embFile)) {
          log(`WebGPU rows (${JSON.stringify(a.options)}): onnxruntime-web…`);
          mergeRuns(g, await runChild('ort-webgpu', [...common, ...dawnJson, '--embedding', embFile], tmp, timing));
        }
        results.webgpu.push(g);
        log(g.noAdapter ? `no WebGPU adapter: ${g.noAdapter}` : g.error ? `our WebGPU run FAILED: ${g.error}` : `done on ${describeAdapter(g)}`);
      }
    } else results.webgpu.push({ noAdapter: 'not measured (--suites without webgpu)' });

    // cold: an empty Cache API folder; warm: the folder the cold run filled (as a reload). The
    // page's default backend ("auto"): WebGPU on a real GPU, the CPU path on a software adapter.
    results.ttfi = {};
    for (const name of suites.includes('ttfi') ? ['cold', 'warm'] : []) {
      const before = sent;
      await new Promise((r) => setTimeout(r, 50));
      const t = await runChild('ttfi', ['--base', base, '--cache', path.join(tmp, 'cache-ttfi'), '--backend', 'auto',
        '--dawn-json', JSON.stringify(adapters[0].options)], tmp);
      await new Promise((r) => setTimeout(r, 100)); // let the child's sockets close and count
      t.transferredBytes = sent - before;
      results.ttfi[name] = t;
      log(`time to first image, ${name}: ${t.error ?? `${fmtMs(t.msToFirstImage)} (${t.backend})`}`);
    }
    results.download = downloadSizes();
  } finally {
    server.close();
    rmSync(tmp, { recursive: true, force: true });
  }

  // parity: each runtime's output against our candle CPU path (else ours on the first WebGPU
  // adapter); then drop the outputs
  results.parity = {};
  const sources = [results.cpu && { src: results.cpu, tag: '' },
    ...results.webgpu.map((src, i) => ({ src, tag: i > 0 ? ` #${i + 1}` : '' }))].filter(Boolean);
  for (const b of ['2', '1']) {
    const outputs = [];
    for (const { src, tag } of sources) {
      for (const [rt, o] of Object.entries(src.passes?.[b]?.outputs ?? {})) outputs.push({ name: `${rt}${tag}`, o });
      if (src.passes?.[b]) delete src.passes[b].outputs;
    }
    const [ref, ...rest] = outputs.sort((x, y) => (x.name === 'oursCpu' ? -1 : y.name === 'oursCpu' ? 1 : 0));
    results.parity[b] = ref ? { reference: ref.name, ...Object.fromEntries(rest.map((r) => [r.name, maxAbsDiff(ref.o, r.o)])) } : {};
  }
  results.parityOk = Object.values(results.parity).every((d) => Object.entries(d).every(([k, v]) => k === 'reference' || (v != null && v <= TOLERANCE)));
  results.wallSeconds = Math.round((Date.now() - started) / 1000);
  results.machine.loadAverageAtEnd = os.loadavg()[0];
  results.markdown = markdown(results);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n## diffusion-lab in Dawn (npm webgpu, Node ${process.version}; ${results.date.slice(0, 10)}; `
    + `${results.machine.cpus} × ${results.machine.cpuModel}, load average ${results.machine.loadAverageAtStart.toFixed(1)}${quick ? '; --quick' : ''})\n`);
  console.log(results.markdown);
  console.log(`\n[bench-dawn] ${results.wallSeconds} s; results in ${out}`);
  const failed = results.webgpu.filter((g) => g.error).map((g) => g.error);
  if (failed.length) {
    console.error(`[bench-dawn] our WebGPU run failed: ${failed.join('; ')}`);
    process.exitCode = 4;
  }
  if (!results.parityOk) {
    // the ONNX files are exported from the weights as they were when bench-prepare last ran
    console.error('[bench-dawn] a runtime disagrees with our candle path by more than 1e-3: see "parity" '
      + '(if www/models changed since, run node scripts/bench-prepare.mjs to export the ONNX files again)');
    process.exitCode = 3;
  }
}

const main = has('--child') ? child : parent;
main().catch((e) => {
  console.error(`bench-dawn.mjs: ${e.stack || e}`);
  process.exit(1);
});
