// The service worker of the diffusion-lab page (registered by index.html and embed.html through
// sw-register.js): it keeps the page files (HTML, JS, CSS, the WebAssembly module, the example
// pictures) so that a second visit works offline.
//
// Online, every request for these files goes to the network (an update shows at the next
// reload), and nothing is written on the way: a failing cache write cannot cost the answer.
// Offline, one kept copy answers, and it is always one whole version of the site: on install and
// after each page load the worker fetches the whole list again (revalidated against the kept
// copies' ETags, cheap when nothing changed) and, only when every file came and something changed, keeps them as a new set, named
// after a hash of their contents, and then drops the old set. So new page JS never meets an
// old worker.js or wasm offline, and no version number is bumped by hand.
// Every other request (other pages, the model files) is left alone: the model loader keeps the
// model files itself, verified by sha256, in the Cache API store "diffusion-lab-models".

const PREFIX = 'diffusion-lab-page-';
const COMPLETE = '?diffusion-lab-complete'; // written last: a set without it is unfinished

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
  'i18n/de.js',
  'i18n/en.js',
  'worker.js',
  'gpu-counters.js',
  'lab/alerts.js',
  'lab/client.js',
  'lab/compare.js',
  'lab/detail.js',
  'lab/draw.js',
  'lab/explore.js',
  'lab/forward.js',
  'lab/inputs.js',
  'lab/jobs.js',
  'lab/loading.js',
  'lab/maths.js',
  'lab/paint.js',
  'lab/parse.js',
  'lab/plot.js',
  'lab/presets.js',
  'lab/protocol.js',
  'lab/reverse.js',
  'lab/schedule.js',
  'lab/settings.js',
  'lab/share.js',
  'lab/styles.js',
  'lab/tabs.js',
  'lab/template.js',
  'lab/timeline.js',
  'pkg/diffusion_lab.js',
  'pkg/diffusion_lab_bg.wasm',
];
const EXAMPLES = 'examples/examples.json';

const scope = () => new URL(self.registration.scope);
const keptPaths = () => new Set(PAGE_FILES.map((f) => new URL(f, scope()).pathname));
/** One of the page files or an example picture (a page's query string does not matter). */
const isKept = (url) => keptPaths().has(url.pathname) || url.pathname.startsWith(new URL('examples/', scope()).pathname);

/**
 * examples.json and the example pictures it lists, as [file, response] pairs, if the site has
 * them. They are a bonus: one missing must not keep the page files from being kept.
 */
async function exampleFiles(set) {
  try {
    const res = await fetchCurrent(EXAMPLES, set);
    if (!res.ok) return [];
    const list = await res.clone().json();
    const pictures = list.filter((e) => typeof e?.file === 'string').map((e) => `examples/${e.file}`);
    const answers = await Promise.all(pictures.map((f) => fetchCurrent(f, set).catch(() => null)));
    return [[EXAMPLES, res], ...pictures.map((f, i) => [f, answers[i]]).filter(([, r]) => r?.ok)];
  } catch {
    return [];
  }
}

async function hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].slice(0, 8).map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The newest complete set, or null. */
async function currentSet() {
  for (const name of (await caches.keys()).filter((n) => n.startsWith(PREFIX)).reverse()) {
    const cache = await caches.open(name);
    if (await cache.match(new URL(COMPLETE, scope()))) return cache;
  }
  return null;
}

let refreshing = null;
let refreshAgain = false;

/**
 * Brings the kept set up to date. A call while one runs asks for one more run after it: a page
 * load during a refresh may have met newer files than the running refresh fetched.
 */
function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      await refreshOnce();
    } while (refreshAgain);
  })().finally(() => { refreshing = null; });
  return refreshing;
}

/**
 * A page file as the server has it now: the kept copy when the server answers that copy's ETag
 * with 304, else the new response. The worker asks itself (the browser's HTTP cache stays out:
 * shared with the page's own requests, it could hand back an older body under a race).
 */
async function fetchCurrent(file, set) {
  const url = new URL(file, scope());
  const old = await set?.match(url);
  const etag = old?.headers.get('etag');
  const response = await fetch(url, { cache: 'no-store', headers: etag ? { 'If-None-Match': etag } : {} });
  return response.status === 304 && old ? old : response;
}

/** Fetches every file; keeps them as a new set when all came and any changed. */
async function refreshOnce() {
  const paths = [...PAGE_FILES];
  const set = await currentSet();
  const responses = await Promise.all(paths.map((f) => fetchCurrent(f, set)));
  if (responses.some((r) => !r.ok || r.type !== 'basic')) throw new Error('a page file could not be fetched');
  const all = [...paths.map((f, i) => [f, responses[i]]), ...await exampleFiles(set)];
  // The set is named after what its files hold, so a new name always means new contents.
  const digests = await Promise.all(all.map(async ([f, r]) => `${f} ${await hex(await r.clone().arrayBuffer())}`));
  const name = PREFIX + await hex(new TextEncoder().encode(digests.join('\n')));
  const names = await caches.keys();
  if (!names.includes(name) || !(await (await caches.open(name)).match(new URL(COMPLETE, scope())))) {
    const cache = await caches.open(name);
    for (const [f, r] of all) await cache.put(new URL(f, scope()), r);
    await cache.put(new URL(COMPLETE, scope()), new Response(name));
  }
  for (const other of await caches.keys()) {
    if (other.startsWith(PREFIX) && other !== name) await caches.delete(other);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(refresh().then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

async function networkFirst(event) {
  const { request } = event;
  const navigate = request.mode === 'navigate';
  try {
    const response = await fetch(request);
    // a page load online: bring the kept set up to date (a failure keeps the old one)
    if (navigate && response.ok) event.waitUntil(refresh().catch(() => {}));
    return response;
  } catch (err) {
    const set = await currentSet();
    // A page address carries its settings in the query (embed.html?lang=de&...): one copy serves all.
    const copy = await set?.match(request, { ignoreSearch: navigate });
    if (copy) return copy;
    throw err;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || !isKept(url)) return;
  event.respondWith(networkFirst(event));
});
