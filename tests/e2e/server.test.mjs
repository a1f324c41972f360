// scripts/serve.mjs: MIME types, 404, paths outside the root, caching headers. No browser needed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startServer, CSP } from '../../scripts/serve.mjs';
import { REPO } from './helpers.mjs';

let server;
let base;

before(async () => {
  ({ server, url: base } = await startServer({ port: 0 }));
});
after(() => server?.close());

/** A raw GET/HEAD whose path is sent exactly as given (no URL normalisation by the client). */
function request(rawPath, { method = 'GET', headers = {} } = {}) {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('serves the page files with the right MIME types', async () => {
  const cases = [
    ['/', 'text/html'],
    ['/index.html', 'text/html'],
    ['/diffusion-lab.js', 'text/javascript'],
    ['/worker.js', 'text/javascript'],
    ['/i18n.js', 'text/javascript'],
    ['/style.css', 'text/css'],
    ['/embed.css', 'text/css'],
    ['/sw.js', 'text/javascript'],
    ['/lab/timeline.js', 'text/javascript'],
    ['/models/denoiser.json', 'application/json'],
  ];
  for (const [p, type] of cases) {
    const res = await request(p);
    assert.equal(res.status, 200, p);
    assert.ok(res.headers['content-type'].startsWith(type), `${p}: ${res.headers['content-type']}`);
    assert.equal(Number(res.headers['content-length']), res.body.length, p);
    assert.equal(res.headers['cache-control'], 'no-cache', p);
  }
});

test('knows the MIME types of wasm, mjs and png', async () => {
  const { mimeType } = await import('../../scripts/serve.mjs');
  assert.equal(mimeType('pkg/diffusion_lab_bg.wasm'), 'application/wasm');
  assert.ok(mimeType('a.mjs').startsWith('text/javascript'));
  assert.equal(mimeType('a.PNG'), 'image/png');
  assert.ok(mimeType('manifest.json').startsWith('application/json'));
});

test('answers 404 for missing files and HEAD without a body', async () => {
  assert.equal((await request('/nope.js')).status, 404);
  assert.equal((await request('/models/nope.safetensors')).status, 404);
  const head = await request('/index.html', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  assert.ok(Number(head.headers['content-length']) > 0);
  assert.equal((await request('/index.html', { method: 'POST' })).status, 405);
});

test('refuses paths outside the root', async () => {
  for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/models/../../package.json',
    '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/..\\package.json', '/%00index.html']) {
    const res = await request(p);
    assert.ok([400, 403, 404].includes(res.status), `${p} gave ${res.status}`);
    assert.ok(!res.body.toString().includes('"devDependencies"'), `${p} leaked package.json`);
  }
});

test('revalidates with ETag and If-Modified-Since', async () => {
  const first = await request('/style.css');
  assert.ok(first.headers.etag);
  assert.equal((await request('/style.css', { headers: { 'If-None-Match': first.headers.etag } })).status, 304);
  assert.equal((await request('/style.css', { headers: { 'If-Modified-Since': first.headers['last-modified'] } })).status, 304);
});

test('sends the Content-Security-Policy when asked (csp: true, a policy string, or DLAB_CSP=1)', async () => {
  if (process.env.DLAB_CSP !== '1') {
    assert.equal((await request('/index.html')).headers['content-security-policy'], undefined, 'no CSP by default');
  }
  assert.match(CSP, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.match(CSP, /style-src 'self'(;|$)/);
  assert.match(CSP, /frame-ancestors \*/);
  for (const [csp, expected] of [[true, CSP], ["default-src 'none'", "default-src 'none'"]]) {
    const other = await startServer({ port: 0, csp });
    try {
      const { port } = new URL(other.url);
      for (const p of ['/', '/pkg/diffusion_lab.js', '/nope.js']) {
        const res = await new Promise((resolve, reject) => {
          http.get({ hostname: '127.0.0.1', port, path: p }, (r) => { r.resume(); r.on('end', () => resolve(r)); }).on('error', reject);
        });
        assert.equal(res.headers['content-security-policy'], expected, p);
      }
    } finally {
      other.server.close();
    }
  }
});

test('the CLI prints where it serves', async () => {
  const child = spawn(process.execPath, [path.join(REPO, 'scripts/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let timer;
    const line = await new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', (code) => reject(new Error(`exited with ${code}`)));
      timer = setTimeout(() => reject(new Error('no output')), 10_000);
    }).finally(() => clearTimeout(timer));
    assert.match(line, /^Serving www on http:\/\/127\.0\.0\.1:\d+\/$/);
  } finally {
    child.kill();
  }
  const csp = spawn(process.execPath, [path.join(REPO, 'scripts/serve.mjs'), '--port', '0', '--csp'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const line = await new Promise((resolve, reject) => {
      let out = '';
      csp.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.trim());
      });
      csp.on('exit', (code) => reject(new Error(`exited with ${code}`)));
    });
    assert.match(line, /\(with Content-Security-Policy\)$/);
  } finally {
    csp.kill();
  }
});

