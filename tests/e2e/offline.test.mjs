// A second visit works offline: the service worker (www/sw.js) answers with the page files, the
// model loader with the model files it keeps in the Cache API. The second visit runs with the
// browser offline and the server shut down, so nothing can come from the network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, cpSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

test('a new version of the site replaces the kept copy as a whole; offline, the new files answer together', { timeout: TIMEOUTS.test }, async (t) => {
  checkBuilt();
  const root = mkdtempSync(path.join(tmpdir(), 'dlab-site-'));
  cpSync(WWW, root, { recursive: true, filter: (src) => !src.includes(`${path.sep}bench-build`) && !src.includes(`${path.sep}vendor`) });
  const site = await startServer({ port: 0, host: '127.0.0.1', root, csp: true });
  const browser = await launch({ webgpu: true });
  try {
    const { context, page, errors } = await newPage(browser, { locale: 'en-US', serviceWorkers: 'allow' });
    await page.goto(site.url);
    await page.evaluate(() => navigator.serviceWorker.ready);
    const sets = () => page.evaluate(async () => {
      const out = [];
      for (const name of (await caches.keys()).filter((n) => n.startsWith('diffusion-lab-page-'))) {
        const cache = await caches.open(name);
        const worker = await cache.match(new URL('worker.js', location.href));
        out.push({ name, complete: Boolean(await cache.match(new URL('?diffusion-lab-complete', location.href))), worker: worker ? (await worker.text()).slice(-40) : null });
      }
      return out;
    });
    const first = await sets();
    assert.equal(first.length, 1);
    assert.equal(first[0].complete, true, 'the set is marked complete');

    // The same site again: the same set (nothing rewritten).
    await page.reload();
    await page.waitForTimeout(1500);
    assert.deepEqual((await sets()).map((s) => s.name), [first[0].name]);

    // A new version: worker.js changes on the server; the next page load keeps a new whole set.
    appendFileSync(path.join(root, 'worker.js'), '\n// version 2 of the site\n');
    await page.reload();
    // polled from here: waitForFunction takes a returned promise for a truthy answer and would not wait
    let second = await sets();
    for (const deadline = Date.now() + 30_000; !(second.length === 1 && second[0].name !== first[0].name);) {
      assert.ok(Date.now() < deadline, `no new set replaced the old one: ${JSON.stringify(second)}`);
      await page.waitForTimeout(250);
      second = await sets();
    }
    t.diagnostic(`${first[0].name} → ${second[0].name}`);
    assert.equal(second[0].complete, true);
    assert.match(second[0].worker, /version 2 of the site/);

    // Offline, that set answers: the page and its worker come from the same version.
    await context.setOffline(true);
    site.server.close();
    site.server.closeAllConnections?.();
    const reload = await page.goto(site.url);
    assert.ok(reload.fromServiceWorker());
    const offlineWorker = await page.evaluate(async () => (await fetch('worker.js')).text());
    assert.match(offlineWorker, /version 2 of the site/);
    assertNoUnexpectedErrors(errors, OFFLINE);
    await context.close();
  } finally {
    await browser.close();
    site.server.close();
    rmSync(root, { recursive: true, force: true });
  }
});
