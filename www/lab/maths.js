// "Formeln zeigen / Show the maths": the formulas behind the forward and the reverse view, with
// the numbers of what is on screen filled in. Plain text with Unicode symbols (x̂₀, ε̂, √, ᾱ).
// The model predicts v (v-prediction); x̂₀ and ε̂ are computed from it.

/** Forward view at noise level t (ᾱ from the Lab's answer). */
export function renderForwardMaths(host, el, { t, alphaBar }) {
  const n = (v) => host.number(v, 3);
  host.loc.text(el, 'mathsForward', {
    t, alphaBar: n(alphaBar), sa: n(Math.sqrt(alphaBar)), sn: n(Math.sqrt(1 - alphaBar)),
  });
}

/**
 * Reverse view at step `step` of `total` (1-based), taken at timestep t; the next point is at
 * tNext (null after the last step: the sampler lands on x̂₀). `run`: {model, guidance, sampler}.
 */
export function renderReverseMaths(host, el, { step, total, t, tNext, alphaBars, run }) {
  if (!alphaBars || step < 1) {
    host.loc.text(el, 'mathsReverseStart');
    return;
  }
  const n = (v) => host.number(v, 3);
  const a = alphaBars[t];
  const guidance = run?.guidance == null ? host.t('mathsGuidanceStudent') : host.t('mathsGuidanceTeacher', { w: host.number(run.guidance, 1) });
  const params = { step, total, t, sa: n(Math.sqrt(a)), sn: n(Math.sqrt(1 - a)), guidance };
  if (tNext == null) {
    host.loc.text(el, 'mathsReverseLast', params);
    return;
  }
  // while the run goes on, the next timestep may not be known yet: it shows when its step arrives
  const b = tNext === undefined ? null : alphaBars[tNext];
  host.loc.text(el, 'mathsReverse', {
    ...params, tNext: tNext ?? '…', sa2: b === null ? '…' : n(Math.sqrt(b)), sn2: b === null ? '…' : n(Math.sqrt(1 - b)),
    dpm: run?.sampler === 'dpm' ? host.t('mathsDpm') : '',
  });
}
