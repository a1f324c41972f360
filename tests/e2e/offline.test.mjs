// A second visit works offline: the service worker (www/sw.js) answers with the page files, the
// model loader with the model files it keeps in the Cache API. The second visit runs with the
// browser offline and the server shut down, so nothing can come from the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS, WWW, launch, checkBuilt, newPage, openLab, runGenerate, labText, waitIdle, waitEvent, eventCount,
  screenshot, assertNoUnexpectedErrors,
} from './helpers.mjs';
import { startServer } from '../../scripts/serve.mjs';

// Offline, the model loader's try for a fresh manifest fails (and the browser logs it).
const OFFLINE = [/Failed to load resource/i, /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED/i];

test('a second visit works offline: page files from the service worker, model from its cache', { timeout: TIMEOUTS.test }, async (t) => {
  checkBuilt();
  const site = await startServer({ port: 0, host: '127.0.0.1', root: 'www', csp: true });
  const browser = await launch({ webgpu: true });
  try {
    const { context, page, errors } = await newPage(browser, { locale: 'en-US', serviceWorkers: 'allow' });
    // First visit: load the model, generate once, let the service worker keep the page.
    await openLab(page, site.url);
    const first = await runGenerate(page, { prompt: 'Hund', steps: 1, seed: 1 });
    assert.equal(first.outcome, 'done', first.alert);
    const sw = await page.evaluate(async () => (await navigator.serviceWorker.ready).active.state);
    assert.equal(sw, 'activated');
    const kept = await page.evaluate(async () => {
      const name = (await caches.keys()).find((n) => n.startsWith('diffusion-lab-page-'));
      const cache = await caches.open(name);
      return { name, paths: (await cache.keys()).map((r) => new URL(r.url).pathname) };
    });
    t.diagnostic(`${kept.name}: ${kept.paths.length} files`);
    for (const p of ['/', '/index.html', '/embed.html', '/diffusion-lab.js', '/worker.js', '/lab/timeline.js',
      '/pkg/diffusion_lab.js', '/pkg/diffusion_lab_bg.wasm']) {
      assert.ok(kept.paths.includes(p), `the service worker does not keep ${p}`);
    }
    const examples = existsSync(path.join(WWW, 'examples/examples.json'));
    if (examples) assert.ok(kept.paths.includes('/examples/examples.json'));
    assert.ok(!kept.paths.some((p) => p.startsWith('/models/')), 'model files are the model loader\'s to keep');

    // Second visit: offline, and the server is gone.
    await context.setOffline(true);
    site.server.close();
    site.server.closeAllConnections?.();
    const reload = await page.goto(site.url);
    assert.ok(reload.fromServiceWorker(), 'the page did not come from the service worker');
    await openLab(page, site.url);
    await waitIdle(page);
    assert.equal(await labText(page, 'alert'), '', 'loading offline failed');
    assert.match(await labText(page, 'status'), /Model loaded/);
    const offline = await runGenerate(page, { prompt: 'Hund', steps: 1, seed: 2 });
    assert.equal(offline.outcome, 'done', `offline generate failed: ${offline.alert}`);
    if (examples) {
      const mark = await eventCount(page);
      await page.getByRole('tab', { name: 'Add noise (forward)' }).click();
      const fwd = await waitEvent(page, mark, ['forward', 'error']);
      assert.equal(fwd.type, 'forward', `offline forward failed: ${fwd.detail.message}`);
    }
    await screenshot(page, 'offline-second-visit');

    // embed.html with other settings in its URL comes from the same copy.
    const embed = await page.goto(new URL('embed.html?lang=de&mode=compare&prompt=Katze', site.url).href);
    assert.ok(embed.fromServiceWorker());
    await page.waitForFunction(() => document.querySelector('diffusion-lab')?.mode === 'compare');
    assert.equal(await labText(page, 'cmp-run'), 'Vergleichen');
    assertNoUnexpectedErrors(errors, OFFLINE);
    await context.close();
  } finally {
    await browser.close();
    site.server.close();
  }
});
