// Every string the <diffusion-lab> element shows, in German (i18n/de.js) and English (i18n/en.js).
// Error leads are keyed by what ran and the error's code: `err{Load|Generate|Forward}_{code}`.
// `{name}` placeholders are filled in by `format()`.

import de from './i18n/de.js';
import en from './i18n/en.js';

export const messages = { de, en };

export const LANGS = Object.keys(messages);

/** "de-AT" → "de", anything unknown → "en". */
export function pickLang(value) {
  const short = String(value || '').toLowerCase().split(/[-_]/)[0];
  return LANGS.includes(short) ? short : 'en';
}

/** Looks up `key` in `lang` (falling back to English) and fills `{name}` placeholders. */
export function format(lang, key, params = {}) {
  const table = messages[lang] ?? messages.en;
  const template = table[key] ?? messages.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/**
 * Keeps localized texts on elements so that a language switch can redo them all:
 *   loc.text(el, key, params)        el.textContent
 *   loc.attr(el, name, key, params)  an attribute (aria-label, aria-valuetext, title, ...)
 *   loc.clear(el)                    forget el's text (and empty it)
 *   loc.forget(...els)               drop elements that are being removed (replaced options)
 *   loc.render()                     apply every remembered text in the current language
 */
export class Localizer {
  constructor(lang) {
    this.lang = lang;             // () => "de" | "en"
    this.bindings = new Map();    // element -> {text: [key, params] | null, attrs: Map(name -> [key, params])}
  }

  t(key, params) {
    return format(this.lang(), key, params);
  }

  binding(el) {
    let b = this.bindings.get(el);
    if (!b) {
      b = { text: null, attrs: new Map() };
      this.bindings.set(el, b);
    }
    return b;
  }

  text(el, key, params = {}) {
    this.binding(el).text = key ? [key, params] : null;
    el.textContent = key ? this.t(key, params) : '';
  }

  attr(el, name, key, params = {}) {
    const b = this.binding(el);
    if (key) {
      b.attrs.set(name, [key, params]);
      el.setAttribute(name, this.t(key, params));
    } else {
      b.attrs.delete(name);
      el.removeAttribute(name);
    }
  }

  clear(el) {
    this.text(el, null);
  }

  forget(...elements) {
    for (const el of elements) this.bindings.delete(el);
  }

  render() {
    for (const [el, b] of this.bindings) {
      if (b.text) el.textContent = this.t(b.text[0], b.text[1]);
      for (const [name, [key, params]] of b.attrs) el.setAttribute(name, this.t(key, params));
    }
  }
}
