// The "few or many steps" panel: the distilled student and the teacher on the same prompt and seed,
// side by side, each step by step, with steps, model calls and time. Model files without a student
// (the manifest served without it) make the panel say so. Should the bundled model ever lack a
// student, the comparison runs with a stand-in (the teacher's weights as a student; helpers.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TIMEOUTS, useBrowser, newPage, openLab, labText, screenshot, assertNoUnexpectedErrors,
  waitIdle, waitEvent, eventCount, routeStudentManifest, routeManifestWithoutStudent,
} from './helpers.mjs';

const env = useBrowser({ webgpu: true });

const shadow = (page, fn, arg) => page.locator('diffusion-lab').evaluate(fn, arg);

const column = (page, who) => shadow(page, ({ shadowRoot: root }, who) => {
  const c = root.getElementById(`cmp-${who}-canvas`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let drawn = 0;
  let hf = 0;
  const v = [];
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) drawn++;
  for (let i = 0; i < d.length; i += 4) v.push(d[i], d[i + 1], d[i + 2]);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  for (let i = 0; i + 3 < v.length; i++) if ((i / 3 | 0) % c.width !== c.width - 1) hf += Math.abs(v[i] - v[i + 3]);
  return {
    steps: root.getElementById(`cmp-${who}-steps`).textContent,
    passes: root.getElementById(`cmp-${who}-passes`).textContent,
    time: root.getElementById(`cmp-${who}-time`).textContent,
    thumbs: root.getElementById(`cmp-${who}-strip`).children.length,
    drawn,
    std,
    hf: hf / (c.height * (c.width - 1) * 3),
    alt: c.getAttribute('aria-label'),
  };
}, who);

test('without a student the panel says there is nothing to compare', async () => {
  const { context, page, errors } = await newPage(env.browser, { locale: 'en-US' });
  try {
    await routeManifestWithoutStudent(page);
    await openLab(page, env.baseUrl);
    await waitIdle(page);
    await page.getByRole('tab', { name: 'Few or many steps' }).click();
    assert.equal(await page.locator('diffusion-lab #cmp-nostudent').isVisible(), true);
    assert.match(await labText(page, 'cmp-nostudent'), /no distilled student/);
    assert.equal(await page.locator('diffusion-lab #cmp-run').isDisabled(), true);
    assert.deepEqual(await shadow(page, ({ shadowRoot: r }) => [...r.getElementById('model').options].map((o) => o.value)), ['teacher']);
    await page.evaluate(() => document.querySelector('diffusion-lab').setAttribute('lang', 'de'));
    assert.match(await labText(page, 'cmp-nostudent'), /keinen destillierten Schüler/);
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

for (const c of [
  { lang: 'de', locale: 'de-DE', tab: 'Wenige oder viele Schritte', run: 'Vergleichen', teacherSteps: 2, stepsWord: 'Schritte' },
  { lang: 'en', locale: 'en-US', tab: 'Few or many steps', run: 'Compare', teacherSteps: 1, stepsWord: 'Steps' },
]) {
  test(`student and teacher side by side, same prompt and seed (${c.lang})`, { timeout: TIMEOUTS.test }, async (t) => {
    const { context, page, errors } = await newPage(env.browser, { locale: c.locale });
    try {
      if (await routeStudentManifest(page)) t.diagnostic('stand-in student (the teacher\'s weights)');
      await openLab(page, env.baseUrl);
      await waitIdle(page);
      await page.locator('diffusion-lab #prompt').fill('Apfel');
      await page.locator('diffusion-lab #seed').fill('11');
      await page.getByRole('tab', { name: c.tab }).click();
      // The prompt and seed come over from the reverse panel.
      assert.equal(await page.locator('diffusion-lab #cmp-prompt').inputValue(), 'Apfel');
      assert.equal(await page.locator('diffusion-lab #cmp-seed').inputValue(), '11');
      assert.equal(await page.locator('diffusion-lab #cmp-nostudent').isVisible(), false);
      assert.equal(await page.locator('diffusion-lab #cmp-steps').inputValue(), '8', 'teacher default steps');
      await page.locator('diffusion-lab #cmp-steps').fill(String(c.teacherSteps));
      const mark = await eventCount(page);
      await page.getByRole('button', { name: c.run, exact: true }).click();
      const end = await waitEvent(page, mark, ['compare', 'error']);
      assert.equal(end.type, 'compare', `compare failed: ${end.detail.message}`);
      const { student, teacher } = end.detail;
      t.diagnostic(`student ${student.steps} steps / ${student.passes} passes / ${student.ms.toFixed(0)} ms; `
        + `teacher ${teacher.steps} steps / ${teacher.passes} passes / ${teacher.ms.toFixed(0)} ms`);
      assert.equal(student.model, 'student');
      assert.equal(teacher.model, 'teacher');
      assert.equal(student.passes, student.steps, 'one pass per student step');
      assert.equal(teacher.steps, c.teacherSteps);
      assert.equal(teacher.passes, 2 * c.teacherSteps, 'two passes per teacher step');
      assert.equal(end.detail.prompt, 'Apfel');
      assert.equal(end.detail.seed, 11);

      // Both drawn step by step: the step events name their model, in order.
      const steps = await page.evaluate((m) => window.__lab.events.slice(m).filter((e) => e.type === 'step').map((e) => `${e.detail.model}:${e.detail.index}`), mark);
      const expected = [...Array(student.steps).keys()].map((i) => `student:${i}`)
        .concat([...Array(c.teacherSteps).keys()].map((i) => `teacher:${i}`));
      assert.deepEqual(steps, expected);
      const s = await column(page, 'student');
      const tc = await column(page, 'teacher');
      assert.equal(s.steps, String(student.steps));
      assert.equal(tc.steps, String(c.teacherSteps));
      assert.equal(s.passes, `${student.passes} (${student.steps} × 1)`);
      assert.equal(tc.passes, `${teacher.passes} (${c.teacherSteps} × 2)`);
      assert.match(s.time, /^\d+[.,]\d s$/);
      assert.equal(s.drawn, 32 * 32);
      assert.equal(tc.drawn, 32 * 32);
      // pictures, not noise or a flat fill: pure noise has a neighbour difference of about 80
      for (const [who, col] of [['student', s], ['teacher', tc]]) {
        assert.ok(col.std > 10 && col.hf < 40, `${who}: spread ${col.std.toFixed(1)}, neighbour difference ${col.hf.toFixed(1)}`);
      }
      assert.equal(s.thumbs, student.steps + 1, 'student strip: the starting noise and every step');
      assert.equal(tc.thumbs, c.teacherSteps + 1);
      assert.match(tc.alt, new RegExp(`${c.teacherSteps} .* ${c.teacherSteps}$`));
      assert.match(await labText(page, 'cmp-summary'), c.lang === 'de' ? /Der Schüler brauchte \d+ Modellaufrufe/ : /The student needed \d+ model calls/);
      assert.equal(await labText(page, 'alert'), '');
      await screenshot(page, `compare-${c.lang}`);
      assertNoUnexpectedErrors(errors);
    } finally {
      await context.close();
    }
  });
}
