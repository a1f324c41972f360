// The reverse-process panel: every frame of a run on a timeline (pure noise first), the scrubber
// and thumbnails, play/pause and reduced motion, the model menu (student: guidance built in),
// "new seed", Cancel, and the PNG exports. Step counts stay small: SwiftShader is slow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  TIMEOUTS, useBrowser, newPage, openLab, runGenerate, labText, screenshot, assertNoUnexpectedErrors,
  waitIdle, waitEvent, eventCount, routeStudentManifest, pngInfo, RESULTS, askForWebgpu, meanPixelDistance,
} from './helpers.mjs';
import { STRIP_TILE } from '../../www/lab/draw.js';

const env = useBrowser({ webgpu: true });

/** Runs `fn({shadowRoot}, arg)` on the <diffusion-lab> element in the page. */
const shadow = (page, fn, arg) => page.locator('diffusion-lab').evaluate(fn, arg);

/** RGBA bytes of a canvas in the element. */
const pixels = (page, id) => shadow(page, ({ shadowRoot: root }, id) => {
  const c = root.getElementById(id);
  return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
}, id);

const differing = (a, b) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);
const opaque = (px) => px.filter((v, i) => i % 4 === 3 && v > 0).length;

test('timeline, scrubber, play, model menu and exports (English, with a student)', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    const standIn = await routeStudentManifest(page);
    t.diagnostic(standIn ? 'the manifest has no student: using the stand-in' : 'the manifest has a student');
    await openLab(page, env.baseUrl);
    await askForWebgpu(page); // the reduced-motion and cancel tests run the default CPU path
    await waitIdle(page);

    // The student is the default: few steps, guidance built in (field disabled, explained).
    const form = () => shadow(page, ({ shadowRoot: root }) => ({
      models: [...root.getElementById('model').options].map((o) => o.value),
      model: root.getElementById('model').value,
      steps: root.getElementById('steps').value,
      stepsMax: root.getElementById('steps').max,
      guidanceDisabled: root.getElementById('guidance').disabled,
      guidance: root.getElementById('guidance').value,
      guidanceHint: root.getElementById('guidance-hint').textContent,
    }));
    let f = await form();
    assert.deepEqual(f.models, ['student', 'teacher']);
    assert.equal(f.model, 'student');
    assert.equal(f.stepsMax, '4');
    assert.ok(Number(f.steps) >= 1 && Number(f.steps) <= 4, `student steps ${f.steps}`);
    assert.equal(f.guidanceDisabled, true);
    assert.match(f.guidanceHint, /baked in/);
    await page.locator('diffusion-lab #model').selectOption('teacher');
    f = await form();
    assert.equal(f.stepsMax, '100');
    assert.equal(f.steps, '8');
    assert.equal(f.guidanceDisabled, false);
    assert.equal(f.guidance, '3');
    await page.locator('diffusion-lab #model').selectOption('student');
    assert.equal((await form()).guidanceDisabled, true);
    // Too many steps for the student: a message, no run.
    const tooMany = await runGenerate(page, { prompt: 'Hund', steps: 5, seed: 1 });
    assert.equal(tooMany.outcome, 'error');
    assert.match(tooMany.alert, /from 1 to 4/);

    // A 2-step run: frames 0 (pure noise), 1, 2.
    const r = await runGenerate(page, { prompt: 'a red apple', steps: 2, seed: 4 });
    assert.equal(r.outcome, 'done', r.alert);
    assert.equal(r.done.detail.model, 'student');
    assert.equal(r.done.detail.passes, 2, 'the student takes one pass per step');
    const tl = await shadow(page, ({ shadowRoot: root }) => ({
      min: root.getElementById('scrubber').min,
      max: root.getElementById('scrubber').max,
      value: root.getElementById('scrubber').value,
      thumbs: root.getElementById('strip').children.length,
      enabled: [...root.getElementById('strip').children].filter((b) => !b.disabled).length,
    }));
    assert.deepEqual(tl, { min: '0', max: '2', value: '2', thumbs: 3, enabled: 3 });
    assert.equal(await labText(page, 'counter'), 'Step 2 / 2');
    const last = await pixels(page, 'xt');

    // The scrubber, by keyboard: Home = the pure noise, which differs from every later frame.
    await page.locator('diffusion-lab #scrubber').focus();
    await page.keyboard.press('Home');
    assert.equal(await labText(page, 'counter'), 'Start: pure noise (step 0 / 2)');
    const noise = await pixels(page, 'xt');
    assert.ok(opaque(noise) === 32 * 32, 'frame 0 shows the starting noise');
    assert.ok(differing(noise, last) > 1000, 'frame 0 looks like the final picture');
    assert.equal(opaque(await pixels(page, 'eps')), 0, 'no noise estimate before the first step');
    assert.equal(await page.locator('diffusion-lab #xt').getAttribute('aria-label'), 'Pure noise: the picture the run starts from');
    await page.keyboard.press('ArrowRight');
    assert.equal(await labText(page, 'counter'), 'Step 1 / 2');
    assert.ok(opaque(await pixels(page, 'eps')) > 0);
    assert.equal(await page.locator('diffusion-lab #scrubber').getAttribute('aria-valuetext'), 'Step 1 / 2');
    // A thumbnail click selects its frame.
    await page.locator('diffusion-lab #strip .thumb[data-index="0"]').click();
    assert.equal(await labText(page, 'counter'), 'Start: pure noise (step 0 / 2)');

    // Play: the frames go by on their own, then it stops at the last one.
    await page.locator('diffusion-lab #play').click();
    assert.equal(await page.locator('diffusion-lab #play').getAttribute('aria-pressed'), 'true');
    assert.equal(await page.locator('diffusion-lab #play').getAttribute('aria-label'), 'Pause the animation');
    await page.waitForFunction(() => document.querySelector('diffusion-lab').shadowRoot.getElementById('counter').textContent === 'Step 2 / 2',
      null, { timeout: 10_000 });
    await page.waitForFunction(() => document.querySelector('diffusion-lab').shadowRoot.getElementById('play').getAttribute('aria-pressed') === 'false',
      null, { timeout: 10_000 });
    assert.equal(await isHiddenHint(page), true, 'the reduced-motion hint shows without reduced motion');
    await screenshot(page, 'reverse-timeline-en');

    // Save the picture: a 256×256 PNG.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('diffusion-lab #save-png').click()]);
    const png = pngInfo(readFileSync(await download.path()));
    t.diagnostic(`saved ${download.suggestedFilename()}: ${png.width}×${png.height}`);
    assert.ok(png.isPng, 'not a PNG');
    assert.deepEqual([png.width, png.height], [256, 256]);
    assert.match(download.suggestedFilename(), /^diffusion-lab-a-red-apple-seed4-student-2\.png$/);
    await download.saveAs(path.join(RESULTS, 'reverse-saved-picture.png'));
    // The frame strip: every frame in a row, the predictions below.
    const [stripDownload] = await Promise.all([page.waitForEvent('download'), page.locator('diffusion-lab #save-strip').click()]);
    const strip = pngInfo(readFileSync(await stripDownload.path()));
    assert.ok(strip.isPng);
    assert.deepEqual([strip.width, strip.height], [3 * STRIP_TILE, 2 * STRIP_TILE]);
    await stripDownload.saveAs(path.join(RESULTS, 'reverse-saved-strip.png'));
    assert.match(await labText(page, 'status'), /Saved as diffusion-lab-a-red-apple-seed4-student-2-steps\.png/);

    // "New seed": same prompt, another seed, generated at once.
    const mark = await eventCount(page);
    await page.locator('diffusion-lab #dice').click();
    const done = await waitEvent(page, mark, ['done', 'error']);
    assert.equal(done.type, 'done');
    assert.equal(done.detail.prompt, 'a red apple');
    assert.notEqual(done.detail.seed, 4);
    assert.equal(String(done.detail.seed), await page.locator('diffusion-lab #seed').inputValue());
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('the dice draws another picture for the course prompt, as far from it as another prompt nearly is (German)', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl);
    const first = await runGenerate(page, { model: 'student', prompt: 'Ein Hund im Park', seed: 1 }, { keepPixels: true });
    assert.equal(first.outcome, 'done', first.alert);
    const other = await runGenerate(page, { prompt: 'eine Katze im Schnee', seed: 1 }, { keepPixels: true });
    assert.equal(other.outcome, 'done', other.alert);
    await page.locator('diffusion-lab #prompt').fill('Ein Hund im Park');
    const mark = await eventCount(page);
    await page.locator('diffusion-lab #dice').click();
    const dice = await waitEvent(page, mark, ['done', 'error'], { keepPixels: true });
    assert.equal(dice.type, 'done', JSON.stringify(dice.detail));
    assert.equal(dice.detail.prompt, 'Ein Hund im Park');
    assert.notEqual(dice.detail.seed, 1);
    const seeds = meanPixelDistance(first.done.pixels, dice.pixels);
    const prompts = meanPixelDistance(first.done.pixels, other.done.pixels);
    t.diagnostic(`seed 1 vs seed ${dice.detail.seed}: ${seeds.toFixed(1)}; vs "eine Katze im Schnee": ${prompts.toFixed(1)} (mean over RGBA bytes, 0–255)`);
    // a model that recalls one picture per prompt scores about 0.04 here; the scene student
    // 0.50-0.79 for seeds 2-41 against seed 1 (lab sample, CPU path; docs/quality.md)
    assert.ok(seeds >= 0.2 * prompts, `the dice changed little: ${seeds.toFixed(1)} vs ${prompts.toFixed(1)} between two prompts`);
    await screenshot(page, 'reverse-dice-de');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

function isHiddenHint(page) {
  return shadow(page, ({ shadowRoot: root }) => root.getElementById('play-hint').hidden);
}

test('reduced motion: nothing plays by itself, the scrubber still works (German)', { timeout: TIMEOUTS.test }, async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE', reducedMotion: 'reduce' });
  try {
    await openLab(page, env.baseUrl);
    const r = await runGenerate(page, { prompt: 'Katze', steps: 2, seed: 2 });
    assert.equal(r.outcome, 'done', r.alert);
    assert.equal(await page.locator('diffusion-lab #play').isDisabled(), true, 'play is offered despite reduced motion');
    assert.equal(await isHiddenHint(page), false);
    assert.match(await labText(page, 'play-hint'), /weniger Bewegung/);
    assert.equal(await labText(page, 'counter'), 'Schritt 2 / 2');
    await page.waitForTimeout(1500);
    assert.equal(await labText(page, 'counter'), 'Schritt 2 / 2', 'the view moved by itself');
    await page.locator('diffusion-lab #scrubber').focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await labText(page, 'counter'), 'Schritt 1 / 2');
    await page.keyboard.press('Home');
    assert.equal(await labText(page, 'counter'), 'Start: reines Rauschen (Schritt 0 / 2)');
    await screenshot(page, 'reverse-reduced-motion-de');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('Cancel stops a run after its current step: status, no alert, and the next run works', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    await page.locator('diffusion-lab #model').selectOption('teacher');
    await page.locator('diffusion-lab #steps').fill('6');
    const mark = await eventCount(page);
    assert.equal(await page.locator('diffusion-lab #cancel').isDisabled(), true);
    await page.locator('diffusion-lab #generate').click();
    const first = await waitEvent(page, mark, ['step', 'error']);
    assert.equal(first.type, 'step');
    await page.locator('diffusion-lab #cancel').click();
    const end = await waitEvent(page, mark, ['cancel', 'done', 'error']);
    assert.equal(end.type, 'cancel', `the run ended with ${end.type}`);
    const steps = await page.evaluate((m) => window.__lab.events.slice(m).filter((e) => e.type === 'step').length, mark);
    t.diagnostic(`cancelled after ${end.detail.step} of ${end.detail.total} steps (${steps} step events)`);
    assert.ok(steps < 6, 'all 6 steps ran');
    assert.equal(end.detail.total, 6);
    assert.equal(end.detail.step, steps);
    assert.equal(await labText(page, 'status'), `Cancelled after ${steps} of 6 steps.`);
    assert.equal(await labText(page, 'alert'), '', 'a cancelled run is not an error');
    await waitIdle(page);
    assert.equal(await page.locator('diffusion-lab #cancel').isDisabled(), true);
    assert.equal(await page.locator('diffusion-lab #save-png').isDisabled(), true, 'no final picture to save');
    // The frames that arrived stay on the timeline.
    assert.equal(await page.locator('diffusion-lab #scrubber').getAttribute('max'), String(steps));
    await screenshot(page, 'reverse-cancelled-en');

    // cancel() from the page: generate() rejects with code "cancelled" (German status).
    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    const rejected = await page.evaluate(() => {
      const el = document.querySelector('diffusion-lab');
      el.addEventListener('step', () => el.cancel(), { once: true });
      return el.generate().then(() => 'resolved', (e) => e.code);
    });
    assert.equal(rejected, 'cancelled');
    assert.match(await labText(page, 'status'), /^Abgebrochen nach \d von 6 Schritten\.$/);

    const ok = await runGenerate(page, { steps: 2 });
    assert.equal(ok.outcome, 'done', `after cancelling, a run failed: ${ok.alert}`);
    assert.deepEqual(ok.steps.map((s) => s.detail.index), [0, 1]);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
