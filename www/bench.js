// The browser benchmark: our WGSL kernels on WebGPU, the candle CPU path in wasm, and
// onnxruntime-web (WebGPU and wasm execution providers) on the same UNet. Figures, not a test.
//
// bench.html?suite=…
//   all      (default) everything below on this profile
//   ttfi     time to first image from navigation start (default model and steps) + download sizes;
//            a cold cache needs a fresh browser profile (scripts/bench.mjs opens a new context)
//   main     per step / per image (teacher 4 and 30 steps, student 4), text encoder, load, GPU bytes;
//            &backends=webgpu,cpu
//   compare  parity (ours vs ort-web, same x, t, text; max abs diff <= 1e-3), then one pass timed
//            at batch 2 (teacher) and 1 (student) on each runtime
//   parity   compare's parity check alone, ours WebGPU vs ort-web WebGPU (tests/e2e/bench.test.mjs)
//   stability  (not in "all": long) the default model on WebGPU, one warm-up generation and then
//            &runs=N more (default 1000, quick 50; seeds vary) in this page: per-step times, and
//            WebGPU objects, GPU buffers and memory after the warm-up against the end
//            (www/gpu-counters.js wraps the WebGPU API before the Lab makes its device)
// &quick=1 fewer runs, &runs=N warm runs per 4-step image (default 3, quick 1), &runs30=N for the
// 30-step image (default 1: 29 steps to average), &passes=N timed passes, &manifest=URL.
// The ONNX files and ort-web's files come from scripts/bench-prepare.mjs (www/bench-build/bench.json).
//
// Results: window.__bench = {done, ok, error, results, log}; the page prints them as markdown.

import init, { Lab } from './pkg/diffusion_lab.js';
import { markdown } from './bench-report.js';
import { installGpuCounters } from './gpu-counters.js';
import { errMsg, generateOnce, maxAbsDiff, mean, median, randn } from './bench-common.js';

const params = new URLSearchParams(location.search);
const flag = (k) => params.has(k) && !['0', 'false'].includes(params.get(k));
const QUICK = flag('quick');
const SUITE = params.get('suite') || 'all';
const RUNS = Number(params.get('runs') || (QUICK ? 1 : 3));
const PASSES = Number(params.get('passes') || (QUICK ? 2 : 5));
const STABILITY_RUNS = Number(params.get('runs') || (QUICK ? 50 : 1000));
const PROMPT = params.get('prompt') || 'dog';
export const TOLERANCE = 1e-3;

const state = { done: false, ok: false, error: null, results: { suite: SUITE, quick: QUICK }, log: [] };
window.__bench = state;
const $ = (id) => document.getElementById(id);

function log(msg) {
  console.log(`[bench] ${msg}`);
  state.log.push(msg);
  $('log').textContent += msg + '\n';
}


async function benchConfig() {
  try {
    const r = await fetch('./bench-build/bench.json', { cache: 'no-store' });
    if (r.ok) return await r.json();
  } catch { /* not prepared: the real manifest, no ort-web */ }
  return null;
}

/** A file's size as stored (a HEAD's Content-Length would be the gzip size where the server compresses). */
async function sizeOf(url) {
  const r = await fetch(url, { cache: 'no-store' });
  return r.ok ? (await r.arrayBuffer()).byteLength : null;
}

/** What a first visit downloads, as files (uncompressed): the manifest's files and www/pkg; the
 * time-to-first-image rows give the bytes that really went over the network. */
async function downloadSizes(manifestUrl) {
  const m = await (await fetch(manifestUrl, { cache: 'no-store' })).json();
  const pkg = {};
  for (const f of ['diffusion_lab_bg.wasm', 'diffusion_lab.js']) pkg[f] = await sizeOf(`./pkg/${f}`);
  return {
    manifest: manifestUrl,
    modelFiles: Object.fromEntries(m.files.map((f) => [f.name, f.bytes])),
    modelBytes: m.files.reduce((s, f) => s + f.bytes, 0),
    pkg,
    pkgBytes: Object.values(pkg).reduce((s, b) => s + (b ?? 0), 0),
  };
}

