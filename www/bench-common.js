// What the browser benchmark (bench.js) and the Dawn benchmark in Node (scripts/bench-dawn.mjs)
// share: statistics, the deterministic inputs both feed to every runtime, and one timed image.

export const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export const median = (xs) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const errMsg = (e) => (e && e.message) || String(e);

/** Deterministic normal samples (mulberry32 + Box-Muller): the same inputs in every runtime. */
export function randn(n, seed) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  return out;
}

export function maxAbsDiff(a, b) {
  if (!a || !b || a.length !== b.length) return null;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** One image with our Lab: its time, each step's time and the denoiser passes it took. */
export async function generateOnce(lab, prompt, model, steps, seed) {
  const stepMs = [];
  const s = performance.now();
  const res = await lab.generate(prompt, { model, steps, seed }, (st) => { stepMs.push(st.ms); });
  return { ms: performance.now() - s, stepMs, passes: res.passes };
}
