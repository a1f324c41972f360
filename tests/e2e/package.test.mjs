// scripts/package.py: each zip's structure (the static site, SCORM 1.2, an ILIAS HTML learning
// module, H5P), the file types the platforms accept, and each package run from its own unpacked
// folder under the documented CSP: the SCORM package in a player stand-in that offers the SCORM 1.2
// API (initialise, status, commit, finish in order), and without one; the ILIAS start page; the H5P
// content type in an H5P stand-in. No request leaves the package's origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, TIMEOUTS, launch, checkBuilt, newPage, assertNoUnexpectedErrors, screenshot } from './helpers.mjs';
import { startServer } from '../../scripts/serve.mjs';

const VIEW = 'lang=de&prompt=Ein Hund im Park&lock=prompt&examples=Ein Hund im Park|eine Katze im Schnee';
// what ILIAS (ilFileUtils' default list) and H5P (H5PCore's content list, plus js and css) accept
const ILIAS_TYPES = ['html', 'js', 'css', 'json', 'png', 'txt', 'md', 'xml', 'gif', 'jpg', 'svg'];
const H5P_TYPES = ['js', 'css', 'json', 'png', 'txt', 'md', 'gif', 'jpg', 'svg'];
const WASM_MIME_WARNING = /instantiateStreaming|application\/wasm/;

let dir;
let unpacked;
let server;
let browser;

const python = (args) => execFileSync('python3', args, { cwd: REPO, encoding: 'utf8' });
const zipNames = (file) => JSON.parse(python(['-c', 'import json, sys, zipfile; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))', file]));
const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const typeOf = (name) => path.extname(name).slice(1).toLowerCase();

