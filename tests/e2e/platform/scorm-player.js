// The SCORM 1.2 run-time API as a player offers it, recording every call in window.scormCalls;
// the data model keeps what the package sets (cmi.core.lesson_status starts "not attempted").
window.scormCalls = [];
const data = { 'cmi.core.lesson_status': 'not attempted', 'cmi.suspend_data': '', 'cmi.core.exit': '' };
let state = 'new';
const call = (name, args, result) => {
  window.scormCalls.push({ name, args, state });
  return result;
};
window.API = {
  LMSInitialize: (arg) => { const ok = state === 'new' && arg === ''; if (ok) state = 'running'; return call('LMSInitialize', [arg], String(ok)); },
  LMSGetValue: (key) => call('LMSGetValue', [key], state === 'running' ? (data[key] ?? '') : ''),
  LMSSetValue: (key, value) => { const ok = state === 'running'; if (ok) data[key] = String(value); return call('LMSSetValue', [key, value], String(ok)); },
  LMSCommit: (arg) => call('LMSCommit', [arg], String(state === 'running')),
  LMSFinish: (arg) => { const ok = state === 'running'; state = 'finished'; return call('LMSFinish', [arg], String(ok)); },
  LMSGetLastError: () => '0',
  LMSGetErrorString: () => '',
  LMSGetDiagnostic: () => '',
};
window.scormData = data;
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('sco').src = new URLSearchParams(location.search).get('sco');
});
