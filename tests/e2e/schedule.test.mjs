// The noise-schedule plot: in the forward tab its marker follows the t slider and its figures are
// the model's own (the ᾱ the Lab reports for the same t), from all picture at t = 0 to all noise
// at t = 999, with the student's and the teacher's timesteps marked; in the reverse tab it marks
// the run's steps and follows the step the timeline shows (German).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TIMEOUTS, useBrowser, newPage, openLab, runGenerate, waitEvent, eventCount, screenshot, assertNoUnexpectedErrors } from './helpers.mjs';

const env = useBrowser({ webgpu: true });

const plot = (page, id) => page.locator('diffusion-lab').evaluate((el, id) => {
  const fig = el.shadowRoot.getElementById(id);
  const svg = fig.querySelector('svg');
  return { hidden: fig.hidden, t: svg.dataset.t, marks: svg.dataset.marks, label: svg.getAttribute('aria-label'), caption: fig.querySelector('figcaption').textContent };
}, id);

test('forward tab: the marker follows the slider, with the model\'s own ᾱ; the samplers\' steps are marked', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    // on WebGPU (SwiftShader): the other panels' tests run the default CPU path
    await openLab(page, env.baseUrl, 'embed.html?lang=en&prompt=Hund&mode=forward&backend=webgpu');
    let mark = 0;
    const forwardAt = async (value) => {
      mark = await eventCount(page);
      await page.locator('diffusion-lab #fwd-t').fill(String(value));
      let e;
      do e = await waitEvent(page, mark++, ['forward', 'error']); while (e.type === 'forward' && e.detail.t !== value);
      assert.equal(e.type, 'forward', e.detail.message);
      return e.detail;
    };
    const at500 = await forwardAt(500);
    const p500 = await plot(page, 'fwd-schedule');
    assert.equal(p500.hidden, false);
    assert.equal(p500.t, '500');
    const pct = (x) => Math.round(x * 100);
    const f2 = (x) => x.toFixed(2);
    assert.match(p500.label, new RegExp(`At t = 500: ${pct(at500.alphaBar)} % picture, ${pct(1 - at500.alphaBar)} % noise \\(factors √ᾱ = ${f2(Math.sqrt(at500.alphaBar))}, √\\(1−ᾱ\\) = ${f2(Math.sqrt(1 - at500.alphaBar))}\\)`));
    t.diagnostic(p500.label);
    // the student's 4 and the teacher's 8 default steps (trailing spacing from t = 999)
    assert.equal(p500.marks, '999, 874, 749, 624, 499, 374, 249, 124, 999, 749, 499, 249');
    assert.match(p500.caption, /student's 4 steps .* teacher's 8/);

    for (const [value, picture, noise] of [[0, 100, 0], [999, 0, 100]]) {
      const f = await forwardAt(value);
      const p = await plot(page, 'fwd-schedule');
      assert.equal(p.t, String(value));
      assert.match(p.label, new RegExp(`At t = ${value}: ${picture} % picture, ${noise} % noise`), `${p.label} (alphaBar ${f.alphaBar})`);
    }
    const at300 = await forwardAt(300);
    // the maths with the numbers of the view
    await page.locator('diffusion-lab #fwd-maths').evaluate((p) => { p.closest('details').open = true; });
    const maths = await page.locator('diffusion-lab #fwd-maths').textContent();
    assert.ok(maths.includes(`here at t = 300 with ᾱ_t = ${at300.alphaBar.toFixed(3)}: x_t = ${Math.sqrt(at300.alphaBar).toFixed(3)} · x₀ + ${Math.sqrt(1 - at300.alphaBar).toFixed(3)} · ε`), maths);
    await screenshot(page, 'schedule-forward');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('reverse tab (German): the run\'s steps on the schedule, the marker at the step shown; the coarse and fine curves', { timeout: TIMEOUTS.test }, async (t) => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'de-DE' });
  try {
    await openLab(page, env.baseUrl, 'embed.html?lang=de');
    const run = await runGenerate(page, { prompt: 'Hund', steps: 4, seed: 2 });
    assert.equal(run.outcome, 'done', run.alert);
    const ts = run.steps.map((s) => s.detail.t);
    const after = await plot(page, 'rev-schedule');
    assert.equal(after.hidden, false);
    assert.equal(after.marks, ts.join(', '));
    assert.equal(after.t, String(ts[ts.length - 1]), 'the last step is shown');
    assert.match(after.caption, /^Der Weg dieses Durchlaufs auf dem Rauschplan/);
    await page.locator('diffusion-lab #scrubber').fill('2');
    assert.equal((await plot(page, 'rev-schedule')).t, String(ts[1]));
    await page.locator('diffusion-lab #scrubber').fill('0');
    const start = await plot(page, 'rev-schedule');
    assert.equal(start.t, '999');
    assert.match(start.label, /Bei t = 999: 0 % Bild, 100 % Rauschen/);
    assert.match(await page.locator('diffusion-lab #rev-schedule-caption').textContent(), /von reinem Rauschen \(t = 999, rechts\)/);
    await screenshot(page, 'schedule-reverse-de');

    // "outlines first, then colours, then details": the two curves over the teacher's 8 steps
    const teacher = await runGenerate(page, { prompt: 'Hund', steps: 8, seed: 2, model: 'teacher' });
    assert.equal(teacher.outcome, 'done', teacher.alert);
    const detail = await page.locator('diffusion-lab').evaluate((el) => {
      const fig = el.shadowRoot.getElementById('rev-detail');
      const svg = fig.querySelector('svg');
      return {
        hidden: fig.hidden, coarse: svg.dataset.coarse.split(' ').map(Number), fine: svg.dataset.fine.split(' ').map(Number),
        label: svg.getAttribute('aria-label'), thumbs: fig.querySelectorAll('.detail-thumbs canvas').length,
      };
    });
    t.diagnostic(`coarse ${detail.coarse.join(' ')} | fine ${detail.fine.join(' ')}`);
    assert.equal(detail.hidden, false);
    assert.equal(detail.coarse.length, 9);
    assert.equal(detail.thumbs, 8);
    assert.deepEqual([detail.coarse[0], detail.fine[0]], [1, 1], 'the starting noise is as far as it gets');
    assert.ok(detail.coarse[8] < 0.05 && detail.fine[8] < 0.05, 'the last guess is the picture');
    assert.match(detail.label, /^Wie weit die Schätzung des fertigen Bildes nach jedem der 8 Schritte/);
    await page.locator('diffusion-lab #rev-detail').screenshot({ path: 'test-results/detail-curve-de.png' });
    // the maths of a step: the teacher's guidance, this step's t and the next one's
    const tts = teacher.steps.map((s) => s.detail.t);
    await page.locator('diffusion-lab #scrubber').fill('2');
    const step2 = await page.locator('diffusion-lab #rev-maths').textContent();
    assert.match(step2, new RegExp(`^Schritt 2 von 8, bei t = ${tts[1]}: .*w = 3,0.* bei t′ = ${tts[2]}\\. DPM-Solver\\+\\+\\(2M\\)`));
    await page.locator('diffusion-lab #scrubber').fill('8');
    assert.match(await page.locator('diffusion-lab #rev-maths').textContent(), /Der letzte Schritt landet auf x̂₀/);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});