before(() => {
  checkBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'dlab-package-'));
  python(['scripts/package.py', '--out', path.join(dir, 'dist'), '--view', VIEW, '--title', 'Diffusion: Ein Hund im Park']);
  // each zip unpacked on its own, with the stand-in players beside them: one origin, as on a platform
  unpacked = path.join(dir, 'www');
  for (const [zip, folder] of [['diffusion-lab-site.zip', 'site'], ['diffusion-lab-scorm12.zip', 'scorm12'], ['diffusion-lab-ilias.zip', 'ilias'], ['diffusion-lab.h5p', 'h5p']]) {
    python(['-m', 'zipfile', '-e', path.join(dir, 'dist', zip), path.join(unpacked, folder)]);
  }
  cpSync(path.join(REPO, 'tests/e2e/platform'), path.join(unpacked, 'player'), { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.server.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The model files a package's manifest names exist and carry the manifest's sha256. */
function assertModels(folder) {
  const manifest = JSON.parse(readFileSync(path.join(folder, 'models/manifest.json'), 'utf8'));
  for (const f of manifest.files) {
    const file = path.join(folder, 'models', f.name);
    assert.ok(existsSync(file), `${f.name} is missing`);
    assert.equal(sha256(file), f.sha256, `${f.name}: sha256`);
  }
  return manifest;
}

test('the static site: the pages, embed-resize.js, the module and the models under their own names', () => {
  const names = zipNames(path.join(dir, 'dist/diffusion-lab-site.zip'));
  for (const f of ['index.html', 'embed.html', 'embed-resize.js', 'sw.js', 'worker.js', 'pkg/diffusion_lab_bg.wasm', 'models/manifest.json', 'examples/examples.json']) {
    assert.ok(names.includes(f), `the site zip lacks ${f}`);
  }
  assert.ok(!names.some((n) => n.startsWith('bench')), 'no benchmark pages');
  const manifest = assertModels(path.join(unpacked, 'site'));
  assert.equal(manifest.denoiser.weights, 'denoiser.safetensors');
});

test('SCORM 1.2: imsmanifest.xml at the root lists every file, scorm.html starts it, only accepted file types', () => {
  const names = zipNames(path.join(dir, 'dist/diffusion-lab-scorm12.zip'));
  assert.ok(names.includes('imsmanifest.xml'), 'imsmanifest.xml at the root');
  const xml = readFileSync(path.join(unpacked, 'scorm12/imsmanifest.xml'), 'utf8');
  assert.match(xml, /<schemaversion>1\.2<\/schemaversion>/);
  assert.match(xml, /<resource identifier="diffusion-lab-sco" type="webcontent" adlcp:scormtype="sco" href="scorm\.html">/);
  assert.match(xml, /<title>Diffusion: Ein Hund im Park<\/title>/);
  const listed = [...xml.matchAll(/<file href="([^"]+)"\/>/g)].map((m) => m[1]).sort();
  assert.deepEqual(listed, names.filter((n) => n !== 'imsmanifest.xml').sort(), 'the manifest lists exactly the files of the zip');
  const refused = names.filter((n) => !ILIAS_TYPES.includes(typeOf(n)));
  assert.deepEqual(refused, [], 'file types a platform would rename or refuse');
  assert.ok(names.includes('pkg/diffusion_lab_bg.wasm.txt') && !names.includes('pkg/diffusion_lab_bg.wasm'));
  const manifest = assertModels(path.join(unpacked, 'scorm12'));
  assert.equal(manifest.denoiser.weights, 'denoiser.safetensors.txt');
  const page = readFileSync(path.join(unpacked, 'scorm12/scorm.html'), 'utf8');
  assert.match(page, /<diffusion-lab lang="de" prompt="Ein Hund im Park" lock="prompt" examples="Ein Hund im Park\|eine Katze im Schnee">/);
});

test('ILIAS HTML learning module: index.html at the root with the view, only accepted file types', () => {
  const names = zipNames(path.join(dir, 'dist/diffusion-lab-ilias.zip'));
  assert.ok(names.includes('index.html'));
  assert.deepEqual(names.filter((n) => !ILIAS_TYPES.includes(typeOf(n))), []);
  assert.match(readFileSync(path.join(unpacked, 'ilias/index.html'), 'utf8'), /<diffusion-lab lang="de" prompt="Ein Hund im Park" lock="prompt" examples="[^"]+" autoload>/);
  assertModels(path.join(unpacked, 'ilias'));
});

test('H5P: h5p.json, the content, the library H5P.DiffusionLab-1.0 with the widget; no file type H5P refuses', () => {
  const names = zipNames(path.join(dir, 'dist/diffusion-lab.h5p'));
  const h5p = JSON.parse(readFileSync(path.join(unpacked, 'h5p/h5p.json'), 'utf8'));
  assert.equal(h5p.mainLibrary, 'H5P.DiffusionLab');
  assert.deepEqual(h5p.preloadedDependencies, [{ machineName: 'H5P.DiffusionLab', majorVersion: '1', minorVersion: '0' }]);
  const library = JSON.parse(readFileSync(path.join(unpacked, 'h5p/H5P.DiffusionLab-1.0/library.json'), 'utf8'));
  assert.deepEqual([library.machineName, library.majorVersion, library.minorVersion, library.runnable], ['H5P.DiffusionLab', 1, 0, 1]);
  for (const f of [...library.preloadedJs, ...library.preloadedCss]) assert.ok(names.includes(`H5P.DiffusionLab-1.0/${f.path}`), f.path);
  const content = JSON.parse(readFileSync(path.join(unpacked, 'h5p/content/content.json'), 'utf8'));
  assert.equal(content.prompt, 'Ein Hund im Park');
  assert.deepEqual(names.filter((n) => !H5P_TYPES.includes(typeOf(n))), [], 'H5P refuses a package with these');
  assertModels(path.join(unpacked, 'h5p/H5P.DiffusionLab-1.0/widget'));
});

/** Serves the unpacked packages; returns the browser, launched once. */
async function serve() {
  if (!server) server = await startServer({ port: 0, host: '127.0.0.1', root: unpacked, csp: true });
  if (!browser) browser = await launch({ webgpu: true });
  return server.url;
}

/** The frame (or the page) whose path ends with `pathEnd`, once its <diffusion-lab> is defined. */
async function labFrame(page, pathEnd) {
  let frame;
  const deadline = Date.now() + 30_000;
  while (!(frame = page.frames().find((f) => new URL(f.url()).pathname.endsWith(pathEnd)))) {
    assert.ok(Date.now() < deadline, `no frame at …${pathEnd}`);
    await page.waitForTimeout(100);
  }
  await frame.waitForFunction(() => customElements.get('diffusion-lab') && document.querySelector('diffusion-lab')?.shadowRoot, null, { timeout: 60_000 });
  return frame;
}

/** Clicks the button and waits for the element's `done` (or `error`) event. */
async function generateIn(frame) {
  await frame.evaluate(() => {
    const el = document.querySelector('diffusion-lab');
    window.__end = new Promise((resolve) => {
      el.addEventListener('done', (e) => resolve({ type: 'done', ...e.detail }), { once: true });
      el.addEventListener('error', (e) => resolve({ type: 'error', ...e.detail }), { once: true });
    });
  });
  await frame.locator('diffusion-lab #generate').click();
  return frame.evaluate(() => window.__end);
}

function watchOrigins(context, origin) {
  const foreign = [];
  context.on('request', (req) => {
    const url = new URL(req.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) foreign.push(req.url());
  });
  return foreign;
}

test('the SCORM package in a player: initialise, incomplete, completed after a picture and the forward view, finish', { timeout: TIMEOUTS.test }, async (t) => {
  const base = await serve();
  const { context, page, errors } = await newPage(browser, { locale: 'de-DE', viewport: { width: 1000, height: 1500 } });
  try {
    const foreign = watchOrigins(context, new URL(base).origin);
    await page.goto(new URL('player/scorm-player.html?sco=../scorm12/scorm.html', base).href);
    const frame = await labFrame(page, '/scorm12/scorm.html');
    await page.waitForFunction(() => window.scormCalls.some((c) => c.name === 'LMSCommit'));
    const calls = () => page.evaluate(() => window.scormCalls.map((c) => `${c.name}(${c.args.join(', ')})`));
    assert.deepEqual((await calls()).slice(0, 5), [
      'LMSInitialize()', 'LMSGetValue(cmi.suspend_data)', 'LMSGetValue(cmi.core.lesson_status)',
      'LMSSetValue(cmi.core.lesson_status, incomplete)', 'LMSCommit()',
    ]);
    // the view the package was made with: German, the course page's prompt, locked
    assert.equal(await frame.locator('diffusion-lab #prompt').inputValue(), 'Ein Hund im Park');
    assert.equal(await frame.locator('diffusion-lab #prompt').evaluate((i) => i.readOnly), true);

    const end = await generateIn(frame);
    assert.equal(end.type, 'done', end.message);
    t.diagnostic(`in the SCORM package: ${end.steps} steps on ${end.backend}, ${Math.round(end.ms)} ms`);
    assert.equal(await page.evaluate(() => window.scormData['cmi.core.lesson_status']), 'incomplete', 'a picture alone is not the whole lesson');
    await frame.locator('diffusion-lab #tab-forward').click();
    await page.waitForFunction(() => window.scormData['cmi.core.lesson_status'] === 'completed', null, { timeout: TIMEOUTS.generate });
    assert.deepEqual(JSON.parse(await page.evaluate(() => window.scormData['cmi.suspend_data'])), { generated: true, forward: true });
    await screenshot(page, 'package-scorm-player');

    // Leaving the page ends the session: exit, commit, finish, nothing after.
    await frame.evaluate(() => { location.href = 'about:blank'; });
    await page.waitForFunction(() => window.scormCalls.some((c) => c.name === 'LMSFinish'));
    const all = await calls();
    assert.deepEqual(all.slice(-3), ['LMSSetValue(cmi.core.exit, )', 'LMSCommit()', 'LMSFinish()']);
    assert.equal(all.filter((c) => c.startsWith('LMSInitialize')).length, 1);
    assert.equal(all.indexOf('LMSFinish()'), all.length - 1, 'no call after LMSFinish');
    assert.deepEqual(foreign, [], 'requests outside the package');
    assertNoUnexpectedErrors(errors);
  } finally {
    await context.close();
  }
});

test('the site, the SCORM start page without a player, the ILIAS module and the H5P content type each make a picture', { timeout: TIMEOUTS.test }, async (t) => {
  const base = await serve();
  for (const [what, url, pathEnd] of [
    ['site from its folder', 'site/embed.html?lang=de&prompt=Ein%20Hund%20im%20Park', '/site/embed.html'],
    ['SCORM page alone', 'scorm12/scorm.html', '/scorm12/scorm.html'],
    ['ILIAS module', 'ilias/index.html', '/ilias/index.html'],
    ['H5P content', 'player/h5p-player.html?h5p=../h5p', '/player/h5p-player.html'],
  ]) {
    const { context, page, errors } = await newPage(browser, { locale: 'de-DE' });
    try {
      const foreign = watchOrigins(context, new URL(base).origin);
      await page.goto(new URL(url, base).href);
      const frame = await labFrame(page, pathEnd);
      await frame.waitForFunction(() => !document.querySelector('diffusion-lab').busy, null, { timeout: TIMEOUTS.load, polling: 250 });
      assert.equal(await frame.locator('diffusion-lab #prompt').inputValue(), 'Ein Hund im Park', what);
      const end = await generateIn(frame);
      assert.equal(end.type, 'done', `${what}: ${end.message}`);
      t.diagnostic(`${what}: ${end.steps} steps on ${end.backend}`);
      if (what === 'H5P content') assert.ok(await page.evaluate(() => window.H5P.resizes) > 0, 'H5P is told to resize');
      await screenshot(page, `package-${what.split(' ')[0].toLowerCase()}`);
      assert.deepEqual(foreign, [], `${what}: requests outside the package`);
      // the renamed binaries arrive as text/plain: the wasm glue says so and compiles them anyway
      assertNoUnexpectedErrors(errors.filter((e) => !WASM_MIME_WARNING.test(e)));
    } finally {
      await context.close();
    }
  }
});
