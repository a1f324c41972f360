// The element's runs, one after another: a queue (a promise chain), the run going on and its
// worker job, cancel() for all of them, and the busy state the buttons show.

import { LabError } from './client.js';

export class Jobs {
  constructor(host) {
    this.host = host;
    this.busy = false;
    this.chain = Promise.resolve();
    this.job = null;        // the running worker job: {id, promise, cancel}
    this.epoch = 0;         // cancel() counts up: a run queued before it does not start
    this.runEpoch = 0;      // the epoch of the run going on
    this.queued = 0;        // runs waiting in the chain
    this.cancelStoppedRun = false;
    this.run = { done: 0, total: 0 }; // steps of the run going on, for the cancel status
  }

  /** A run is loading, running or queued: cancel() stops it. */
  get cancellable() {
    return Boolean(this.job) || this.queued > 0 || this.host.loading.loadingClient !== null;
  }

  setBusy(busy) {
    const host = this.host;
    this.busy = busy;
    host.toggleAttribute('data-busy', busy);
    host.el.views.setAttribute('aria-busy', String(busy));
    host.renderButtons();
  }

  /** Runs `fn` after every run queued before it, unless cancel() came since `epoch`. */
  enqueue(fn, epoch = this.epoch) {
    const host = this.host;
    this.queued++;
    host.renderButtons();
    const run = this.chain.then(() => {
      this.queued--;
      if (epoch !== this.epoch) {
        host.renderButtons();
        // Say so only where nothing else was stopped by the same cancel (its status stays).
        if (!this.cancelStoppedRun) host.setStatus('statusCancelledBefore');
        host.emit('cancel', { kind: 'generate', step: 0, total: 0 });
        throw Object.assign(new Error('cancelled'), { kind: 'generate', code: 'cancelled' });
      }
      this.runEpoch = epoch;
      return fn();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  /** Runs `fn` in the queue outside any run's epoch (a load the page asked for). */
  after(fn) {
    this.chain = this.chain.then(fn);
  }

  /** Stops the running job after its current step, the model download, and every queued run. */
  cancel() {
    const loadingClient = this.host.loading.loadingClient;
    this.epoch++;
    this.cancelStoppedRun = Boolean(this.job || loadingClient);
    if (this.job) this.job.cancel();
    else if (loadingClient) loadingClient.cancelLoad();
  }

  /** The run that is going on was cancelled since it started (checked between its stages). */
  stopRequested() {
    return this.runEpoch !== this.epoch;
  }

  cancelledError(kind = 'generate') {
    return new LabError({ kind, code: 'cancelled', detail: 'cancelled' });
  }

  /** Sends a cancellable job to the worker and keeps it as the current one until it ends. */
  runJob(op, payload, onStep) {
    const job = this.host.loading.client().start(op, payload, onStep);
    this.job = job;
    this.host.renderButtons();
    const clear = () => {
      if (this.job === job) this.job = null;
      this.host.renderButtons();
    };
    return job.promise.finally(clear);
  }

  /**
   * What every run shares: busy while `body` runs, the alert cleared, the model loaded first, a
   * cancel since the run was queued honoured, a failure shown (and passed to `onError`) and rethrown.
   */
  async runLoaded(body, onError = null) {
    const host = this.host;
    this.setBusy(true);
    host.alerts.clear();
    try {
      await host.loading.ensureLoaded();
      if (this.stopRequested()) throw this.cancelledError();
      return await body();
    } catch (err) {
      const error = host.alerts.fail(err);
      onError?.(error);
      throw error;
    } finally {
      this.setBusy(false);
    }
  }
}
