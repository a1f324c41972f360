// scorm.html in a SCORM 1.2 player (the SCORM activity of Moodle and ILIAS): finds the platform's
// API, reports "incomplete" when the learner starts and "completed" once they have made a picture
// and looked at the forward process, keeps that progress for the next visit (cmi.suspend_data), and
// ends the session when the page goes away. Opened without a player, the widget works the same and
// nothing is reported.
import { pickLang } from './i18n.js';

/** The SCORM 1.2 API object in this window's parents (or its opener's), as the standard looks for it. */
export function findApi(start) {
  for (let win = start, depth = 0; win && depth < 10; depth++) {
    try {
      if (win.API && typeof win.API.LMSInitialize === 'function') return win.API;
    } catch {
      // a parent on another origin: not the player
    }
    if (win.parent === win) break;
    win = win.parent;
  }
  return null;
}

const lab = document.querySelector('diffusion-lab');
if (!lab.hasAttribute('lang')) lab.setAttribute('lang', pickLang(navigator.language));
document.documentElement.lang = lab.getAttribute('lang');

const api = findApi(window) ?? (window.opener ? findApi(window.opener) : null);
if (api && String(api.LMSInitialize('')) === 'true') {
  const progress = { generated: false, forward: false };
  try {
    Object.assign(progress, JSON.parse(api.LMSGetValue('cmi.suspend_data') || '{}'));
  } catch {
    // progress from another package: start over
  }
  const status = String(api.LMSGetValue('cmi.core.lesson_status'));
  if (status === 'not attempted' || status === '') {
    api.LMSSetValue('cmi.core.lesson_status', 'incomplete');
    api.LMSCommit('');
  }
  const complete = () => progress.generated === true && progress.forward === true;
  const record = (what) => {
    if (progress[what] === true) return;
    progress[what] = true;
    api.LMSSetValue('cmi.suspend_data', JSON.stringify({ generated: progress.generated, forward: progress.forward }));
    if (complete()) api.LMSSetValue('cmi.core.lesson_status', 'completed');
    api.LMSCommit('');
  };
  lab.addEventListener('done', () => record('generated'));
  lab.addEventListener('compare', () => record('generated'));
  lab.addEventListener('forward', () => record('forward'));
  let finished = false;
  window.addEventListener('pagehide', () => {
    if (finished) return;
    finished = true;
    api.LMSSetValue('cmi.core.exit', complete() ? '' : 'suspend');
    api.LMSCommit('');
    api.LMSFinish('');
  });
}
