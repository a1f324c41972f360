// www/i18n.js: German and English say the same things. No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { messages, format, pickLang } from '../../www/i18n.js';

const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('German and English have the same keys and placeholders', () => {
  assert.deepEqual(Object.keys(messages.de).sort(), Object.keys(messages.en).sort());
  for (const key of Object.keys(messages.en)) {
    assert.ok(messages.de[key].trim() && messages.en[key].trim(), `${key} is empty`);
    assert.deepEqual(placeholders(messages.de[key]), placeholders(messages.en[key]), key);
  }
});

test('format fills placeholders and falls back to English', () => {
  assert.equal(format('de', 'stepCounter', { step: 3, total: 8 }), 'Schritt 3 / 8');
  assert.equal(format('en', 'stepCounter', { step: 3, total: 8 }), 'Step 3 / 8');
  assert.equal(format('fr', 'stepCounter', { step: 1, total: 2 }), 'Step 1 / 2');
  assert.equal(format('en', 'progressMb', { loaded: '12.3', total: '45.6' }), '12.3 / 45.6 MB');
});

test('pickLang maps browser languages to de or en', () => {
  assert.equal(pickLang('de-AT'), 'de');
  assert.equal(pickLang('DE'), 'de');
  assert.equal(pickLang('en-GB'), 'en');
  assert.equal(pickLang('fr-FR'), 'en');
  assert.equal(pickLang(''), 'en');
  assert.equal(pickLang(undefined), 'en');
});

// Every key the code names literally (t('…'), format(lang, '…'), data-i18n*="…", key: / why: '…')
// exists: a typo would show the raw key to learners. Keys built at run time (err${kind}_${code})
// fall back to a key that exists and are covered by the error tests.
test('every message key the code uses exists in both languages', () => {
  const dir = fileURLToPath(new URL('../../www/', import.meta.url));
  const files = [...readdirSync(dir).filter((f) => /\.(js|html)$/.test(f)).map((f) => path.join(dir, f)),
    ...readdirSync(path.join(dir, 'lab')).map((f) => path.join(dir, 'lab', f))];
  const used = new Map();
  for (const file of files) {
    const code = readFileSync(file, 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*)/.test(l)).join('\n');
    for (const re of [/\bt\('([A-Za-z_]+)'/g, /format\([^,()]+, '([A-Za-z_]+)'/g,
      /data-i18n(?:-[a-z]+)?="([A-Za-z_]+)"/g, /\b(?:key|why): '([A-Za-z_]+)'/g]) {
      for (const m of code.matchAll(re)) used.set(m[1], path.relative(dir, file));
    }
  }
  assert.ok(used.size > 50, `only ${used.size} keys found: the scan is broken`);
  for (const [key, file] of used) {
    assert.ok(key in messages.en && key in messages.de, `${file} uses "${key}", which i18n.js lacks`);
  }
});

// The pages' own text (outside the element) is written twice, <… data-lang="de" lang="de"> and
// <… data-lang="en" lang="en">: the same elements in the same order, neither language empty.
test('the static pages have every text in German and English', () => {
  for (const page of ['index.html', 'embed.html']) {
    const html = readFileSync(fileURLToPath(new URL(`../../www/${page}`, import.meta.url)), 'utf8');
    const spans = (lang) => [...html.matchAll(new RegExp(`<(\\w+)([^>]*)data-lang="${lang}"([^>]*)>([^<]*)`, 'g'))]
      .map((m) => ({ tag: m[1], attrs: m[2] + m[3], text: m[4].trim() }));
    const de = spans('de');
    const en = spans('en');
    assert.equal(de.length, en.length, `${page}: ${de.length} German and ${en.length} English texts`);
    de.forEach((d, i) => {
      assert.equal(d.tag, en[i].tag, `${page}: text ${i} is a <${d.tag}> in German, a <${en[i].tag}> in English`);
      assert.match(d.attrs, /lang="de"/, `${page}: German text ${i} lacks lang="de"`);
      assert.match(en[i].attrs, /lang="en"/, `${page}: English text ${i} lacks lang="en"`);
    });
    if (page === 'index.html') assert.ok(de.length > 5, `${page}: only ${de.length} bilingual texts found`);
  }
});
