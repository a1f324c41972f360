// "Link to this view" and the teacher's presets: the link copies prompt, seed, steps, model, mode
// and the forward panel's t, and opens exactly that view (with the picture, made again); example
// prompts to click (`examples`) and locked controls (`lock`), from attributes and URL parameters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TIMEOUTS, useBrowser, newPage, openLab, labText, screenshot, assertNoUnexpectedErrors, waitIdle, waitEvent } from './helpers.mjs';

const env = useBrowser({ webgpu: true });

const view = (page) => page.locator('diffusion-lab').evaluate((el) => {
  const root = el.shadowRoot;
  const value = (id) => root.getElementById(id).value;
  return {
    mode: el.mode, model: el.model, prompt: value('prompt'), seed: value('seed'), steps: value('steps'),
    forwardT: value('fwd-t'), forwardSeed: value('fwd-seed'),
  };
});

test('"Link to this view" copies a link that opens the same view, the picture made again', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(env.baseUrl).origin });
    await openLab(page, env.baseUrl, 'embed.html?lang=en&model=teacher&steps=2&prompt=Katze&seed=7');
    await waitIdle(page);
    await page.locator('diffusion-lab #prompt').fill('a dog');
    await page.locator('diffusion-lab #seed').fill('42');
    let mark = await page.evaluate(() => window.__lab.events.length);
    await page.locator('diffusion-lab #generate').click();
    const done = await waitEvent(page, mark, ['done', 'error']);
    assert.equal(done.type, 'done', done.detail.message);
    const picture = await page.evaluate(() => Array.from(document.querySelector('diffusion-lab').lastImage.image));

    await page.locator('diffusion-lab #share-button').click();
    await page.waitForFunction(() => document.querySelector('diffusion-lab').shadowRoot.getElementById('share-status').textContent);
    const link = await page.locator('diffusion-lab #share-link').inputValue();
    t.diagnostic(link);
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, 'the link is on the clipboard');
    assert.match(await labText(page, 'share-status'), /^Link copied/);
    const params = new URL(link).searchParams;
    assert.equal(new URL(link).pathname, '/embed.html');
    assert.deepEqual(
      Object.fromEntries(['lang', 'mode', 'model', 'prompt', 'seed', 'steps', 'autorun'].map((k) => [k, params.get(k)])),
      { lang: 'en', mode: 'reverse', model: 'teacher', prompt: 'a dog', seed: '42', steps: '2', autorun: '1' },
    );

    // The link opens the same settings and makes the same picture by itself.
    const other = await context.newPage();
    await openLab(other, link, '');
    await other.waitForFunction(() => document.querySelector('diffusion-lab').lastImage, null, { timeout: TIMEOUTS.generate, polling: 250 });
    const opened = await view(other);
    assert.deepEqual({ ...opened, forwardT: undefined, forwardSeed: undefined }, { mode: 'reverse', model: 'teacher', prompt: 'a dog', seed: '42', steps: '2', forwardT: undefined, forwardSeed: undefined });
    const again = await other.evaluate(() => Array.from(document.querySelector('diffusion-lab').lastImage.image));
    assert.deepEqual(again, picture, 'the shared view draws the same picture');
    await other.close();

    // The forward view: t and the noise seed travel too.
    await page.locator('diffusion-lab #tab-forward').click();
    mark = await page.evaluate(() => window.__lab.events.length);
    await page.locator('diffusion-lab #fwd-t').fill('300');
    await page.locator('diffusion-lab #fwd-seed').fill('9');
    await page.waitForFunction((mark) => window.__lab.events.slice(mark).some((e) => e.type === 'forward' && e.detail.t === 300 && e.detail.seed === 9), mark, { timeout: TIMEOUTS.generate, polling: 200 });
    await page.locator('diffusion-lab #share-button').click();
    const forwardLink = await page.locator('diffusion-lab #share-link').inputValue();
    assert.equal(new URL(forwardLink).searchParams.get('autorun'), null, 'the forward view computes on its own');
    const third = await context.newPage();
    await openLab(third, forwardLink, '');
    await third.waitForFunction(() => document.querySelector('diffusion-lab').shadowRoot.getElementById('fwd-error-out').textContent !== '–', null, { timeout: TIMEOUTS.generate, polling: 250 });
    const fwd = await view(third);
    assert.deepEqual({ mode: fwd.mode, forwardT: fwd.forwardT, forwardSeed: fwd.forwardSeed }, { mode: 'forward', forwardT: '300', forwardSeed: '9' });
    await screenshot(third, 'share-forward-view');
    await third.close();
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('without a clipboard the link is shown selected, with words to copy it (German)', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await context.addInitScript(() => {
      Object.defineProperty(navigator, 'clipboard', { value: { writeText: () => Promise.reject(new DOMException('denied', 'NotAllowedError')) } });
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=de&prompt=Hund&seed=5');
    await page.locator('diffusion-lab #share-button').click();
    await page.waitForFunction(() => document.querySelector('diffusion-lab').shadowRoot.getElementById('share-status').textContent);
    assert.match(await labText(page, 'share-status'), /^Kopiere den markierten Link/);
    const selected = await page.locator('diffusion-lab').evaluate((el) => {
      const input = el.shadowRoot.getElementById('share-link');
      return { hidden: input.hidden, focused: el.shadowRoot.activeElement === input, all: input.selectionStart === 0 && input.selectionEnd === input.value.length };
    });
    assert.deepEqual(selected, { hidden: false, focused: true, all: true });
    assert.equal(await page.locator('diffusion-lab #share-button').textContent(), 'Link zu dieser Ansicht');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('example prompts: the language\'s own, the teacher\'s, none; a click makes that picture', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    const examples = () => page.locator('diffusion-lab').evaluate((el) => {
      const box = el.shadowRoot.getElementById('examples');
      return box.hidden ? [] : [...box.querySelectorAll('button')].map((b) => b.textContent);
    });
    await openLab(page, env.baseUrl, 'embed.html?lang=de&model=teacher&steps=2');
    assert.deepEqual(await examples(), ['Ein Hund im Park', 'ein blaues Auto in der Stadt', 'eine Rakete im Weltraum', 'ein gelber Ball auf der Wiese', 'eine Katze im Schnee']);
    await page.locator('diffusion-lab').evaluate((el) => el.setAttribute('lang', 'en'));
    assert.deepEqual(await examples(), ['a dog in the park', 'a blue car in the city', 'a rocket in space', 'a frog on the beach', 'a yellow ball on the grass']);
    await page.locator('diffusion-lab').evaluate((el) => el.setAttribute('examples', ' Katze | Frosch||Katze '));
    assert.deepEqual(await examples(), ['Katze', 'Frosch']);

    const mark = await page.evaluate(() => window.__lab.events.length);
    await page.locator('diffusion-lab #examples button', { hasText: 'Frosch' }).click();
    const done = await waitEvent(page, mark, ['done', 'error']);
    assert.equal(done.type, 'done', done.detail.message);
    assert.equal(done.detail.prompt, 'Frosch');
    assert.equal(await page.locator('diffusion-lab #prompt').inputValue(), 'Frosch');

    await page.locator('diffusion-lab').evaluate((el) => el.setAttribute('examples', ''));
    assert.deepEqual(await examples(), []);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('lock="prompt seed mode" from the URL: those controls cannot be changed, a wrong name gets a notice', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl, `embed.html?lang=de&prompt=Ein%20Hund%20im%20Park&seed=4&mode=reverse&lock=${encodeURIComponent('prompt, seed mode banana')}`);
    const state = await page.locator('diffusion-lab').evaluate((el) => {
      const $ = (id) => el.shadowRoot.getElementById(id);
      return {
        prompt: $('prompt').readOnly, cmpPrompt: $('cmp-prompt').readOnly, seed: $('seed').readOnly, dice: $('dice').disabled,
        steps: $('steps').readOnly, model: $('model').disabled, forwardTab: $('tab-forward').disabled,
        compareTab: $('tab-compare').disabled, reverseTab: $('tab-reverse').disabled, examples: $('examples').hidden,
        notes: $('settings').textContent,
      };
    });
    assert.deepEqual({ ...state, notes: undefined }, {
      prompt: true, cmpPrompt: true, seed: true, dice: true, steps: false, model: false,
      forwardTab: true, compareTab: true, reverseTab: false, examples: true, notes: undefined,
    });
    assert.match(state.notes, /lock="prompt, seed mode banana" wird ignoriert: erlaubt sind prompt, seed, steps, model, guidance, mode\. Stattdessen gilt prompt seed mode\./);
    // Typing and the arrow keys change nothing.
    await page.locator('diffusion-lab #prompt').press('End');
    await page.keyboard.type(' und eine Katze');
    assert.equal(await page.locator('diffusion-lab #prompt').inputValue(), 'Ein Hund im Park');
    await page.locator('diffusion-lab #tab-reverse').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('diffusion-lab').evaluate((el) => el.mode), 'reverse');
    // The page itself may still change them; lifting the lock frees them.
    await page.locator('diffusion-lab').evaluate((el) => el.removeAttribute('lock'));
    assert.equal(await page.locator('diffusion-lab #tab-forward').isDisabled(), false);
    assert.equal(await page.locator('diffusion-lab #prompt').evaluate((i) => i.readOnly), false);
    await screenshot(page, 'share-unlocked');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
