// embed.html: copies the query parameters onto the <diffusion-lab> element.
import { pickLang } from './i18n.js';

const params = new URLSearchParams(location.search);
const lab = document.querySelector('diffusion-lab');
const lang = pickLang(params.get('lang') || navigator.language);
document.documentElement.lang = lang;
lab.setAttribute('lang', lang);
for (const name of ['prompt', 'steps', 'seed', 'sampler', 'guidance']) {
  const value = params.get(name);
  if (value !== null) lab.setAttribute(name, value);
}
if (params.get('cpu') === '1') lab.setAttribute('force-cpu', '');
if (params.get('autoload') === '1') lab.setAttribute('autoload', '');
