// The service worker of the diffusion-lab page (registered by index.html and embed.html through
// sw-register.js): it keeps the page files (HTML, JS, CSS, the WebAssembly module, the example
// pictures) so that a second visit works offline.
//
// Network first: a request for one of these files goes to the network while there is one (so an
// update shows up on the next reload) and the answer is kept; without a network the kept copy
// answers. Every other request (other pages on the site, the model files) is left alone: the
// model loader keeps the model files itself, verified by sha256, in the Cache API store
// "diffusion-lab-models", and falls back to it when offline.
//
// Bump VERSION when the list below changes; an old version's cache is deleted on activation.

const VERSION = 'v2';
const CACHE = `diffusion-lab-page-${VERSION}`;
const PREFIX = 'diffusion-lab-page-';

const PAGE_FILES = [
  './',
  'index.html',
  'embed.html',
  'style.css',
  'embed.css',
  'page.js',
  'embed.js',
  'embed-height.js',
  'embed-resize.js',
  'sw-register.js',
  'diffusion-lab.js',
  'i18n.js',
  'worker.js',
  'lab/client.js',
  'lab/compare.js',
  'lab/draw.js',
  'lab/forward.js',
  'lab/limits.js',
  'lab/presets.js',
  'lab/share.js',
  'lab/styles.js',
  'lab/template.js',
  'lab/timeline.js',
  'pkg/diffusion_lab.js',
  'pkg/diffusion_lab_bg.wasm',
];
const EXAMPLES = 'examples/examples.json';

const scope = () => new URL(self.registration.scope);
const kept = () => new Set(PAGE_FILES.map((f) => new URL(f, scope()).pathname));
/** One of the page files or an example picture (a page's query string does not matter). */
const isKept = (url) => kept().has(url.pathname) || url.pathname.startsWith(new URL('examples/', scope()).pathname);

/** The example pictures listed in examples.json, if the site has them. */
async function exampleFiles() {
  try {
    const res = await fetch(new URL(EXAMPLES, scope()));
    if (!res.ok) return [];
    const list = await res.json();
    return [EXAMPLES, ...list.filter((e) => typeof e?.file === 'string').map((e) => `examples/${e.file}`)];
  } catch {
    return [];
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(PAGE_FILES.map((f) => new Request(new URL(f, scope()), { cache: 'no-cache' })));
    // Examples are a bonus: one missing must not stop the page files from being kept.
    await Promise.all((await exampleFiles()).map((f) => cache.add(new URL(f, scope())).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
  })());
});

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  // A page address carries its settings in the query (embed.html?lang=de&...): keep one copy.
  const navigate = request.mode === 'navigate';
  const url = new URL(request.url);
  const key = navigate ? url.origin + url.pathname : request;
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') await cache.put(key, response.clone());
    return response;
  } catch (err) {
    const copy = await cache.match(key, { ignoreSearch: navigate });
    if (copy) return copy;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !isKept(url)) return;
  event.respondWith(networkFirst(request));
});
