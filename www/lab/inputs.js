// The element's input checks: a field's value, or a LabError (kind "input") that names the field
// (its `input` is focused by the alert). `limits` are the wasm's own (lab.limits, src/limits.rs).

import { LabError } from './client.js';
import { parseNumber, parseWhole } from './parse.js';

export function invalidInput(input, key, params) {
  input.setAttribute('aria-invalid', 'true');
  const err = new LabError({ kind: 'input', code: 'input', key, params });
  err.input = input;
  return err;
}

export function checkPrompt(input, limits) {
  input.removeAttribute('aria-invalid');
  const prompt = input.value.trim();
  if (prompt === '') throw invalidInput(input, 'errEmptyPrompt');
  const length = [...prompt].length;
  if (length > limits.promptMaxChars) throw invalidInput(input, 'errPromptTooLong', { length, max: limits.promptMaxChars });
  return prompt;
}

export function checkWhole(input, min, max, key) {
  input.removeAttribute('aria-invalid');
  const value = parseWhole(input.value);
  if (value === null || value < min || value > max) throw invalidInput(input, key, { min, max });
  return value;
}

export function checkSeed(input, limits) {
  input.removeAttribute('aria-invalid');
  const value = parseWhole(input.value);
  if (value === null || value > limits.seedMax) throw invalidInput(input, 'errSeed', { max: limits.seedMax });
  return value;
}

/** The teacher's guidance field: null where it is off or empty (the model's default). */
export function checkGuidance(input, limits) {
  input.removeAttribute('aria-invalid');
  if (input.disabled || input.value.trim() === '') return null;
  const guidance = parseNumber(input.value);
  if (guidance === null || guidance < limits.guidanceMin || guidance > limits.guidanceMax) {
    throw invalidInput(input, 'errGuidance', { min: limits.guidanceMin, max: limits.guidanceMax });
  }
  return guidance;
}
