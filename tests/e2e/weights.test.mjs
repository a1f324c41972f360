// (c) Broken model files: a wrong sha256, a tampered, truncated or missing file, a missing
// manifest. Each gives a clear message in the page, no crash, and the element stays usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS, WWW, useBrowser, newPage, openLab, runGenerate, labText, screenshot,
  assertNoUnexpectedErrors, waitIdle, loadManifest,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });
const manifest = loadManifest();

// The browser logs a failed fetch as a console error; those are expected here.
const EXPECTED = [/Failed to load resource/i, /status of 40\d/i, /sha256|truncated|corrupt|model files|manifest/i];

/** The smallest file in the manifest whose change the Lab must notice (keeps the test fast). */
function victim() {
  const preferred = manifest.denoiser?.weights;
  return manifest.files.find((f) => f.name === preferred) ?? [...manifest.files].sort((a, b) => a.bytes - b.bytes)[0];
}

/**
 * Opens the page with `route` installed, waits for the autoload to fail, checks the message,
 * then presses Generate once more (the load is retried and fails again, cleanly).
 */
async function expectLoadFailure(t, name, install, message, code = 'weights') {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await install(page);
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    const alert = await labText(page, 'alert');
    t.diagnostic(`${name}: "${alert}"`);
    // the lead sentence of the code, not only the generic "could not be loaded" every code shares
    const lead = { weights: 'The model could not be loaded: its files are missing, incomplete or damaged.' }[code]
      ?? 'The model could not be loaded.';
    assert.ok(alert.startsWith(lead), `${name}: alert says "${alert}"`);
    assert.match(alert, message, `${name}: alert says "${alert}"`);
    await screenshot(page, `weights-${name}`);

    // Retry through the button: fails again with a message; the page did not crash.
    const again = await runGenerate(page, { prompt: 'Hund', steps: 1, seed: 1 });
    assert.equal(again.outcome, 'error');
    assert.equal(again.error.detail.kind, 'load');
    assert.equal(again.error.detail.code, code, `${name}: error code`);
    assert.match(again.alert, message);
    // the same failure in German: the code's own sentence, the English detail in brackets
    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    const german = await labText(page, 'alert');
    const leadDe = { weights: 'Das Modell konnte nicht geladen werden: Seine Dateien fehlen, sind unvollständig oder beschädigt.' }[code]
      ?? 'Das Modell konnte nicht geladen werden.';
    assert.ok(german.startsWith(leadDe), `${name}: German alert says "${german}"`);
    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'en'));
    assert.equal(again.steps.length, 0);
    assert.equal(await page.locator('diffusion-lab #generate').isEnabled(), true);
    assertNoUnexpectedErrors(errors, EXPECTED);
    return { context, page, errors };
  } catch (err) {
    await context.close();
    throw err;
  }
}

test('a manifest with a wrong sha256', { timeout: TIMEOUTS.test }, async (t) => {
  const file = victim();
  const { context } = await expectLoadFailure(t, 'wrong-sha256', (page) => page.route('**/models/manifest.json', (route) => {
    const m = structuredClone(manifest);
    const entry = m.files.find((f) => f.name === file.name);
    entry.sha256 = entry.sha256.replace(/^./, (ch) => (ch === '0' ? '1' : '0'));
    return route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(m) });
  }), /sha256/i);
  await context.close();
});

test('a tampered file (same size, one byte changed)', { timeout: TIMEOUTS.test }, async (t) => {
  const file = victim();
  const bytes = readFileSync(path.join(WWW, 'models', file.name));
  bytes[bytes.length >> 1] ^= 0xff;
  const { context } = await expectLoadFailure(t, 'tampered', (page) => page.route(`**/models/${file.name}`, (route) => route.fulfill({
    status: 200, contentType: 'application/octet-stream', body: bytes,
  })), /sha256/i);
  await context.close();
});

test('a truncated file', { timeout: TIMEOUTS.test }, async (t) => {
  const file = victim();
  const bytes = readFileSync(path.join(WWW, 'models', file.name)).subarray(0, Math.floor(file.bytes / 2));
  const { context } = await expectLoadFailure(t, 'truncated', (page) => page.route(`**/models/${file.name}`, (route) => route.fulfill({
    status: 200, contentType: 'application/octet-stream', body: bytes,
  })), /truncated|bytes/i);
  await context.close();
});

test('a missing file (404), then the real file: the retry loads and generates', { timeout: TIMEOUTS.test }, async (t) => {
  const file = victim();
  const pattern = `**/models/${file.name}`;
  const { context, page, errors } = await expectLoadFailure(t, 'missing-file', (page) => page.route(pattern, (route) => route.fulfill({
    status: 404, contentType: 'text/plain', body: 'Not Found',
  })), /404|not found/i);
  try {
    await page.unroute(pattern);
    const ok = await runGenerate(page, { prompt: 'Hund', steps: 2, seed: 1 });
    assert.equal(ok.outcome, 'done', `after the file came back, generate failed: ${ok.alert}`);
    assert.equal(ok.alert, '');
    assertNoUnexpectedErrors(errors, EXPECTED);
  } finally {
    await context.close();
  }
});

test('a missing manifest', { timeout: TIMEOUTS.test }, async (t) => {
  const { context } = await expectLoadFailure(t, 'missing-manifest', (page) => page.route('**/models/manifest.json', (route) => route.fulfill({
    status: 404, contentType: 'text/plain', body: 'Not Found',
  })), /404|not found|manifest/i);
  await context.close();
});

test('a manifest that is not JSON', { timeout: TIMEOUTS.test }, async (t) => {
  const { context } = await expectLoadFailure(t, 'bad-manifest', (page) => page.route('**/models/manifest.json', (route) => route.fulfill({
    status: 200, contentType: 'application/json', body: '{"files": [',
  })), /manifest|json/i);
  await context.close();
});
