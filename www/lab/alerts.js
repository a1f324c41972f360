// What went wrong, in the learner's language: the element's alert (role="alert") and its
// `error` and `cancel` events. A cancel is no error: it says so in the status line instead.

import { messages } from '../i18n.js';
import { LabError } from './client.js';

export class Alerts {
  constructor(host) {
    this.host = host;
    this.error = null; // the LabError shown, re-rendered when the language changes
  }

  clear() {
    this.error = null;
    this.host.el.alert.textContent = '';
  }

  render() {
    this.host.el.alert.textContent = this.error ? this.describe(this.error) : '';
  }

  /** Shows an error in the alert (or "cancelled" in the status), reports it by event, returns an Error to reject with. */
  fail(err) {
    const host = this.host;
    const e = err instanceof LabError ? err
      : new LabError({ kind: 'generate', code: 'other', detail: String(err?.message ?? err) });
    const { done, total } = host.jobs.run;
    if (e.code === 'cancelled') {
      if (e.kind === 'load' || total === 0) host.setStatus('statusCancelledBefore');
      else host.setStatus('statusCancelled', { step: done, total });
      host.emit('cancel', { kind: e.kind, step: done, total });
      return Object.assign(new Error('cancelled'), { kind: e.kind, code: 'cancelled' });
    }
    this.error = e;
    this.render();
    if (e.kind !== 'input') host.setStatus('statusFailed');
    const message = host.el.alert.textContent;
    if (e.input) e.input.focus();
    host.emit('error', { message, kind: e.kind, code: e.code });
    return Object.assign(new Error(message), { kind: e.kind, code: e.code });
  }

  /** The localized text for a LabError: its own key, or a lead sentence by kind and code plus the detail. */
  describe(e) {
    const t = (key, params) => this.host.t(key, params);
    if (e.key) {
      const lead = t(e.key, e.params);
      return e.detail && e.kind !== 'input' && !('message' in e.params) ? t('errDetail', { lead, detail: e.detail }) : lead;
    }
    const kind = { load: 'Load', forward: 'Forward' }[e.kind] ?? 'Generate';
    const key = `err${kind}_${e.code}` in messages.en ? `err${kind}_${e.code}` : `err${kind}_other`;
    const lead = t(key, e.params);
    return e.detail ? t('errDetail', { lead, detail: e.detail }) : lead;
  }
}
