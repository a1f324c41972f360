// The element's model: its worker client (shared per manifest and backend), the wasm's limits
// (asked once the element is on the page, no model needed), the model download with its
// progress bar, and the notices about the backend it runs on and the browser cache.

import { getClient, readLimits } from './client.js';

export class Loading {
  constructor(host) {
    this.host = host;
    this.limits = null;         // the wasm's limits and defaults (src/limits.rs) once known
    this.info = null;           // what the loaded model says (LabClient.info)
    this.models = null;         // info.models: {default, student?, teacher}
    this.loadingClient = null;  // the client whose model this element waits for
    this.heldClient = null;     // the client this element keeps alive (LabClient.retain)
    this.progress = null;       // [loaded, total] bytes while the files download
    this.asking = null;         // the limits being asked for
  }

  /** The client for the element's `model-url` and backend; the element retains it. */
  client() {
    const host = this.host;
    const client = getClient(host.modelUrl, host.backendChoice);
    if (client !== this.heldClient) {
      this.heldClient?.release();
      client.retain();
      this.heldClient = client;
    }
    return client;
  }

  /** Off the page: the worker may end once no element uses it (LabClient.idleMs later). */
  release() {
    this.heldClient?.release();
    this.heldClient = null;
  }

  /** Another manifest or backend: the next run loads it. */
  forget() {
    this.info = null;
    this.models = null;
  }

  /** Resolves with the limits once they are known (asked again after a failure); `onLimits` sees them first. */
  whenLimits(onLimits) {
    if (this.limits) return Promise.resolve(this.limits);
    if (!this.asking) {
      this.asking = readLimits(this.client()).then((limits) => {
        this.asking = null;
        this.limits = limits;
        onLimits(limits);
        return limits;
      }, (err) => {
        this.asking = null;
        throw err;
      });
    }
    return this.asking;
  }

  /** Loads the model unless this element has it already; shows the progress while it downloads. */
  async ensureLoaded() {
    const host = this.host;
    const client = this.client();
    if (this.info && client.info === this.info) return this.info;
    if (!client.info) {
      host.setStatus('statusLoading');
      this.setProgress(0, 0);
      host.el.progress.hidden = false;
    }
    this.loadingClient = client;
    host.renderButtons();
    try {
      this.info = await client.load((p) => this.onProgress(p));
    } finally {
      this.loadingClient = null;
      host.el.progress.hidden = true;
      host.renderButtons();
    }
    if (!this.models) {
      this.models = this.info.models;
      host.settings.applyModel();
    }
    host.settings.applyForward({ preset: false }); // t goes as far as the model's schedule
    host.timeline.plot.setSchedule(this.info.alphaBars);
    host.forwardPanel.onModel(this.info);
    this.showBackend();
    this.renderNotice();
    this.renderCacheNotice();
    return this.info;
  }

  onProgress(p) {
    this.setProgress(p.loaded, p.total);
    if (p.file) this.host.setStatus('statusLoadingFile', { file: p.file });
    else this.host.setStatus('statusLoading');
  }

  setProgress(loaded, total) {
    const bar = this.host.el.progressBar;
    if (total > 0) {
      bar.max = total;
      bar.value = Math.min(loaded, total);
    } else {
      bar.removeAttribute('value'); // indeterminate
    }
    this.progress = total > 0 ? [loaded, total] : null;
    this.renderProgress();
  }

  renderProgress() {
    const host = this.host;
    const p = this.progress;
    host.el.progressText.textContent = p
      ? host.t('progressMb', { loaded: host.number(p[0] / 1e6, 1), total: host.number(p[1] / 1e6, 1) })
      : '';
  }

  /** "Ready: WebGPU (adapter)" or the CPU path, in the status line. */
  showBackend() {
    const host = this.host;
    const info = this.info;
    if (!info) return;
    let backend;
    if (info.backend === 'cpu') backend = host.t('backendCpu');
    else if (info.softwareAdapter) backend = host.t('backendWebgpuSoftware');
    else backend = info.adapter ? host.t('backendWebgpu', { adapter: info.adapter }) : host.t('backendWebgpuNoName');
    // The backend name is itself localized: store the key and re-render on language change.
    host.loc.text(host.el.status, 'statusReady', { backend });
  }

  /** On the CPU path: why (no WebGPU, or only a software one, with "Use WebGPU anyway"). */
  renderNotice() {
    const host = this.host;
    const info = this.info;
    const show = info?.backend === 'cpu';
    const { notice, useWebgpu } = host.el;
    notice.hidden = !show;
    if (!show) {
      useWebgpu.hidden = true;
      notice.textContent = '';
      return;
    }
    useWebgpu.hidden = !info.skippedSoftwareAdapter;
    if (info.skippedSoftwareAdapter) {
      notice.textContent = host.t('cpuNoticeSoftware');
      return;
    }
    const reason = info.fallbackReason ? ` ${host.t('cpuNoticeReason', { reason: info.fallbackReason })}` : '';
    notice.textContent = host.t('cpuNotice') + reason;
  }

  /** The model works, but its files could not be kept for the next visit (e.g. the storage is full). */
  renderCacheNotice() {
    const host = this.host;
    const warning = this.info?.cacheWarning ?? '';
    const { cacheNotice } = host.el;
    cacheNotice.hidden = !warning;
    cacheNotice.textContent = !warning ? ''
      : /QuotaExceeded/i.test(warning) ? host.t('cacheNoticeFull')
        : host.t('cacheNotice', { reason: warning });
  }
}
