#!/usr/bin/env node
// A small, dependency-free static file server for the diffusion-lab page (www/).
//
//   node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--root www] [--csp]
//
// --csp (or DLAB_CSP=1) sends the strict Content-Security-Policy below with every response, the
// policy a course site can put in front of the page: the page and the widget work under it.
//
// Nothing is computed on the server: it only hands out files. It sends the MIME types browsers
// insist on (application/wasm for WebAssembly streaming compilation, text/javascript for module
// scripts and module workers), answers 404 for missing files, refuses every path outside the
// root, and marks responses `Cache-Control: no-cache` so a rebuilt www/pkg or new model files are
// picked up on the next reload (the browser revalidates with If-Modified-Since / ETag and gets a
// cheap 304 when nothing changed).
//
// Text, JSON, WebAssembly and weight files go out gzip-compressed when the browser accepts it
// (as any static host does; measured: wasm 3.6x smaller, int8/NF4 weights 3-9 %), compressed once per file
// version and kept in memory. Images are sent as they are.
//
// The tests import `startServer({ port: 0 })` to run it in-process on a random free port.

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
import { readFile, stat, realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.wgsl': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

/**
 * The Content-Security-Policy the page is built to work under: nothing from other origins, no
 * inline scripts or styles, WebAssembly allowed ('wasm-unsafe-eval'), embeddable anywhere.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  'frame-ancestors *',
].join('; ');

const gzip = promisify(gzipCallback);
const COMPRESSIBLE = new Set(['.html', '.htm', '.js', '.mjs', '.css', '.json', '.map', '.wasm', '.txt', '.md', '.wgsl',
  '.svg', '.safetensors', '.bin']);
const gzipCache = new Map(); // file path -> {etag, body: Promise<Buffer>}

/**
 * The gzip body of a file, compressed once per version (etag): concurrent first requests share
 * one compression instead of each holding its own copy in memory.
 */
function gzipped(filePath, etag) {
  const hit = gzipCache.get(filePath);
  if (hit?.etag === etag) return hit.body;
  const body = readFile(filePath).then((data) => gzip(data, { level: 9 }));
  gzipCache.set(filePath, { etag, body });
  body.catch(() => gzipCache.delete(filePath));
  return body;
}

/** The compressed length when the body is already compressed (a HEAD does not start the work). */
async function gzippedLengthIfReady(filePath, etag) {
  const hit = gzipCache.get(filePath);
  if (hit?.etag !== etag) return undefined;
  return (await hit.body).length;
}

/** Accept-Encoding names gzip (or *) without q=0. */
function acceptsGzip(req) {
  return (req.headers['accept-encoding'] ?? '').split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';').map((p) => p.trim());
    const q = params.find((p) => p.startsWith('q='));
    return (name === 'gzip' || name === '*') && !(q && Number(q.slice(2)) === 0);
  });
}

