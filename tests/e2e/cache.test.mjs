// The model files are kept in the browser's Cache API after the first visit: a second visit loads
// them without the network, and a cached copy that no longer matches the manifest is replaced.
// When the storage is full, the model still loads and works, with a notice that its files are not
// kept for the next visit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS, WWW, useBrowser, newPage, openLab, runGenerate, assertNoUnexpectedErrors, loadManifest,
  labText, isHidden, screenshot,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });
const manifest = loadManifest();
const CACHE = 'diffusion-lab-models';

function cachedFiles(page) {
  return page.evaluate(async (name) => {
    const cache = await caches.open(name);
    const out = {};
    for (const req of await cache.keys()) {
      out[new URL(req.url).pathname.split('/').pop()] = (await (await cache.match(req)).arrayBuffer()).byteLength;
    }
    return out;
  }, CACHE);
}

/** The sha256 (hex) of the cached copy of model file `name`. */
function cachedDigest(page, name) {
  return page.evaluate(async ({ cacheName, file }) => {
    const cache = await caches.open(cacheName);
    const req = (await cache.keys()).find((r) => new URL(r.url).pathname.endsWith(`/${file}`));
    const body = await (await cache.match(req)).arrayBuffer();
    return [...new Uint8Array(await crypto.subtle.digest('SHA-256', body))].map((b) => b.toString(16).padStart(2, '0')).join('');
  }, { cacheName: CACHE, file: name });
}

test('a second visit loads the model from the cache, with the network cut off', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser);
  try {
    await openLab(page, env.baseUrl);
    const first = await runGenerate(page, { prompt: 'Hund', steps: 2, seed: 1 });
    assert.equal(first.outcome, 'done', first.alert);
    const cached = await cachedFiles(page);
    for (const f of manifest.files) assert.equal(cached[f.name], f.bytes, `${f.name} is not cached whole`);
    assert.ok('manifest.json' in cached, 'the manifest is not cached');

    // second visit in the same profile: every request for model files fails
    const modelRequests = [];
    await context.route('**/models/**', (route) => {
      modelRequests.push(route.request().url());
      return route.abort('internetdisconnected');
    });
    const second = await context.newPage();
    const secondErrors = [];
    second.on('pageerror', (e) => secondErrors.push(e.message));
    await openLab(second, env.baseUrl);
    const offline = await runGenerate(second, { prompt: 'Hund', steps: 2, seed: 1 });
    assert.equal(offline.outcome, 'done', `offline load failed: ${offline.alert}`);
    assert.deepEqual(modelRequests.map((u) => new URL(u).pathname.split('/').pop()), ['manifest.json'],
      'only the manifest may be tried on the network; the files come from the cache');
    assert.deepEqual(secondErrors, []);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

// A cached copy that does not match the manifest is downloaded again and replaced: a short one
// (the size check catches it) and one of the right size with one byte changed (only the sha256 can).
const BAD_COPIES = [
  ['a short copy', () => Buffer.from('not the weights')],
  ['the right size, one byte changed', (good) => {
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0x01;
    return bad;
  }],
];
for (const [what, makeBad] of BAD_COPIES) {
  test(`a cached copy that does not match the manifest (${what}) is downloaded again and replaced`, { timeout: TIMEOUTS.test }, async () => {
    const { context, page, errors } = await newPage(env.browser);
    try {
      const weights = manifest.files.find((f) => f.name === manifest.denoiser.weights);
      const bad = makeBad(readFileSync(path.join(WWW, 'models', weights.name)));
      // a same-origin page without the element (index.html would start loading at once); a
      // JSON document makes the browser ask for /favicon.ico, which this site does not have
      await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
      await page.goto(new URL('models/denoiser.json', env.baseUrl).href);
      await page.evaluate(async ({ name, url, bytes }) => {
        const cache = await caches.open(name);
        await cache.put(url, new Response(new Uint8Array(bytes)));
      }, { name: CACHE, url: new URL(`models/${weights.name}`, env.baseUrl).href, bytes: [...bad] });
      const requested = [];
      page.on('request', (r) => { if (r.url().endsWith(`/models/${weights.name}`)) requested.push(r.url()); });
      await openLab(page, env.baseUrl);
      const run = await runGenerate(page, { prompt: 'a dog', steps: 2, seed: 3 });
      assert.equal(run.outcome, 'done', run.alert);
      assert.ok(requested.length >= 1, 'the bad cached copy was used without downloading the file');
      assert.equal((await cachedFiles(page))[weights.name], weights.bytes, 'the bad cached copy was not replaced');
      assert.equal(await cachedDigest(page, weights.name), weights.sha256, 'the cache does not hold the manifest\'s bytes now');
      assertNoUnexpectedErrors(errors);
    } finally {
      await context.close();
    }
  });
}

test('a full storage quota: the picture is made, and a notice says the files are not kept', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser);
  try {
    // 1 MB for this origin: the manifest and the tokenizer fit, the text encoder does not
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(env.baseUrl).origin, quotaSize: 1024 * 1024 });
    await openLab(page, env.baseUrl);
    const run = await runGenerate(page, { prompt: 'Hund', steps: 2, seed: 1 });
    assert.equal(run.outcome, 'done', run.alert);
    assert.ok(run.done.mean > 5 && run.done.mean < 250, `the picture is blank (mean ${run.done.mean})`);
    assert.equal(run.alert, '');

    assert.equal(await isHidden(page, 'cache-notice'), false, 'no notice about the full storage');
    const english = await labText(page, 'cache-notice');
    t.diagnostic(english);
    assert.match(english, /^Could not keep the model files for offline use: the browser’s storage is full\. .*the next visit downloads them again\.$/);
    const warning = await page.evaluate(() => document.querySelector('diffusion-lab').loading.info.cacheWarning);
    assert.match(warning, /^QuotaExceededError/);
    const cached = await cachedFiles(page);
    const encoder = manifest.text_encoder.weights;
    assert.notEqual(cached[encoder], manifest.files.find((f) => f.name === encoder).bytes, 'the text encoder was kept after all');
    await screenshot(page, 'cache-quota-full');

    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    assert.match(await labText(page, 'cache-notice'), /^Die Modelldateien konnten nicht für die Offline-Nutzung gespeichert werden: Der Speicher des Browsers ist voll\./);
    await screenshot(page, 'cache-quota-full-de');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
