// Turns benchmark results (www/bench.js, scripts/bench.mjs) into markdown tables. Plain ES module
// without browser or node APIs: the page and the node driver both import it.

export const fmtMs = (ms) => (ms == null || Number.isNaN(ms) ? '—'
  : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 1 ? 2 : ms < 10 ? 1 : 0)} ms`);
export const fmtMB = (b) => (b == null ? '—' : `${(b / 1e6).toFixed(1)} MB`);
const fmtRatio = (a, b) => (a && b ? `${(a / b).toFixed(2)}` : '—');
const fmtErr = (e) => (e == null ? '—' : e.toExponential(1));

const BACKEND_NAMES = { webgpu: 'ours, WebGPU (WGSL)', cpu: 'ours, candle CPU (wasm)' };
const RUNTIMES = {
  oursWebgpu: 'ours WebGPU',
  oursCpu: 'ours CPU',
  ortWebgpu: 'ort-web WebGPU',
  ortWasm: 'ort-web wasm',
};

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function generationTable(main) {
  const rows = [];
  for (const [key, b] of Object.entries(main)) {
    if (b.error) {
      rows.push([BACKEND_NAMES[key] ?? key, `error: ${b.error}`, '', '', '', '']);
      continue;
    }
    const name = b.backend === key ? BACKEND_NAMES[key] : `${BACKEND_NAMES[key]} → fell back to ${b.backend}`;
    for (const run of b.runs) {
      rows.push([name, `${run.model}${run.standIn ? ' (stand-in)' : ''}, ${run.steps} steps`, run.passes,
        fmtMs(run.perStepWarm), fmtMs(run.perImageWarm), fmtMs(run.perImageCold)]);
    }
  }
  return table(['backend', 'model, steps', 'UNet passes', 'per step (warm)', 'per image (warm)', 'per image (cold)'], rows);
}

export function loadTable(r) {
  const rows = [];
  const d = r.download;
  if (d) {
    rows.push(['download: model files (manifest, uncompressed)', fmtMB(d.modelBytes)]);
    rows.push(['download: www/pkg (wasm + js, uncompressed)', fmtMB(d.pkgBytes)]);
    rows.push(['download: total, uncompressed (the network carries less where the server gzips)', fmtMB(d.modelBytes + d.pkgBytes)]);
  }
  const ttfi = r.ttfi ?? {};
  for (const [label, t] of [['cold cache (fresh profile)', ttfi.cold], ['warm cache (same profile, reload)', ttfi.warm], ['this page load', ttfi.this]]) {
    if (!t) continue;
    if (t.error) { rows.push([`time to first image, ${label}`, `error: ${t.error}`]); continue; }
    rows.push([`time to first image, ${label}`,
      `${fmtMs(t.msToFirstImage)} (${t.model}, ${t.steps} steps, ${t.backend}; load ${fmtMs(t.msLoad)}, `
      + `image ${fmtMs(t.msGenerate)}; ${fmtMB(t.transferredBytes)} over the network)`]);
  }
  for (const [key, b] of Object.entries(r.main ?? {})) {
    if (b.error) continue;
    rows.push([`text encoder, one prompt (${key} lab)`, `${fmtMs(b.textEncoder.warm)} warm, ${fmtMs(b.textEncoder.cold)} cold, ${fmtMs(b.textEncoder.cached)} for a prompt seen before (cached)`]);
    rows.push([`Lab.load from cached files (${key})`, fmtMs(b.loadMs)]);
    if (b.backend === 'webgpu') rows.push(['peak GPU buffers (ours, all plans, allocated at load)', fmtMB(b.gpuBufferBytes)]);
  }
  return rows.length ? table(['what', 'value'], rows) : '';
}

export function compareTable(c) {
  if (c.error) return `compare: error: ${c.error}`;
  const present = Object.keys(RUNTIMES).filter((k) => c.runtimes?.[k]);
  const pairs = ['oursWebgpu', 'oursCpu'].flatMap((o) => ['ortWebgpu', 'ortWasm'].map((t) => [o, t]))
    .filter(([o, t]) => present.includes(o) && present.includes(t));
  const rows = [];
  for (const b of Object.keys(c.batches).sort().reverse()) {
    const batch = c.batches[b];
    const cells = [`${b} (${batch.model}${batch.standIn ? ', stand-in' : ''})`];
    for (const k of present) {
      const t = batch.timing?.[k];
      cells.push(t?.error ? 'error' : t ? fmtMs(t.mean) : '—');
    }
    const mean = (k) => batch.timing?.[k]?.mean;
    for (const [ours, theirs] of pairs) cells.push(fmtRatio(mean(ours), mean(theirs)));
    cells.push(fmtErr(batch.maxAbsDiff?.ortWebgpu));
    if (present.includes('oursCpu') && present.includes('ortWasm')) cells.push(fmtErr(batch.maxAbsDiffCpu));
    rows.push(cells);
  }
  const header = ['batch (model)', ...present.map((k) => RUNTIMES[k]),
    ...pairs.map(([o, t]) => `${RUNTIMES[o]} ÷ ${RUNTIMES[t]}`), 'max abs diff, WebGPU: ours vs ort'];
  if (present.includes('oursCpu') && present.includes('ortWasm')) header.push('max abs diff, CPU: ours vs ort');
  return table(header, rows);
}

const fmtN = (n) => (n == null ? '—' : Number.isInteger(n) ? n.toLocaleString('en-US') : n.toFixed(2));

/** The stability suite: step times, then what was alive or created after the warm-up and at the end. */
export function stabilityTables(st) {
  if (st.error) return `stability: error: ${st.error}`;
  const { step, warm, end, perGeneration: per } = st;
  const times = table(['what', 'value'], [
    ['generations (after 1 warm-up)', fmtN(st.generations)],
    ['steps timed', fmtN(st.totalSteps)],
    ['first warm step', fmtMs(step.firstWarm)],
    ['median step', fmtMs(step.median)],
    ['p99 step', fmtMs(step.p99)],
    ['slowest step', fmtMs(step.max)],
    ['slowest ÷ first warm step (goal ≤ 2)', step.maxOverFirstWarm.toFixed(2)],
    ['slowest ÷ median step', step.maxOverMedian.toFixed(2)],
    ['steps over 2× the first warm one', fmtN(step.over2x)],
    ['live GPU buffers after `lab.free()`', st.afterFree ? `${fmtN(st.afterFree.liveBuffers)} (${fmtMB(st.afterFree.liveBufferBytes)})` : '—'],
  ]);
  const rows = [
    ['live GPU buffers (created − destroyed)', fmtN(warm.liveBuffers), fmtN(end.liveBuffers), fmtN(per.liveBuffers)],
    ['live GPU buffer bytes', fmtMB(warm.liveBufferBytes), fmtMB(end.liveBufferBytes), fmtN(per.liveBufferBytes)],
    ['`lab.gpuBufferBytes`', fmtMB(warm.labGpuBufferBytes), fmtMB(end.labGpuBufferBytes), '—'],
    ['JS heap used (`performance.memory`)', fmtMB(warm.jsHeapBytes), fmtMB(end.jsHeapBytes), '—'],
    ['wasm memory', fmtMB(warm.wasmMemoryBytes), fmtMB(end.wasmMemoryBytes), '—'],
  ];
  for (const [label, key] of [['buffers', 'buffers'], ['bind groups', 'bindGroups'], ['compute pipelines', 'computePipelines'],
    ['render pipelines', 'renderPipelines'], ['shader modules', 'shaderModules'], ['command encoders', 'commandEncoders']]) {
    rows.push([`${label} created`, fmtN(warm.created[key]), fmtN(end.created[key]), fmtN(per[key])]);
  }
  for (const [label, key] of [['`queue.submit` calls', 'submits'], ['`queue.writeBuffer` calls', 'writeBuffers'],
    ['`buffer.mapAsync` calls', 'mapAsyncs'], ['`buffer.destroy` calls', 'buffersDestroyed']]) {
    rows.push([label, fmtN(warm.calls[key]), fmtN(end.calls[key]), fmtN(per[key])]);
  }
  const counts = table(['counter', 'after the warm-up', 'at the end', 'per generation'], rows);
  return `${times}\n\n${counts}`;
}

/** All tables for whatever the results hold. */
export function markdown(r) {
  const parts = [];
  if (r.main && Object.keys(r.main).length) parts.push('One image (time per step excludes the first step, which also encodes the prompt when it is new):\n\n' + generationTable(r.main));
  const lt = loadTable(r);
  if (lt) parts.push('Load, download, memory:\n\n' + lt);
  if (r.compare) {
    parts.push(`One denoiser pass, same input on each runtime (mean of ${r.compare.passes ?? '?'} after a warm-up; ratios are time ÷ time, below 1 = ours faster):\n\n`
      + compareTable(r.compare));
  }
  if (r.stability) {
    const st = r.stability;
    parts.push(st.error ? stabilityTables(st)
      : `Stability: ${st.generations} generations in one page (${st.model}, ${st.stepsPerImage} steps, ${st.backend}; `
        + 'every step after the warm-up timed, the prompt embedding from the encoder cache; counters wrap the WebGPU API, '
        + 'a buffer neither destroy()ed nor on a destroyed device counts as live):\n\n' + stabilityTables(st));
  }
  return parts.join('\n\n');
}
