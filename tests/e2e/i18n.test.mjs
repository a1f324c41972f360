// www/i18n.js: German and English say the same things. No browser needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
