// www/lab/client.js against a stand-in Worker (no browser): a client nobody uses ends its worker;
// a download that brings no byte fails with code "stalled" and the next load starts afresh;
// cancelLoad() ends the download; a job that finds the model gone loads it again and runs once
// more; the Localizer forgets replaced elements.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';

/** A Worker whose answers each test scripts: `script(msg, worker)` runs for every message. */
class FakeWorker {
  static made = [];
  static script = () => {};
  constructor() {
    this.listeners = { message: [], error: [], messageerror: [] };
    this.sent = [];
    this.terminated = false;
    FakeWorker.made.push(this);
  }
  addEventListener(type, fn) { this.listeners[type].push(fn); }
  postMessage(msg) {
    this.sent.push(msg);
    queueMicrotask(() => FakeWorker.script(msg, this));
  }
  reply(data) {
    if (!this.terminated) for (const fn of this.listeners.message) fn({ data });
  }
  terminate() { this.terminated = true; }
}
globalThis.Worker = FakeWorker;

const { getClient, LabClient } = await import('../../www/lab/client.js');
const { Localizer } = await import('../../www/i18n.js');

const READY = { type: 'ready', backend: 'cpu', adapter: '', models: null };
let n = 0;
const freshUrl = () => `https://lab.example/m${++n}/manifest.json`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

beforeEach(() => {
  FakeWorker.made = [];
  FakeWorker.script = (msg, w) => { if (msg.type === 'load') w.reply({ ...READY, id: msg.id }); };
  LabClient.stallMs = 30_000;
  LabClient.idleMs = 60_000;
  LabClient.jobSilenceMs = 60_000;
});

test('a client nobody retains ends its worker after idleMs; one retained again keeps it', async () => {
  LabClient.idleMs = 30;
  const url = freshUrl();
  const client = getClient(url, 'auto');
  client.retain();
  await client.load();
  const worker = FakeWorker.made[0];
  client.release();
  client.retain(); // moved in the page: back before the timer
  await sleep(60);
  assert.equal(worker.terminated, false);
  assert.equal(getClient(url, 'auto'), client);
  client.release();
  await sleep(60);
  assert.equal(worker.terminated, true, 'the idle worker was ended');
  const next = getClient(url, 'auto');
  assert.notEqual(next, client, 'a new client (and worker) next time');
  await next.load();
  assert.equal(FakeWorker.made.length, 2);
});

test('a busy client waits for its job before it ends the worker', async () => {
  LabClient.idleMs = 20;
  const client = getClient(freshUrl(), 'auto');
  client.retain();
  await client.load();
  let answer;
  FakeWorker.script = (msg, w) => { if (msg.type === 'generate') answer = () => w.reply({ type: 'done', id: msg.id }); };
  const job = client.start('generate', { prompt: 'Hund', options: {} });
  client.release();
  await sleep(60);
  assert.equal(FakeWorker.made[0].terminated, false, 'ended under a running job');
  answer();
  await job.promise;
  await sleep(60);
  assert.equal(FakeWorker.made[0].terminated, true);
});

test('a load that brings no byte for stallMs fails with "stalled"; progress keeps it alive; the next load starts afresh', async () => {
  LabClient.stallMs = 40;
  const client = getClient(freshUrl(), 'auto');
  let worker;
  FakeWorker.script = (msg, w) => { worker = w; };
  const stuck = client.load();
  const err = await stuck.then(() => null, (e) => e);
  assert.equal(err?.code, 'stalled');
  assert.equal(err.kind, 'load');
  assert.deepEqual(err.params, { seconds: 0 });
  assert.equal(worker.terminated, true, 'the stuck download is ended with its worker');

  // bytes arriving every 20 ms keep it going past 40 ms; once all are in, building may take long
  FakeWorker.script = (msg, w) => {
    if (msg.type !== 'load') return;
    let loaded = 0;
    const tick = setInterval(() => {
      loaded += 25;
      w.reply({ type: 'progress', id: msg.id, loaded, total: 100, file: 'a' });
      if (loaded >= 100) {
        clearInterval(tick);
        setTimeout(() => w.reply({ ...READY, id: msg.id }), 120);
      }
    }, 20);
  };
  const info = await client.load();
  assert.equal(info.backend, 'cpu');
  assert.equal(FakeWorker.made.length, 2, 'a new worker for the new load');
});

