// The model files are kept in the browser's Cache API after the first visit: a second visit loads
// them without the network, and a cached copy that no longer matches the manifest is replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, runGenerate, assertNoUnexpectedErrors, loadManifest,
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

test('a cached copy that does not match the manifest is downloaded again and replaced', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser);
  try {
    const weights = manifest.files.find((f) => f.name === manifest.denoiser.weights);
    // a same-origin page without the element (index.html would start loading at once); a
    // JSON document makes the browser ask for /favicon.ico, which this site does not have
    await page.route('**/favicon.ico', (route) => route.fulfill({ status: 204 }));
    await page.goto(new URL('models/denoiser.json', env.baseUrl).href);
    await page.evaluate(async ({ name, url }) => {
      const cache = await caches.open(name);
      await cache.put(url, new Response('not the weights'));
    }, { name: CACHE, url: new URL(`models/${weights.name}`, env.baseUrl).href });
    await openLab(page, env.baseUrl);
    const run = await runGenerate(page, { prompt: 'a dog', steps: 2, seed: 3 });
    assert.equal(run.outcome, 'done', run.alert);
    assert.equal((await cachedFiles(page))[weights.name], weights.bytes, 'the bad cached copy was not replaced');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
