// embed.html: copies the query parameters onto the <diffusion-lab> element, tells a parent page
// the widget's height, and registers the service worker so that a second visit works offline.
import { pickLang } from './i18n.js';
import { VIEW_ATTRIBUTES } from './diffusion-lab.js';
import { reportHeight } from './embed-height.js';
import { registerServiceWorker } from './sw-register.js';

const params = new URLSearchParams(location.search);
const lab = document.querySelector('diffusion-lab');
const lang = pickLang(params.get('lang') || navigator.language);
document.documentElement.lang = lang;
lab.setAttribute('lang', lang);
// The element checks every value itself (a wrong one is ignored with a notice).
for (const name of VIEW_ATTRIBUTES) {
  const value = params.get(name);
  if (value !== null) lab.setAttribute(name, value);
}
if (params.get('backend') !== null) lab.setAttribute('backend', params.get('backend'));
if (params.get('cpu') === '1') lab.setAttribute('force-cpu', '');
if (params.get('autoload') === '1') lab.setAttribute('autoload', '');
if (params.get('autorun') === '1') lab.setAttribute('autorun', '');

reportHeight();
registerServiceWorker();
