// The reverse view's run: the form's values checked, the options for the Lab, and the picture
// made step by step (the timeline draws each step; the `step` and `done` events report them).

import { drawRgba } from './draw.js';
import { checkGuidance } from './inputs.js';

export class ReverseRun {
  constructor(host) {
    this.host = host;
  }

  /** The reverse form's values, checked; throws a LabError (input) that names the field. */
  readInputs() {
    const h = this.host;
    const { prompt: promptInput, steps: stepsInput, seed: seedInput, guidance: guidanceInput } = h.el;
    for (const input of [promptInput, stepsInput, seedInput, guidanceInput]) input.removeAttribute('aria-invalid');
    const prompt = h.checkPrompt(promptInput);
    const steps = h.checkWhole(stepsInput, h.limits.stepsMin, h.settings.stepsMax(), 'errSteps');
    const seed = h.checkSeed(seedInput);
    const guidance = checkGuidance(guidanceInput, h.limits);
    return { prompt, steps, seed, guidance };
  }

  /** The options for the Lab, checked against the loaded model. */
  options(values) {
    const h = this.host;
    const models = h.models;
    const chosen = h.settings.modelKind;
    const kind = models[chosen] ? chosen : models.default;
    const spec = models[kind];
    if (values.steps > spec.maxSteps) {
      throw h.invalidInput(h.el.steps, 'errSteps', { min: h.limits.stepsMin, max: spec.maxSteps });
    }
    const options = { model: kind, steps: values.steps, seed: values.seed };
    if (spec.guidance != null) {
      if (values.guidance !== null) options.guidance = values.guidance;
      const sampler = h.settings.sampler();
      if (sampler) options.sampler = sampler;
    }
    return { kind, spec, options };
  }

  run(values) {
    const h = this.host;
    h.jobs.run = { done: 0, total: 0 };
    let began = false;
    return h.runLoaded(async () => {
      const { kind, spec, options } = this.options(values);
      h.jobs.run.total = values.steps;
      h.setStatus('statusStarting');
      h.timeline.begin(values.steps, {
        model: kind,
        guidance: spec.guidance == null ? null : (options.guidance ?? spec.guidance),
        sampler: spec.guidance == null ? 'ddim' : (options.sampler ?? spec.sampler),
        timesteps: values.steps === spec.steps ? spec.timesteps : null,
      });
      began = true;
      const res = await h.runJob('generate', { prompt: values.prompt, options }, (s) => this.onStep(s, kind));
      const model = res.model || kind;
      const final = {
        image: res.image, width: res.width, height: res.height,
        prompt: values.prompt, seed: values.seed, model, steps: res.steps,
      };
      drawRgba(h.$('xt'), res.image, res.width, res.height);
      h.timeline.finish(final);
      h.lastImage = final;
      h.forwardPanel.onGenerated();
      const { backend } = res;
      const detail = {
        ms: res.ms, backend, model, steps: res.steps, passes: res.passes,
        width: res.width, height: res.height, prompt: values.prompt, seed: values.seed,
      };
      h.setStatus(res.steps === 1 ? 'statusDoneOne' : 'statusDone', {
        steps: res.steps,
        seconds: h.number(res.ms / 1000, 1),
        backend: h.t(backend === 'cpu' ? 'backendShortCpu' : 'backendShortWebgpu'),
      });
      h.emit('done', detail);
      return detail;
    }, () => {
      if (began) h.timeline.abort();
    });
  }

  onStep(s, model) {
    const h = this.host;
    h.jobs.run = { done: s.index + 1, total: s.total };
    h.timeline.onStep(s);
    // The status line is a live region: announce the run once, not every step.
    if (s.index === 0) h.setStatus('statusGenerating', { total: s.total });
    h.emit('step', { index: s.index, total: s.total, t: s.t, ms: s.ms, panel: 'reverse', model });
  }
}