test('sends wasm, scripts and weights gzip-compressed when asked, images and refusals as they are', async () => {
  const { gunzipSync } = await import('node:zlib');
  const { readFile } = await import('node:fs/promises');
  for (const p of ['/pkg/diffusion_lab_bg.wasm', '/diffusion-lab.js', '/models/denoiser.safetensors']) {
    const plain = await readFile(path.join(REPO, 'www', p));
    const res = await request(p, { headers: { 'Accept-Encoding': 'gzip, deflate, br' } });
    assert.equal(res.status, 200, p);
    assert.equal(res.headers['content-encoding'], 'gzip', p);
    assert.equal(res.headers.vary, 'Accept-Encoding', p);
    assert.equal(Number(res.headers['content-length']), res.body.length, p);
    assert.ok(res.body.length < plain.length, `${p}: ${res.body.length} >= ${plain.length}`);
    assert.ok(gunzipSync(res.body).equals(plain), `${p}: the gzip body decodes to the file`);
    // the compressed variant has its own validator, so a cache never mixes the two
    const again = await request(p, { headers: { 'Accept-Encoding': 'gzip', 'If-None-Match': res.headers.etag } });
    assert.equal(again.status, 304, p);
    const plainRes = await request(p, { headers: { 'If-None-Match': res.headers.etag } });
    assert.equal(plainRes.status, 200, p);
    assert.equal(plainRes.headers['content-encoding'], undefined, p);
    assert.ok(plainRes.body.equals(plain), p);
  }
  for (const enc of ['gzip;q=0', 'identity', 'br']) {
    const res = await request('/diffusion-lab.js', { headers: { 'Accept-Encoding': enc } });
    assert.equal(res.headers['content-encoding'], undefined, enc);
  }
  const png = await request('/examples/' + JSON.parse(await readFile(path.join(REPO, 'www/examples/examples.json'), 'utf8'))[0].file,
    { headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(png.status, 200);
  assert.equal(png.headers['content-encoding'], undefined);
});

// A folder asked for without its trailing slash is redirected; the Location is the encoded path
// with one leading "/", whatever the folder is called, and the server keeps serving.
test('redirects to folders safely: any folder name, never to another host', { timeout: 10_000 }, async () => {
  const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = await import('node:fs');
  const root = mkdtempSync(path.join((await import('node:os')).tmpdir(), 'dlab-serve-'));
  mkdirSync(path.join(root, '模型'));
  writeFileSync(path.join(root, '模型', 'index.html'), 'hi');
  mkdirSync(path.join(root, 'models'));
  const own = await startServer({ port: 0, root });
  const get = (p) => new Promise((resolve, reject) => {
    const { hostname, port } = new URL(own.url);
    http.get({ hostname, port, path: p }, (res) => { res.resume(); resolve(res); }).on('error', reject);
  });
  try {
    const cjk = await get('/%E6%A8%A1%E5%9E%8B');
    assert.equal(cjk.statusCode, 301);
    assert.equal(cjk.headers.location, '/%E6%A8%A1%E5%9E%8B/');
    for (const p of ['/%2Fmodels', '//models', '///models']) {
      const res = await get(p);
      const location = res.headers.location ?? '';
      assert.ok(!location.startsWith('//'), `${p}: redirected to another host (${location})`);
      assert.ok([301, 400, 404].includes(res.statusCode), `${p}: ${res.statusCode}`);
    }
    assert.equal((await get('/%E6%A8%A1%E5%9E%8B/')).statusCode, 200, 'the server stopped serving');
  } finally {
    own.server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('concurrent first requests share one compression; HEAD compresses nothing', async () => {
  // a file of its own, which no other test has had compressed yet
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const root = mkdtempSync(path.join((await import('node:os')).tmpdir(), 'dlab-serve-'));
  writeFileSync(path.join(root, 'w.bin'), Buffer.alloc(4 << 20, 'diffusion '));
  const own = await startServer({ port: 0, root });
  const { hostname, port } = new URL(own.url);
  const fetchGz = (method) => new Promise((resolve, reject) => {
    http.request({ hostname, port, path: '/w.bin', method, headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
  try {
    const cold = await fetchGz('HEAD');
    assert.equal(cold.headers['content-encoding'], 'gzip');
    assert.equal(cold.headers['content-length'], undefined, 'a cold HEAD compressed the file to learn its length');
    const bodies = await Promise.all([1, 2, 3, 4, 5, 6].map(() => fetchGz('GET')));
    for (const b of bodies) assert.ok(b.body.equals(bodies[0].body));
    const warm = await fetchGz('HEAD');
    assert.equal(Number(warm.headers['content-length']), bodies[0].body.length);
  } finally {
    own.server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('an empty --host is refused instead of listening on every interface', async () => {
  const child = spawn(process.execPath, [path.join(REPO, 'scripts/serve.mjs'), '--port', '0', '--host='], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /--host must name an address/);
  await assert.rejects(startServer({ port: 0, host: '' }), /host must name an address/);
});

test('the policy closes plugins, <base> and form posts to other sites', () => {
  for (const d of ["object-src 'none'", "base-uri 'self'", "form-action 'self'"]) assert.ok(CSP.includes(d), d);
});