/** From navigation start to the first finished image: page, wasm, model files, one generate(). */
async function suiteTtfi(manifestUrl) {
  const tModule = performance.now();
  await init();
  const tInit = performance.now();
  const lab = await Lab.load(manifestUrl, () => {}, {});
  const tLoad = performance.now();
  const model = lab.models.default;
  const res = await lab.generate(PROMPT, { model, seed: 1 }, () => {});
  const tDone = performance.now();
  const entries = performance.getEntriesByType('resource');
  const out = {
    manifest: manifestUrl,
    backend: lab.backend,
    adapter: lab.adapter,
    model,
    steps: res.steps,
    msToFirstImage: tDone,
    msModuleStart: tModule,
    msWasmInit: tInit - tModule,
    msLoad: tLoad - tInit,
    msGenerate: tDone - tLoad,
    transferredBytes: entries.reduce((s, e) => s + (e.transferSize || 0), 0),
    requests: entries.length,
  };
  lab.free();
  log(`ttfi: ${out.msToFirstImage.toFixed(0)} ms to the first image (${model}, ${res.steps} steps, ${out.backend}), `
    + `${(out.transferredBytes / 1e6).toFixed(1)} MB transferred`);
  return out;
}

/** Per step and per image on one backend, plus text encoder, load time and GPU buffer bytes. */
async function suiteMain(manifestUrl, backend, standIn) {
  const t0 = performance.now();
  const lab = await Lab.load(manifestUrl, () => {}, { backend: backend === 'cpu' ? 'cpu' : 'webgpu' });
  const out = {
    requested: backend,
    backend: lab.backend,
    adapter: lab.adapter,
    fallbackReason: lab.fallbackReason,
    loadMs: performance.now() - t0,
    gpuBufferBytes: lab.gpuBufferBytes,
    models: lab.models,
    runs: [],
  };
  log(`main/${backend}: loaded on ${lab.backend}${lab.adapter ? ` (${lab.adapter})` : ''} in ${out.loadMs.toFixed(0)} ms, `
    + `GPU buffers ${(out.gpuBufferBytes / 1e6).toFixed(1)} MB`);
  // cold: the first prompt after load; warm: five other new prompts; cached: the first again
  // (the encoder keeps the last prompts' embeddings, src/text.rs)
  const timeEncode = (prompt) => {
    const s = performance.now();
    lab.encodeText(prompt);
    return performance.now() - s;
  };
  const te = [PROMPT, 'cat face', 'Hund', 'roter Apfel', 'a slice of pizza', 'Sonnenblume'].map(timeEncode);
  const cached = [0, 1, 2].map(() => timeEncode(PROMPT));
  out.textEncoder = { cold: te[0], warm: mean(te.slice(1)), cached: mean(cached), runs: te };
  log(`main/${backend}: text encoder ${out.textEncoder.warm.toFixed(1)} ms warm, ${te[0].toFixed(1)} ms cold, `
    + `${out.textEncoder.cached.toFixed(2)} ms cached`);

  // cold = the model's first image after load (the teacher runs first); warm = mean of the runs after it
  const plan = [{ model: 'teacher', steps: 4, cold: true, warm: RUNS }];
  plan.push({ model: 'teacher', steps: 30, cold: false, warm: Number(params.get('runs30') || 1) });
  if (lab.models.student) plan.push({ model: 'student', steps: lab.models.student.steps, cold: true, warm: RUNS });
  let seed = 1;
  for (const p of plan) {
    const cold = p.cold ? await generateOnce(lab, PROMPT, p.model, p.steps, seed++) : null;
    const warm = [];
    for (let i = 0; i < p.warm; i++) warm.push(await generateOnce(lab, PROMPT, p.model, p.steps, seed++));
    const run = {
      model: p.model,
      standIn: p.model === 'student' && standIn,
      steps: p.steps,
      passes: (cold ?? warm[0]).passes,
      perImageCold: cold?.ms ?? null,
      firstStepCold: cold?.stepMs[0] ?? null,
      perImageWarm: mean(warm.map((w) => w.ms)),
      // step 0 also encodes the prompt: leave it out of the per-step figure
      perStepWarm: mean(warm.flatMap((w) => w.stepMs.slice(1))),
      warmImages: warm.map((w) => w.ms),
    };
    out.runs.push(run);
    log(`main/${backend}: ${p.model} ${p.steps} steps: ${run.perImageWarm?.toFixed(0)} ms/image warm `
      + `(${run.perStepWarm?.toFixed(0)} ms/step), cold ${run.perImageCold?.toFixed(0) ?? '—'} ms`);
  }
  lab.free();
  return out;
}

