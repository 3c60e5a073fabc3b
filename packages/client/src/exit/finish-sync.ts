import { Worker } from 'node:worker_threads';
import { EXIT_STATE, type FinishJob, type FinishOutcome } from './finish-job.js';

const MESSAGE_BYTES = 256 * 1024;

/**
 * Finishes runs from a process that is exiting, synchronously. Past `beforeExit` (an `exit`
 * listener, or a signal after which the script must not go on) the main thread can run no
 * promise, so a worker thread writes the runs' remaining points and final status through the
 * usual store code (the embedded store, or the REST client) while the main thread blocks in
 * `Atomics.wait`, for at most the job's deadline.
 *
 * The worker is started when the first run starts ({@link ExitWorker.warm}), so that its modules
 * are loaded before they are needed: at exit only the writes remain (milliseconds, not the
 * second a cold start costs). It is `unref`'d: it never keeps the process alive, and it waits
 * idle until then.
 *
 * @example
 * const exitWorker = new ExitWorker();
 * await exitWorker.warm('rest');
 * exitWorker.finish({ target, runs: [{ runId, metrics, status: 'KILLED', endTime: Date.now() }], timeoutMs: 3000 });
 */
export class ExitWorker {
  #worker: Worker | undefined;
  readonly #state = new SharedArrayBuffer(8);
  readonly #message = new SharedArrayBuffer(MESSAGE_BYTES);
  readonly #ready = new Map<'rest' | 'embedded', Promise<void>>();

  /**
   * Starts the worker (once) and has it load what `kind` of target needs. Run from TypeScript
   * sources, resolves when it has (or after `waitMs` at most): tsx's loader hooks answer through
   * the main thread, so a worker still importing when the main thread blocks at exit would never
   * finish. Built JavaScript needs no such wait and resolves at once.
   */
  warm(kind: 'rest' | 'embedded', waitMs = 10_000): Promise<void> {
    let ready = this.#ready.get(kind);
    if (ready === undefined) {
      ready = this.#start(kind, waitMs);
      this.#ready.set(kind, ready);
    }
    return ready;
  }

  #start(kind: 'rest' | 'embedded', waitMs: number): Promise<void> {
    const fromSource = import.meta.url.endsWith('.ts');
    // Built JavaScript loads without the main thread: nothing to wait for.
    const wait = fromSource ? waitMs : 0;
    if (this.#worker !== undefined) {
      this.#worker.postMessage({ warm: kind });
      return this.#whenReady(this.#worker, kind, wait);
    }
    const entry = new URL(fromSource ? './exit-worker.ts' : './exit-worker.js', import.meta.url).href;
    let tsx: string | undefined;
    // From TypeScript sources the worker needs tsx's loader: an eval'd worker gets no loader hooks.
    if (fromSource) {
      try {
        tsx = import.meta.resolve('tsx/esm/api');
      } catch {
        tsx = undefined;
      }
    }
    // A CommonJS bootstrap (eval) so that the loader is in place before the entry is imported.
    const bootstrap = `
      const { workerData } = require('node:worker_threads');
      (async () => {
        if (workerData.tsx) (await import(workerData.tsx)).register();
        await import(workerData.entry);
      })().catch((err) => require('node:fs').writeSync(2, 'trestle: exit worker failed: ' + (err && err.message) + '\\n'));
    `;
    try {
      this.#worker = new Worker(bootstrap, {
        eval: true,
        workerData: { state: this.#state, message: this.#message, entry, tsx, warm: kind },
        stdout: false,
        stderr: false,
      });
      this.#worker.unref();
      this.#worker.on('error', () => undefined);
    } catch {
      this.#worker = undefined;
      return Promise.resolve();
    }
    return this.#whenReady(this.#worker, kind, wait);
  }

  #whenReady(worker: Worker, kind: 'rest' | 'embedded', waitMs: number): Promise<void> {
    if (waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', done);
        resolve();
      };
      const onMessage = (msg: { ready?: string }): void => {
        if (msg.ready === kind) done();
      };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      worker.on('message', onMessage);
      worker.on('exit', done);
    });
  }

  /** Sends `job` and blocks until it is done or its deadline passes (then `undefined`). */
  finish(job: FinishJob): FinishOutcome | undefined {
    if (this.#worker === undefined) void this.warm(job.target.kind);
    const worker = this.#worker;
    if (worker === undefined) return undefined;
    const flags = new Int32Array(this.#state);
    Atomics.store(flags, 0, EXIT_STATE.pending);
    worker.postMessage({ job });
    const deadline = Date.now() + job.timeoutMs;
    while (Atomics.load(flags, 0) === EXIT_STATE.pending) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      Atomics.wait(flags, 0, EXIT_STATE.pending, left);
    }
    const length = Atomics.load(flags, 1);
    try {
      return JSON.parse(new TextDecoder().decode(new Uint8Array(this.#message).slice(0, length))) as FinishOutcome;
    } catch {
      return { ended: [], errors: [{ runId: '', message: 'the exit worker answered with an unreadable report' }] };
    }
  }
}
