// The iframe that sizes itself: a course page on another origin embeds embed.html, and the iframe
// grows and shrinks with the widget (tabs switched, a picture made), once through the widget's
// embed-resize.js and once through a host that speaks H5P's resizer protocol (Moodle, ILIAS).
// A height message that does not come from the iframe's own page changes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TIMEOUTS, launch, checkBuilt, newPage, assertNoUnexpectedErrors, screenshot, startCourseSites } from './helpers.mjs';

let sites;
let widget;
let browser;

before(async () => {
  checkBuilt();
  sites = await startCourseSites({ widgetScripts: true });
  ({ widget } = sites);
  browser = await launch({ webgpu: true });
});

after(async () => {
  await browser?.close();
  sites?.close();
});

const courseUrl = (query) => `${sites.courseUrl}index.html?${query}`;

/** The iframe's height on the course page and the widget's height inside it, once both agree. */
async function settled(page, frame, slack) {
  let last;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const inner = await frame.evaluate(() => Math.ceil(document.body.getBoundingClientRect().height));
    const outer = await page.evaluate(() => document.querySelector('iframe').clientHeight);
    last = { inner, outer };
    if (Math.abs(outer - inner - slack) <= 2) return last;
    await page.waitForTimeout(100);
  }
  assert.fail(`the iframe did not follow the widget: iframe ${last.outer} px, widget ${last.inner} px`);
}

async function openCourse(query, lang) {
  const embed = new URL(`embed.html?lang=${lang}&model=teacher&steps=2&prompt=Hund&seed=3`, widget.url).href;
  const { context, page, errors } = await newPage(browser, { locale: `${lang}-DE`, viewport: { width: 900, height: 1700 } });
  await page.goto(courseUrl(`embed=${encodeURIComponent(embed)}&${query}`));
  let frame;
  const deadline = Date.now() + 30_000;
  while (!(frame = page.frames().find((f) => f.url().startsWith(widget.url)))) {
    assert.ok(Date.now() < deadline, 'no widget frame');
    await page.waitForTimeout(100);
  }
  // ready: the wasm's limits known, the attributes applied, the example prompts shown
  await frame.waitForFunction(() => customElements.get('diffusion-lab') && document.querySelector('diffusion-lab')?.limits);
  return { context, page, errors, frame };
}

for (const [host, query, lang] of [['embed-resize.js', 'resize=plain', 'en'], ['an H5P resizer host', 'resize=h5p', 'de']]) {
  test(`the iframe grows and shrinks with the widget (${host})`, { timeout: TIMEOUTS.test }, async (t) => {
    const { context, page, errors, frame } = await openCourse(query, lang);
    try {
      // The course page's own CSS says 1000 px; the widget's height replaces it.
      const first = await settled(page, frame, 0);
      assert.notEqual(first.outer, 1000);
      t.diagnostic(`reverse tab: ${first.outer} px`);

      await frame.locator('diffusion-lab #tab-compare').click();
      const compare = await settled(page, frame, 0);
      t.diagnostic(`compare tab: ${compare.outer} px`);
      await frame.locator('diffusion-lab #tab-reverse').click();
      const back = await settled(page, frame, 0);
      assert.equal(back.outer, first.outer, 'back on the first tab, the first height');
      assert.notEqual(compare.outer, first.outer, 'the compare tab has another height');

      // A picture made: the timeline's strip and the export row appear, the iframe follows.
      await frame.locator('diffusion-lab #generate').click();
      await frame.waitForFunction(() => document.querySelector('diffusion-lab').lastImage, null, { timeout: TIMEOUTS.generate, polling: 250 });
      const generated = await settled(page, frame, 0);
      t.diagnostic(`after a picture: ${generated.outer} px`);
      // No scroll bar inside the iframe: the page shows the whole widget.
      assert.equal(await frame.evaluate(() => document.documentElement.scrollHeight <= document.documentElement.clientHeight), true);
      await screenshot(page, `resize-${query.replace('resize=', '')}`);

      if (query === 'resize=h5p') {
        const log = await page.evaluate(() => window.h5pHostLog);
        assert.ok(log.includes('hello') && log.includes('prepareResize') && log.includes('resize'), `H5P messages: ${log.join(', ')}`);
      } else {
        // The course page itself, or another window, cannot size the iframe with a forged message.
        await page.evaluate(() => window.postMessage({ type: 'diffusion-lab:height', height: 200 }, '*'));
        await page.waitForTimeout(300);
        assert.equal(await page.evaluate(() => document.querySelector('iframe').clientHeight), generated.outer);
      }
      assertNoUnexpectedErrors(errors);
    } finally {
      await context.close();
    }
  });
}