/** Counters, GPU bytes and memory at one moment of the stability suite. */
function stabilitySnapshot(counters, lab, wasm) {
  // A full GC first where the browser allows it (scripts/bench.mjs passes --expose-gc), so that the
  // JS heap is what is still reachable, not garbage that has not been collected yet.
  globalThis.gc?.();
  return {
    ...counters.snapshot(),
    labGpuBufferBytes: lab.gpuBufferBytes,
    // Chromium only; rounded unless it runs with --enable-precise-memory-info (scripts/bench.mjs)
    jsHeapBytes: performance.memory?.usedJSHeapSize ?? null,
    // wasm linear memory never shrinks: it shows the Rust heap's high-water mark, so growth after
    // the warm-up means the Rust side needed more than in the first image
    wasmMemoryBytes: wasm.memory.buffer.byteLength,
  };
}

/**
 * Many generations in one page, for the goal "GPU buffer count and memory do not grow; no step
 * slower than the first warm one by more than 2×". Generation 0 warms up; "warm" is the state
 * after it, "end" the state after `runs` more (seeds 1..runs). Every step of those is timed, as
 * in `lab stability` (src/bin/lab/main.rs); the prompt's embedding comes from the encoder's cache.
 */
async function suiteStability(manifestUrl, counters, wasm, runs) {
  if (!counters) throw new Error('no WebGPU in this browser: the stability suite counts WebGPU objects');
  const lab = await Lab.load(manifestUrl, () => {}, { backend: 'webgpu' }); // it counts WebGPU objects
  const snap = () => stabilitySnapshot(counters, lab, wasm);
  let out;
  try {
    if (lab.backend !== 'webgpu') throw new Error(`the Lab fell back to ${lab.backend}: ${lab.fallbackReason}`);
    const model = lab.models.default;
    const stepsPerImage = lab.models[model].steps;
    out = { backend: lab.backend, adapter: lab.adapter, model, stepsPerImage, generations: runs, afterLoad: snap() };
    log(`stability: ${model}, ${stepsPerImage} steps, on ${lab.backend}${lab.adapter ? ` (${lab.adapter})` : ''}: `
      + `1 warm-up + ${runs} generations`);

    out.warmUpStepMs = (await generateOnce(lab, PROMPT, model, stepsPerImage, 0)).stepMs;
    out.warm = snap();
    const stepMs = [];
    const imageMs = [];
    out.checkpoints = [];
    const every = Math.max(1, Math.round(runs / 10));
    for (let g = 1; g <= runs; g++) {
      const res = await generateOnce(lab, PROMPT, model, stepsPerImage, g);
      stepMs.push(...res.stepMs);
      imageMs.push(res.ms);
      if (g % every === 0 || g === runs) {
        const s = snap();
        const block = median(stepMs.slice(-every * stepsPerImage));
        out.checkpoints.push({ generation: g, medianStepMs: block, liveBuffers: s.liveBuffers, liveBufferBytes: s.liveBufferBytes,
          jsHeapBytes: s.jsHeapBytes, wasmMemoryBytes: s.wasmMemoryBytes });
        log(`stability: ${g}/${runs}: median step ${block.toFixed(0)} ms (last ${every}), live GPU buffers ${s.liveBuffers} `
          + `(${(s.liveBufferBytes / 1e6).toFixed(1)} MB), JS heap ${s.jsHeapBytes == null ? '—' : (s.jsHeapBytes / 1e6).toFixed(1)} MB, `
          + `wasm memory ${(s.wasmMemoryBytes / 1e6).toFixed(1)} MB`);
      }
    }
    out.end = snap();

    // What each generation after the warm-up created or called, on average (0 = nothing grows).
    const per = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, (b[k] - a[k]) / runs]));
    out.perGeneration = { ...per(out.warm.created, out.end.created), ...per(out.warm.calls, out.end.calls),
      liveBuffers: (out.end.liveBuffers - out.warm.liveBuffers) / runs,
      liveBufferBytes: (out.end.liveBufferBytes - out.warm.liveBufferBytes) / runs };

    // the percentiles as `lab stability` picks them
    const sorted = [...stepMs].sort((a, b) => a - b);
    const pick = (q) => sorted[Math.floor((sorted.length - 1) * q)];
    const firstWarm = stepMs[0];
    out.totalSteps = stepMs.length;
    // the goal's ratio is to the first warm step, a single sample that may itself be slow; the
    // ratio to the median is the steadier figure beside it
    out.step = { firstWarm, median: pick(0.5), p99: pick(0.99), max: pick(1), maxOverFirstWarm: pick(1) / firstWarm,
      maxOverMedian: pick(1) / pick(0.5), over2x: stepMs.filter((ms) => ms > 2 * firstWarm).length };
    out.stepMs = stepMs;
    out.imageMs = imageMs;
    log(`stability: ${out.totalSteps} steps: first warm ${firstWarm.toFixed(0)} ms, median ${out.step.median.toFixed(0)}, `
      + `p99 ${out.step.p99.toFixed(0)}, max ${out.step.max.toFixed(0)} (${out.step.maxOverFirstWarm.toFixed(2)}× the first warm step); `
      + `live GPU buffers ${out.warm.liveBuffers} → ${out.end.liveBuffers}`);
    return out;
  } finally {
    lab.free();
    // free() destroys the device (src/gpu/context.rs): no buffer should stay live
    if (out) out.afterFree = counters.snapshot();
  }
}