export function mimeType(filePath) {
  return MIME_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

function isInside(root, candidate) {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function sendText(res, status, text, extraHeaders = {}) {
  const body = Buffer.from(text + '\n', 'utf8');
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...extraHeaders,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** Resolves a request path to a file under `root`, or returns {status} when it cannot. */
async function resolveFile(root, rawUrl) {
  let pathname;
  let encoded;
  try {
    const url = new URL(rawUrl, 'http://localhost');
    if (url.host !== 'localhost') return { status: 400 }; // "//host/x": not a path of this site
    encoded = url.pathname;
    pathname = decodeURIComponent(encoded);
  } catch {
    return { status: 400 };
  }
  if (pathname.includes('\0')) return { status: 400 };
  // Reject any `..` segment outright (also after decoding %2e%2e), then double-check the
  // resolved path (and, below, the real path behind symlinks) lies inside the root.
  if (pathname.split(/[\\/]/).includes('..')) return { status: 403 };
  let filePath = path.resolve(root, '.' + pathname);
  if (!isInside(root, filePath)) return { status: 403 };

  let info;
  try {
    info = await stat(filePath);
    if (info.isDirectory()) {
      // the Location is built from the still-encoded path (any folder name is valid in a
      // header then) and starts with exactly one "/" (a "//host" there would leave this site)
      if (!pathname.endsWith('/')) return { status: 301, location: '/' + encoded.replace(/^\/+/, '') + '/' };
      filePath = path.join(filePath, 'index.html');
      info = await stat(filePath);
    }
    const real = await realpath(filePath);
    if (!isInside(root, real)) return { status: 403 };
  } catch {
    return { status: 404 };
  }
  if (!info.isFile()) return { status: 404 };
  return { status: 200, filePath, info };
}

/**
 * Starts the static server.
 * @param {{port?: number, host?: string, root?: string, quiet?: boolean, csp?: boolean | string}} options
 *   port 0 picks a random free port; root is relative to the repository (default "www");
 *   csp: true sends CSP (above) with every response, a string sends that policy instead;
 *   the default is true when the environment has DLAB_CSP=1.
 * @returns {Promise<{server: import('node:http').Server, url: string, root: string}>}
 */
export async function startServer({
  port = 8080, host = '127.0.0.1', root = 'www', quiet = true, csp = process.env.DLAB_CSP === '1',
} = {}) {
  if (typeof host !== 'string' || !host.trim()) throw new Error('host must name an address (an empty one listens on every interface)');
  const rootAbs = await realpath(path.resolve(REPO_ROOT, root));
  const policy = csp === true ? CSP : (typeof csp === 'string' && csp ? csp : null);

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      // a bug must cost one request, not the server
      if (!quiet) console.error(`${req.method} ${req.url}: ${err.stack ?? err}`);
      if (!res.headersSent) sendText(res, 500, '500 Internal Server Error');
      else res.destroy();
    });
  });

  async function handle(req, res) {
    const started = Date.now();
    if (policy) res.setHeader('Content-Security-Policy', policy);
    const done = (status) => {
      if (!quiet) console.log(`${req.method} ${req.url} ${status} ${Date.now() - started} ms`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendText(res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
      return done(405);
    }
    const found = await resolveFile(rootAbs, req.url);
    if (found.status === 301) {
      res.writeHead(301, { Location: found.location, 'Content-Length': 0 });
      res.end();
      return done(301);
    }
    if (found.status !== 200) {
      const names = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found' };
      sendText(res, found.status, `${found.status} ${names[found.status] ?? 'Error'}`);
      return done(found.status);
    }

    const { filePath, info } = found;
    const compress = COMPRESSIBLE.has(path.extname(filePath).toLowerCase()) && acceptsGzip(req);
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}${compress ? '-gz' : ''}"`;
    const lastModified = new Date(Math.floor(info.mtimeMs / 1000) * 1000).toUTCString();
    const headers = {
      'Content-Type': mimeType(filePath),
      'Cache-Control': 'no-cache',
      ETag: etag,
      'Last-Modified': lastModified,
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Accept-Encoding',
    };
    const inm = req.headers['if-none-match'];
    const ims = req.headers['if-modified-since'];
    const notModified = inm
      ? inm.split(',').some((t) => t.trim() === etag)
      : ims && !Number.isNaN(Date.parse(ims)) && Math.floor(info.mtimeMs / 1000) * 1000 <= Date.parse(ims);
    if (notModified) {
      res.writeHead(304, headers);
      res.end();
      return done(304);
    }
    if (compress && req.method === 'HEAD') {
      const length = await gzippedLengthIfReady(filePath, etag);
      res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip', ...(length === undefined ? {} : { 'Content-Length': length }) });
      res.end();
      return done(200);
    }
    if (compress) {
      let body;
      try {
        body = await gzipped(filePath, etag);
      } catch {
        sendText(res, 500, '500 Internal Server Error');
        return done(500);
      }
      res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip', 'Content-Length': body.length });
      res.end(body);
      return done(200);
    }
    res.writeHead(200, { ...headers, 'Content-Length': info.size });
    if (req.method === 'HEAD') {
      res.end();
      return done(200);
    }
    const stream = createReadStream(filePath);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
    res.on('finish', () => done(200));
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { server, url: `http://${shownHost}:${addr.port}/`, root: rootAbs, csp: policy };
}

function parseArgs(argv) {
  const opts = { port: 8080, host: '127.0.0.1', root: 'www' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [key, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const value = () => inline ?? argv[++i];
    if (key === '--port' || key === '-p') opts.port = Number(value());
    else if (key === '--host') opts.host = value();
    else if (key === '--root') opts.root = value();
    else if (key === '--verbose' || key === '-v') opts.quiet = false;
    else if (key === '--csp') opts.csp = true;
    else if (key === '--help' || key === '-h') {
      console.log('usage: node scripts/serve.mjs [--port 8080] [--host 127.0.0.1] [--root www] [--csp] [--verbose]');
      process.exit(0);
    } else {
      console.error(`serve.mjs: unknown argument ${arg} (try --help)`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    console.error('serve.mjs: --port must be an integer from 0 to 65535');
    process.exit(2);
  }
  if (typeof opts.host !== 'string' || opts.host.trim() === '') {
    // an empty host would make node listen on every interface
    console.error('serve.mjs: --host must name an address (e.g. 127.0.0.1, or 0.0.0.0 for every interface)');
    process.exit(2);
  }
  if (opts.quiet === undefined) opts.quiet = true;
  return opts;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const opts = parseArgs(process.argv.slice(2));
  try {
    const { url, csp } = await startServer(opts);
    console.log(`Serving ${opts.root} on ${url}${csp ? ' (with Content-Security-Policy)' : ''}`);
  } catch (err) {
    const why = err.code === 'EADDRINUSE' ? `port ${opts.port} is already in use (try --port 0)`
      : err.code === 'ENOENT' ? `folder ${opts.root} does not exist`
      : err.message;
    console.error(`serve.mjs: cannot start: ${why}`);
    process.exit(1);
  }
}
