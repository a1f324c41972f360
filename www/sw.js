// The service worker of the diffusion-lab page (registered by index.html and embed.html through
// sw-register.js): it keeps the page files (HTML, JS, CSS, the WebAssembly module, the example
// pictures) so that a second visit works offline.
//
// Network first: every request goes to the network while there is one (so an update shows up on
// the next reload) and the answer is kept; without a network the kept copy answers.
// The model files (models/) are left alone: the model loader keeps them itself, verified by
// sha256, in the Cache API store "diffusion-lab-models", and falls back to it when offline.
//
// Bump VERSION when the list below changes; an old version's cache is deleted on activation.

const VERSION = 'v1';
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
  'sw-register.js',
  'diffusion-lab.js',
  'i18n.js',
  'worker.js',
  'lab/client.js',
  'lab/compare.js',
  'lab/draw.js',
  'lab/forward.js',
  'lab/styles.js',
  'lab/template.js',
  'lab/timeline.js',
  'pkg/diffusion_lab.js',
  'pkg/diffusion_lab_bg.wasm',
];
const EXAMPLES = 'examples/examples.json';

const scope = () => new URL(self.registration.scope);
const isModelFile = (url) => url.pathname.startsWith(new URL('models/', scope()).pathname);

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
  try {
    const response = await fetch(request);
    if (response.ok && response.type === 'basic') await cache.put(request, response.clone());
    return response;
  } catch (err) {
    const navigate = request.mode === 'navigate';
    // A page address carries its settings in the query (embed.html?lang=de&...): any copy will do.
    const kept = await cache.match(request, { ignoreSearch: navigate })
      ?? (navigate ? await cache.match(new URL('index.html', scope())) : undefined);
    if (kept) return kept;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !url.href.startsWith(scope().href) || isModelFile(url)) return;
  event.respondWith(networkFirst(request));
});
