// The demo page's language switch (German / English). The page holds both texts; this shows
// one of them and tells <diffusion-lab> to speak the same language. Without JavaScript, both
// languages stay visible. It also registers the service worker.

import { pickLang } from './i18n.js';
import { registerServiceWorker } from './sw-register.js';

function storedLang() {
  try {
    return localStorage.getItem('diffusion-lab-lang');
  } catch {
    return null; // storage blocked (private mode, file://): just use the default
  }
}

function setLang(lang, remember) {
  const root = document.documentElement;
  root.lang = lang;
  root.dataset.uiLang = lang;
  for (const lab of document.querySelectorAll('diffusion-lab')) lab.setAttribute('lang', lang);
  for (const button of document.querySelectorAll('[data-set-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.setLang === lang));
  }
  if (remember) {
    try {
      localStorage.setItem('diffusion-lab-lang', lang);
    } catch {
      // not remembered: fine
    }
  }
}

const fromQuery = new URLSearchParams(location.search).get('lang');
setLang(pickLang(fromQuery || storedLang() || navigator.language), false);

for (const button of document.querySelectorAll('[data-set-lang]')) {
  button.addEventListener('click', () => setLang(button.dataset.setLang, true));
}

// A second visit works offline: the page files are kept by the service worker (sw.js), the
// model files by the model loader (Cache API store "diffusion-lab-models").
registerServiceWorker();