test('cancelLoad() ends the download and rejects the load with "cancelled"; the next load works', async () => {
  const client = getClient(freshUrl(), 'auto');
  FakeWorker.script = () => {};
  const load = client.load();
  await sleep(5);
  assert.equal(client.cancelLoad(), true);
  const err = await load.then(() => null, (e) => e);
  assert.equal(err?.code, 'cancelled');
  assert.equal(FakeWorker.made[0].terminated, true);
  assert.equal(client.cancelLoad(), false, 'nothing left to cancel');
  FakeWorker.script = (msg, w) => { if (msg.type === 'load') w.reply({ ...READY, id: msg.id }); };
  assert.equal((await client.load()).backend, 'cpu');
});

test('a job that finds the model gone ("unloaded") loads it again and runs once more', async () => {
  const client = getClient(freshUrl(), 'auto');
  await client.load();
  let generates = 0;
  FakeWorker.script = (msg, w) => {
    if (msg.type === 'load') w.reply({ ...READY, id: msg.id });
    if (msg.type === 'generate') {
      generates++;
      if (generates === 1) w.reply({ type: 'error', id: msg.id, op: 'generate', code: 'unloaded', message: 'the model is not loaded', dropped: true });
      else w.reply({ type: 'done', id: msg.id, steps: 4 });
    }
  };
  const res = await client.start('generate', { prompt: 'Hund', options: {} }).promise;
  assert.equal(res.steps, 4);
  assert.deepEqual(FakeWorker.made[0].sent.map((m) => m.type), ['load', 'generate', 'load', 'generate']);

  // cancelled while it reloads: no second run
  generates = 0;
  const job = client.start('generate', { prompt: 'Hund', options: {} });
  FakeWorker.script = (msg, w) => {
    if (msg.type === 'generate') w.reply({ type: 'error', id: msg.id, op: 'generate', code: 'unloaded', message: 'gone', dropped: true });
    if (msg.type === 'load') setTimeout(() => w.reply({ ...READY, id: msg.id }), 20);
  };
  await sleep(5);
  job.cancel();
  const err = await job.promise.then(() => null, (e) => e);
  assert.equal(err?.code, 'cancelled');
});

test('the Localizer forgets elements that are replaced, and renders the rest', () => {
  let lang = 'en';
  const loc = new Localizer(() => lang);
  const el = () => ({ textContent: '', setAttribute() {}, removeAttribute() {} });
  const kept = el();
  loc.text(kept, 'generate');
  for (let run = 0; run < 1000; run++) {
    const options = [el(), el(), el()];
    options.forEach((o) => loc.text(o, 'fwdSourceExample', { label: run }));
    loc.forget(...options);
  }
  assert.equal(loc.bindings.size, 1);
  lang = 'de';
  loc.render();
  assert.equal(kept.textContent, 'Bild erzeugen');
});

test('jobs and no word from the worker for jobSilenceMs: it is taken for gone, the next job gets a new one', async () => {
  LabClient.jobSilenceMs = 40;
  const client = getClient(freshUrl(), 'auto');
  await client.load();
  // steps every 15 ms keep a slow job alive past 40 ms
  FakeWorker.script = (msg, w) => {
    if (msg.type !== 'generate') return;
    let i = 0;
    const tick = setInterval(() => {
      if (++i < 6) w.reply({ type: 'step', id: msg.id, index: i - 1, total: 5 });
      else {
        clearInterval(tick);
        w.reply({ type: 'done', id: msg.id, steps: 5 });
      }
    }, 15);
  };
  assert.equal((await client.start('generate', { prompt: 'Hund', options: {} }).promise).steps, 5);
  // a worker that says nothing (killed from outside, hung)
  FakeWorker.script = () => {};
  const err = await client.start('generate', { prompt: 'Hund', options: {} }).promise.then(() => null, (e) => e);
  assert.equal(err?.key, 'errWorkerSilent');
  assert.deepEqual(err.params, { seconds: 0 });
  assert.equal(FakeWorker.made[0].terminated, true);
  FakeWorker.script = (msg, w) => {
    if (msg.type === 'load') w.reply({ ...READY, id: msg.id });
    if (msg.type === 'generate') w.reply({ type: 'done', id: msg.id, steps: 1 });
  };
  await client.load();
  assert.equal((await client.start('generate', { prompt: 'Hund', options: {} }).promise).steps, 1);
  assert.equal(FakeWorker.made.length, 2);
});