/**
 * The same (x, t, text) to ours (lab.denoise) and to ort-web; parity first, then timing.
 * Batch 2 = the teacher's guided pass (conditional + unconditional), batch 1 = the student's.
 */
async function suiteCompare(cfg, manifestUrl, { timing, runtimes }) {
  if (!cfg?.onnx) throw new Error('no www/bench-build/bench.json: run scripts/bench.sh (or node scripts/bench-prepare.mjs) first');
  const ort = await import(cfg.ort);
  ort.env.wasm.numThreads = 1; // no cross-origin isolation here, and our candle path is single-threaded too
  ort.env.logLevel = 'error';
  const out = { ortVersion: cfg.ortVersion, tolerance: TOLERANCE, passes: timing ? PASSES : 0, runtimes: {}, batches: {} };

  const labs = [];
  const run = {};
  const teardown = [];
  for (const rt of runtimes) {
    const t0 = performance.now();
    try {
      if (rt === 'oursWebgpu' || rt === 'oursCpu') {
        const lab = await Lab.load(manifestUrl, () => {}, { backend: rt === 'oursCpu' ? 'cpu' : 'webgpu' });
        labs.push(lab);
        if (rt === 'oursWebgpu' && lab.backend !== 'webgpu') throw new Error(`no WebGPU: ${lab.fallbackReason}`);
        run[rt] = (b, x, t, text) => lab.denoise(cfg.onnx[b].model, x, t, text);
        out.runtimes[rt] = { backend: lab.backend, adapter: lab.adapter };
        teardown.push(() => lab.free());
      } else {
        const ep = rt === 'ortWebgpu' ? 'webgpu' : 'wasm';
        const sessions = {};
        for (const b of [2, 1]) {
          sessions[b] = await ort.InferenceSession.create(cfg.onnx[b].url, { executionProviders: [ep], graphOptimizationLevel: 'all' });
        }
        run[rt] = async (b, x, t, text) => {
          const s = sessions[b];
          const feeds = {
            x: new ort.Tensor('float32', x, [b, 3, 32, 32]),
            t: new ort.Tensor('float32', t, [b]),
            text: new ort.Tensor('float32', text, [b, text.length / b]),
          };
          const res = await s.run(feeds);
          const v = res.v;
          const data = v.location === 'cpu' || v.location === undefined ? v.data : await v.getData(true);
          return Float32Array.from(data);
        };
        out.runtimes[rt] = { executionProvider: ep };
        teardown.push(() => Promise.all(Object.values(sessions).map((s) => s.release())));
      }
      out.runtimes[rt].loadMs = performance.now() - t0;
      log(`compare: ${rt} ready in ${out.runtimes[rt].loadMs.toFixed(0)} ms`);
    } catch (e) {
      out.runtimes[rt] = { error: errMsg(e) };
      log(`compare: ${rt} failed: ${errMsg(e)}`);
    }
  }
  const reference = labs[0];
  if (!reference || !run.oursWebgpu) throw new Error(`ours on WebGPU did not load: ${out.runtimes.oursWebgpu?.error}`);
  const emb = reference.encodeText(PROMPT);
  const zeros = new Float32Array(emb.length);
  const cat = (...xs) => {
    const o = new Float32Array(xs.reduce((s, x) => s + x.length, 0));
    let i = 0;
    for (const x of xs) { o.set(x, i); i += x.length; }
    return o;
  };
  const x1 = randn(3 * 32 * 32, 7);
  const inputs = {
    2: { x: cat(x1, x1), t: new Float32Array([600, 600]), text: cat(emb, zeros) },
    1: { x: randn(3 * 32 * 32, 11), t: new Float32Array([800]), text: emb },
  };

  // parity: every runtime against ours on WebGPU (this first call is also the warm-up)
  let ok = true;
  for (const b of [2, 1]) {
    const { x, t, text } = inputs[b];
    const batch = { model: cfg.onnx[b].model, standIn: cfg.onnx[b].model === 'student' && cfg.studentStandIn, outputs: {}, maxAbsDiff: {}, timing: {} };
    for (const rt of Object.keys(run)) {
      try {
        batch.outputs[rt] = await run[rt](b, x, t, text);
      } catch (e) {
        batch.timing[rt] = { error: errMsg(e) };
        log(`compare: ${rt} batch ${b} failed: ${errMsg(e)}`);
      }
    }
    const ref = batch.outputs.oursWebgpu;
    let scale = 0;
    for (const v of ref ?? []) scale = Math.max(scale, Math.abs(v));
    batch.outputMaxAbs = scale;
    for (const rt of Object.keys(batch.outputs)) if (rt !== 'oursWebgpu') batch.maxAbsDiff[rt] = maxAbsDiff(ref, batch.outputs[rt]);
    // the two CPU paths against each other
    if (batch.outputs.oursCpu && batch.outputs.ortWasm) batch.maxAbsDiffCpu = maxAbsDiff(batch.outputs.oursCpu, batch.outputs.ortWasm);
    const d = batch.maxAbsDiff.ortWebgpu;
    batch.parityOk = d != null && d <= TOLERANCE;
    ok &&= batch.parityOk;
    log(`compare: batch ${b} (${batch.model}): max abs diff vs ours WebGPU: `
      + Object.entries(batch.maxAbsDiff).map(([k, v]) => `${k} ${v?.toExponential(2)}`).join(', ')
      + ` (output max |v| ${scale.toFixed(2)}) → ${batch.parityOk ? 'ok' : 'MISMATCH'}`);
    delete batch.outputs;
    out.batches[b] = batch;
  }
  out.parityOk = ok;

  if (timing) {
    if (!ok) log('compare: parity failed: no timing');
    for (const b of ok ? [2, 1] : []) {
      const { x, t, text } = inputs[b];
      const rts = Object.keys(run).filter((rt) => !out.batches[b].timing[rt]?.error);
      const ms = Object.fromEntries(rts.map((rt) => [rt, []]));
      // round robin, so that a busy moment on the machine falls on every runtime alike
      for (let i = 0; i < PASSES; i++) {
        for (const rt of rts) {
          const s = performance.now();
          await run[rt](b, x, t, text);
          ms[rt].push(performance.now() - s);
        }
      }
      for (const rt of rts) {
        const m = ms[rt];
        out.batches[b].timing[rt] = { mean: mean(m), median: median(m), min: Math.min(...m), runs: m };
        log(`compare: batch ${b} ${rt}: ${mean(m).toFixed(1)} ms/pass (min ${Math.min(...m).toFixed(1)})`);
      }
    }
  }
  for (const f of teardown) await f();
  return out;
}

