// Attribute and field values as the element reads them: a value that is not one is null.

/** "12" → 12; anything but a plain whole number → null. */
export function parseWhole(text) {
  const s = String(text ?? '').trim();
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** "2.5" → 2.5; empty, NaN, Infinity → null. */
export function parseNumber(text) {
  const s = String(text ?? '').trim();
  if (s === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** One of `names` as written in an attribute ("WebGPU " → "webgpu"), or null. */
export function parseName(text, names) {
  const value = String(text ?? '').trim().toLowerCase();
  return names.includes(value) ? value : null;
}

/** `model-url` resolved against the page; null when it is no URL. */
export function resolveModelUrl(attr) {
  try {
    return new URL(attr, document.baseURI).href;
  } catch {
    return null;
  }
}

export function randomSeed() {
  return crypto.getRandomValues(new Uint32Array(1))[0] % 1000000;
}
