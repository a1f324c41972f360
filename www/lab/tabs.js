// The four views as tabs (a WAI-ARIA tab list): click or arrow keys, Home, End; a locked mode
// keeps the other tabs disabled.

import { MODES } from './settings.js';

export class Tabs {
  constructor(host) {
    this.host = host;
    this.mode = 'reverse';
    const { tabs } = host.el;
    for (const tab of this.list()) {
      tab.addEventListener('click', () => this.select(tab.dataset.mode));
    }
    tabs.addEventListener('keydown', (event) => {
      if (host.presets.isLocked('mode')) return;
      const list = this.list();
      const i = list.findIndex((t) => t.dataset.mode === this.mode);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: list.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const tab = list[(next + list.length) % list.length];
      this.select(tab.dataset.mode, { focus: true });
    });
  }

  list() {
    return [...this.host.el.tabs.querySelectorAll('[role="tab"]')];
  }

  select(mode, { focus = false } = {}) {
    const host = this.host;
    if (!MODES.includes(mode)) mode = 'reverse';
    const changed = mode !== this.mode;
    this.mode = mode;
    for (const tab of this.list()) {
      const selected = tab.dataset.mode === mode;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      host.$(tab.getAttribute('aria-controls')).hidden = !selected;
      if (selected && focus) tab.focus();
    }
    // The status line and alert travel with the visible panel, right below its form; what they
    // said about another panel's last run is over once the learner moves on.
    host.shadowRoot.querySelector(`[data-slot="${mode}"]`).append(host.el.messages);
    if (changed && !host.busy) {
      host.alerts.clear();
      host.loading.showBackend();
    }
    if (mode !== 'reverse') host.timeline.stop();
    host.renderLocks();
    if (mode === 'compare' || mode === 'explore') host.syncPanels();
    if (mode === 'forward') host.forwardPanel.activate().catch((err) => host.fail(err));
    else host.forwardPanel.deactivate();
    if (changed) host.emit('modechange', { mode });
  }

  /** With `mode` locked, only the tab shown can be chosen. */
  renderLocks() {
    const lockMode = this.host.presets.isLocked('mode');
    for (const tab of this.list()) tab.disabled = lockMode && tab.dataset.mode !== this.mode;
  }
}