function render() {
  $('tables').innerHTML = '';
  const pre = document.createElement('pre');
  pre.textContent = markdown(state.results);
  $('tables').append(pre);
}

async function main() {
  // before anything makes a WebGPU device: the Lab runs in this window (not in a worker, as in the demo)
  const counters = SUITE === 'stability' ? installGpuCounters() : null;
  // stability needs none of scripts/bench-prepare.mjs's files (without them bench.json is a 404)
  const cfg = SUITE === 'stability' ? null : await benchConfig();
  const realManifest = params.get('manifest') || './models/manifest.json';
  const benchManifest = params.get('manifest') || cfg?.manifest || './models/manifest.json';
  const standIn = !params.get('manifest') && !!cfg?.studentStandIn;
  const r = state.results;
  r.userAgent = navigator.userAgent;
  r.webgpu = !!navigator.gpu;
  r.studentStandIn = standIn;
  $('status').textContent = `running suite “${SUITE}”${QUICK ? ' (quick)' : ''}…`;

  if (SUITE === 'ttfi' || SUITE === 'all') {
    const t = await suiteTtfi(realManifest).catch((e) => ({ error: errMsg(e) }));
    r.ttfi = SUITE === 'all' ? { this: t } : t;
    r.download = await downloadSizes(realManifest);
  }
  if (SUITE === 'main' || SUITE === 'all') {
    await init();
    r.main = {};
    for (const b of (params.get('backends') || 'webgpu,cpu').split(',')) {
      r.main[b] = await suiteMain(benchManifest, b, standIn).catch((e) => ({ error: errMsg(e) }));
      render();
    }
  }
  if (SUITE === 'compare' || SUITE === 'all' || SUITE === 'parity') {
    await init();
    const parityOnly = SUITE === 'parity';
    const runtimes = parityOnly ? ['oursWebgpu', 'ortWebgpu'] : ['oursWebgpu', 'oursCpu', 'ortWebgpu', 'ortWasm'];
    r.compare = await suiteCompare(cfg, benchManifest, { timing: !parityOnly, runtimes }).catch((e) => ({ error: errMsg(e) }));
  }
  if (SUITE === 'stability') {
    const wasm = await init();
    r.stability = await suiteStability(realManifest, counters, wasm, STABILITY_RUNS).catch((e) => ({ error: errMsg(e) }));
  }
  state.ok = (!r.compare || r.compare.parityOk === true) && !r.stability?.error;
}

main()
  .catch((e) => {
    state.error = errMsg(e);
    log(`error: ${state.error}`);
  })
  .finally(() => {
    render();
    state.done = true;
    $('status').textContent = state.error ? `failed: ${state.error}` : 'done';
    if (state.error) $('status').className = 'bad';
  });
