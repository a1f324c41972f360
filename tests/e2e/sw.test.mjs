// www/sw.js keeps every file the pages need: its list covers the module graph of index.html and
// embed.html (static imports, dynamic imports, new URL(…, import.meta.url)), and every listed file
// exists. No browser needed; offline.test.mjs tests the service worker itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { WWW } from './helpers.mjs';

const swSource = readFileSync(path.join(WWW, 'sw.js'), 'utf8');
const listed = JSON.parse(swSource.match(/const PAGE_FILES = (\[[^\]]*\])/)[1].replace(/'/g, '"').replace(/,\s*\]/, ']'));

/** Every file under www/ that `file` pulls in, directly or not. */
function graph(entries) {
  const seen = new Set();
  const visit = (rel) => {
    if (seen.has(rel) || !existsSync(path.join(WWW, rel)) || !statSync(path.join(WWW, rel)).isFile()) return;
    seen.add(rel);
    const text = readFileSync(path.join(WWW, rel), 'utf8');
    const refs = rel.endsWith('.html')
      ? [...text.matchAll(/(?:src|href)="([^":#?]+\.(?:js|css))"/g)].map((m) => m[1])
      : [...text.matchAll(/(?:from\s+|import\(\s*|new URL\(\s*)['"]([^'":]+)['"]/g)].map((m) => m[1]);
    for (const ref of refs) visit(path.posix.normalize(path.posix.join(path.posix.dirname(rel), ref)));
  };
  entries.forEach(visit);
  return [...seen];
}

test('sw.js lists every file of the pages\' module graph', () => {
  const needed = graph(['index.html', 'embed.html', 'worker.js']).filter((f) => !f.startsWith('models/') && !f.startsWith('examples/') && f !== 'sw.js'); // the browser keeps sw.js itself
  assert.ok(needed.includes('lab/timeline.js') && needed.includes('pkg/diffusion_lab_bg.wasm'), `graph: ${needed.join(', ')}`);
  const missing = needed.filter((f) => !listed.includes(f));
  assert.deepEqual(missing, [], 'files the service worker would not keep for offline use');
});

test('every file sw.js lists exists, and no model file is among them', () => {
  for (const f of listed) {
    if (f === './') continue;
    assert.ok(existsSync(path.join(WWW, f)), `sw.js lists ${f}, which does not exist`);
    assert.ok(!f.startsWith('models/'), `${f}: the model loader keeps the model files`);
  }
  // no version to bump by hand: a set is named after its files' validators
  assert.doesNotMatch(swSource, /const VERSION/);
  assert.match(swSource, /PREFIX \+ await hex\(/);
});
