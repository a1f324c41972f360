// A GPU device lost in the middle of a session (a driver reset, a crashed GPU process; here the
// test hook LabClient.loseGpuDeviceForTest() destroys the worker's device): the next Generate
// fails at once with a localized message instead of a crash or a hang, the element stays usable,
// and the click after it loads the model again (a fresh device) and makes a picture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, runGenerate, labText, screenshot, assertNoUnexpectedErrors, askForWebgpu,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });

const DETAIL = /\(WebGPU: the GPU device was lost \(Destroyed[^)]*\); reload the model to continue\)$/;

test('a lost GPU device: a localized message, no crash, and the next click works again', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser);
  try {
    await openLab(page, env.baseUrl);
    await askForWebgpu(page); // the default takes the CPU path here, which has no device to lose
    const first = await runGenerate(page, { prompt: 'Hund', steps: 1, seed: 1 });
    assert.equal(first.outcome, 'done', first.alert);
    assert.equal(first.done.detail.backend, 'webgpu');

    const answer = await page.evaluate(async () => {
      const el = document.querySelector('diffusion-lab');
      window.__firstInfo = el.loading.info;
      return el.loading.client().loseGpuDeviceForTest();
    });
    assert.equal(answer.lost, true, 'the worker had no GPU device to lose');

    const started = Date.now();
    const lost = await runGenerate(page, { prompt: 'Hund', steps: 1, seed: 1 });
    const ms = Date.now() - started;
    t.diagnostic(`after the loss: ${ms} ms: ${lost.alert}`);
    assert.equal(lost.outcome, 'error');
    assert.equal(lost.error.detail.code, 'gpu');
    assert.deepEqual(lost.steps, [], 'no step may be drawn on a lost device');
    assert.match(lost.alert, /^The connection to the graphics card \(GPU\) was lost \(“device lost”\)\. The next click loads the model again\. /);
    assert.match(lost.alert, DETAIL);
    assert.ok(ms < 60_000, `the failure took ${ms} ms`);
    assert.equal(await page.locator('diffusion-lab #generate').isEnabled(), true, 'the button stays usable');
    await screenshot(page, 'device-lost');

    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    assert.match(await labText(page, 'alert'), /^Die Verbindung zur Grafikkarte \(GPU\) ist verloren gegangen \(„device lost“\)\. Beim nächsten Klick wird das Modell neu geladen\. /);
    await screenshot(page, 'device-lost-de');

    // The next click loads the model again, on a new device, and makes a picture.
    const again = await runGenerate(page, { prompt: 'Hund', steps: 1, seed: 1 });
    assert.equal(again.outcome, 'done', again.alert);
    assert.equal(again.alert, '');
    assert.equal(again.done.detail.backend, 'webgpu');
    assert.ok(again.done.mean > 5 && again.done.mean < 250, `the picture is blank (mean ${again.done.mean})`);
    assert.equal(again.done.mean, first.done.mean, 'same prompt and seed, same picture');
    assert.ok(await page.evaluate(() => document.querySelector('diffusion-lab').loading.info !== window.__firstInfo), 'the model was not loaded again');
    await screenshot(page, 'device-lost-again');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
