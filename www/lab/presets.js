// What a teacher sets for the learner on a course page: example prompts to click (`examples`)
// and controls the learner cannot change (`lock`). Both are attributes of <diffusion-lab> and
// URL parameters of embed.html.

/** The controls `lock` can fix, each with the inputs it makes read-only or disabled. */
export const LOCKABLE = Object.freeze(['prompt', 'seed', 'steps', 'model', 'guidance', 'mode']);
const MAX_EXAMPLES = 12;

/** "prompt, seed mode" → {names: ['prompt', 'seed', 'mode'], unknown: []}. */
export function parseLock(text) {
  const words = String(text ?? '').toLowerCase().split(/[\s,]+/).filter(Boolean);
  return {
    names: LOCKABLE.filter((name) => words.includes(name)),
    unknown: words.filter((w) => !LOCKABLE.includes(w)),
  };
}

/** "Hund | Katze||" → ['Hund', 'Katze']: trimmed, no empty or repeated ones, at most MAX_EXAMPLES, each within `maxChars`. */
export function parseExamples(text, maxChars) {
  const seen = new Set();
  const list = [];
  for (const part of String(text ?? '').split('|')) {
    const prompt = part.trim();
    if (!prompt || [...prompt].length > maxChars || seen.has(prompt)) continue;
    seen.add(prompt);
    list.push(prompt);
    if (list.length === MAX_EXAMPLES) break;
  }
  return list;
}

export class Presets {
  constructor(host) {
    this.host = host;
    this.box = host.$('examples');
    this.locked = new Set();
  }

  isLocked(name) {
    return this.locked.has(name);
  }

  /** The example buttons: the attribute's prompts, else the language's own (none for examples=""). */
  renderExamples() {
    const { host, box } = this;
    const attr = host.getAttribute('examples');
    // the prompt's length limit is the wasm's: no examples before it is known
    const list = this.isLocked('prompt') || !host.limits ? []
      : parseExamples(attr ?? host.t('examplePrompts'), host.limits.promptMaxChars);
    for (const old of box.querySelectorAll('button')) old.remove();
    for (const prompt of list) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = prompt;
      button.dir = 'auto';
      button.title = host.t('exampleTitle', { prompt });
      button.disabled = host.busy;
      button.addEventListener('click', () => host.useExample(prompt));
      box.append(button);
    }
    box.hidden = list.length === 0;
  }

  /** Buttons follow the element's busy state like the generate button does. */
  renderButtons() {
    for (const button of this.box.querySelectorAll('button')) button.disabled = this.host.busy;
  }

  applyLock() {
    const { host } = this;
    const raw = host.getAttribute('lock');
    const { names, unknown } = parseLock(raw);
    this.locked = new Set(names);
    host.noteSetting('lock', unknown.length ? {
      value: raw, why: 'whyOneOf', whyParams: { list: LOCKABLE.join(', ') }, fallback: names.join(' ') || '–',
    } : null);
    const $ = host.$;
    const readOnly = { prompt: ['prompt', 'cmp-prompt'], seed: ['seed', 'cmp-seed'], steps: ['steps', 'cmp-steps'], guidance: ['guidance'] };
    for (const [name, ids] of Object.entries(readOnly)) {
      for (const id of ids) {
        const input = $(id);
        input.readOnly = this.locked.has(name);
        input.toggleAttribute('data-locked', this.locked.has(name));
      }
    }
    $('model').toggleAttribute('data-locked', this.locked.has('model'));
    host.renderLocks();
    this.renderExamples();
  }
}
