// On a course page: the widget in a cross-origin iframe (a course page on http://localhost:PORT2
// embeds embed.html from http://127.0.0.1:PORT1), both served with a strict Content-Security-Policy.
// Every request goes to one of the two origins, no policy is violated, embed.html takes mode and
// model from its URL, and the demo page works under the policy at 360 px width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  TIMEOUTS, launch, checkBuilt, newPage, assertNoUnexpectedErrors, screenshot, pngInfo, waitIdle, startCourseSites,
} from './helpers.mjs';
import { CSP } from '../../scripts/serve.mjs';

let sites;     // www/ on 127.0.0.1 and tests/e2e/course/ on localhost (helpers.mjs startCourseSites)
let widget;
let courseUrl;
let browser;

before(async () => {
  checkBuilt();
  sites = await startCourseSites();
  ({ widget, courseUrl } = sites);
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  sites?.close();
});

/** Collects CSP violations in every frame (the page's and the iframes'). */
async function watchCsp(context) {
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
}

const violations = async (page) => (await Promise.all(page.frames().map((f) => f.evaluate(() => window.__csp ?? []).catch(() => [])))).flat();

test('a course page on another origin embeds the widget; every request stays on the two origins', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(browser, { locale: 'en-US', serviceWorkers: 'allow' });
  try {
    await watchCsp(context);
    const requests = [];
    context.on('request', (req) => requests.push(req.url()));
    const widgetOrigin = new URL(widget.url).origin;
    const courseOrigin = new URL(courseUrl).origin;
    const embed = (query) => new URL(`embed.html?${query}`, widget.url).href;
    const first = embed('lang=de&mode=reverse&model=teacher&prompt=Katze&steps=1&seed=5&autoload=1');
    const second = embed('lang=en&mode=compare&model=student&prompt=dog');
    const res = await page.goto(`${courseUrl}index.html?embed=${encodeURIComponent(first)}&embed=${encodeURIComponent(second)}`);
    assert.match(res.headers()['content-security-policy'], /frame-src/);

    const frameOf = async (pattern) => {
      await page.waitForFunction(() => document.querySelectorAll('iframe').length === 2);
      const deadline = Date.now() + 60_000;
      let frame;
      while (!(frame = page.frames().find((f) => pattern.test(f.url())))) {
        assert.ok(Date.now() < deadline, `no frame matches ${pattern}`);
        await page.waitForTimeout(100);
      }
      // the attributes are checked once the element knows the wasm's limits
      await frame.waitForFunction(() => customElements.get('diffusion-lab') && document.querySelector('diffusion-lab')?.limits);
      return frame;
    };
    const a = await frameOf(/lang=de/);
    const b = await frameOf(/lang=en/);
    // the attributions travel with the widget into the course page, in its language
    const credits = (frame) => frame.evaluate(() => document.querySelector('diffusion-lab').shadowRoot.querySelector('.credits').textContent);
    assert.match(await credits(a), /Herkunft und Lizenzen[\s\S]*Noto Emoji © Google, Apache License 2\.0[\s\S]*all-MiniLM-L6-v2/);
    assert.match(await credits(b), /Credits and licences[\s\S]*Noto Emoji © Google, Apache License 2\.0/);
    const embedResponse = await page.request.get(first);
    assert.equal(embedResponse.headers()['content-security-policy'], CSP);

    // The URL parameters reach the element, mode and model included.
    const settings = (f) => f.evaluate(() => {
      const el = document.querySelector('diffusion-lab');
      const root = el.shadowRoot;
      return {
        mode: el.mode,
        model: el.getAttribute('model'),
        tab: root.querySelector('[role="tab"][aria-selected="true"]').id,
        prompt: root.getElementById('prompt').value,
        notes: root.getElementById('settings').textContent,
      };
    });
    const sa = await settings(a);
    assert.deepEqual({ mode: sa.mode, model: sa.model, tab: sa.tab, prompt: sa.prompt }, { mode: 'reverse', model: 'teacher', tab: 'tab-reverse', prompt: 'Katze' });
    const sb = await settings(b);
    assert.deepEqual({ mode: sb.mode, model: sb.model, tab: sb.tab }, { mode: 'compare', model: 'student', tab: 'tab-compare' });
    assert.equal(await b.locator('diffusion-lab #cmp-prompt').inputValue(), 'dog');
    assert.equal(await b.locator('diffusion-lab #cmp-run').textContent(), 'Compare');

    // Generate inside the cross-origin iframe (German).
    await a.waitForFunction(() => !document.querySelector('diffusion-lab').busy, null, { timeout: TIMEOUTS.load, polling: 250 });
    assert.equal(await a.locator('diffusion-lab #steps').inputValue(), '1');
    assert.equal(await a.locator('diffusion-lab #model').inputValue(), 'teacher');
    await a.evaluate(() => {
      const el = document.querySelector('diffusion-lab');
      window.__end = new Promise((resolve) => {
        el.addEventListener('done', (e) => resolve({ type: 'done', ...e.detail }), { once: true });
        el.addEventListener('error', (e) => resolve({ type: 'error', ...e.detail }), { once: true });
      });
    });
    await a.locator('diffusion-lab #generate').click();
    const end = await a.evaluate(() => window.__end);
    assert.equal(end.type, 'done', `generate in the iframe failed: ${end.message}`);
    t.diagnostic(`in the iframe: ${end.steps} step on ${end.backend}, ${end.ms.toFixed(0)} ms`);
    assert.match(await a.locator('diffusion-lab #status').textContent(), /^Fertig: 1 Schritt in /);
    await screenshot(page, 'embed-course-page');

    const foreign = requests.filter((u) => {
      const url = new URL(u);
      return !['data:', 'blob:'].includes(url.protocol) && ![widgetOrigin, courseOrigin].includes(url.origin);
    });
    t.diagnostic(`${requests.length} requests, ${requests.filter((u) => u.startsWith(widgetOrigin)).length} to the widget's origin`);
    assert.deepEqual(foreign, [], 'requests to other origins');
    assert.ok(requests.some((u) => u.startsWith(`${widgetOrigin}/models/`)), 'the model came from the widget origin');
    assert.deepEqual(await violations(page), [], 'Content-Security-Policy violations');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('the demo page under the strict CSP at 360 px: every tab fits, generates, computes and saves', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(browser, { viewport: { width: 360, height: 780 }, locale: 'de-DE', serviceWorkers: 'allow' });
  try {
    await watchCsp(context);
    const res = await page.goto(widget.url);
    assert.equal(res.headers()['content-security-policy'], CSP);
    await page.waitForFunction(() => document.querySelector('diffusion-lab')?.shadowRoot);
    await waitIdle(page);
    const fits = async (what) => {
      const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
      assert.ok(width <= 360, `${what}: the page is ${width}px wide at a 360px viewport`);
    };
    await fits('reverse');
    await page.locator('diffusion-lab #steps').fill('1');
    await page.locator('diffusion-lab #generate').click();
    await page.waitForFunction(() => document.querySelector('diffusion-lab').shadowRoot.getElementById('save-png').disabled === false
      || document.querySelector('diffusion-lab').shadowRoot.getElementById('alert').textContent !== '', null, { timeout: TIMEOUTS.generate });
    assert.equal(await page.locator('diffusion-lab #alert').textContent(), '');
    await fits('reverse after a run');
    await screenshot(page, 'csp-360-reverse');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('diffusion-lab #save-png').click()]);
    const png = pngInfo(readFileSync(await download.path()));
    assert.ok(png.isPng);
    assert.deepEqual([png.width, png.height], [256, 256]);

    await page.getByRole('tab', { name: 'Verrauschen (vorwärts)' }).click();
    await page.waitForFunction(() => {
      const root = document.querySelector('diffusion-lab').shadowRoot;
      return root.getElementById('fwd-error-out').textContent !== '–' || root.getElementById('alert').textContent !== '';
    }, null, { timeout: TIMEOUTS.generate });
    assert.equal(await page.locator('diffusion-lab #alert').textContent(), '');
    await fits('forward');
    await screenshot(page, 'csp-360-forward');
    await page.getByRole('tab', { name: 'Wenige oder viele Schritte' }).click();
    await fits('compare');
    await screenshot(page, 'csp-360-compare');
    assert.deepEqual(await violations(page), [], 'Content-Security-Policy violations');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
