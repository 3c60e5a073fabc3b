import { inspect } from 'node:util';
import type { Metric } from '@trestle/core';
import { ExitWorker } from './finish-sync.js';
import type { FinishTarget, RunToFinish } from './finish-job.js';

/** What the guard needs of an open run (implemented by `ActiveRun`). */
interface GuardedRun {
  readonly id: string;
  /** Ends the run normally: flushes, then sets the status. */
  end(status: 'FINISHED' | 'FAILED'): Promise<unknown>;
  /** Stops the run at once and hands over the points not yet written. */
  abandon(): Metric[];
}

interface Entry {
  target: FinishTarget;
  timeoutMs: number;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];
const SIGNAL_NUMBERS: Record<Signal, number> = { SIGINT: 2, SIGTERM: 15 };

/**
 * Ends a script's open runs however the process ends, as MLflow's fluent API does:
 *
 * - the event loop empties (`beforeExit`): each run is flushed and ended FINISHED;
 * - `process.exit(code)`: ended FINISHED for code 0, FAILED otherwise;
 * - an uncaught exception or unhandled rejection: ended FAILED (written in process, so that a
 *   write in flight completes first), then the error is printed and the process exits with 1,
 *   as Node does; with an `uncaughtException` listener of its own the script decides;
 * - SIGINT or SIGTERM with no other listener: ended KILLED, then the process dies of the same
 *   signal (exit status 130 / 143 to a shell). With a listener of its own the script decides;
 *   runs still open when it exits are ended KILLED.
 *
 * Past `beforeExit` no promise can run any more, so the points still buffered are written and
 * the status set synchronously by an {@link ExitWorker} (a worker thread started with the first
 * run, waited for with a deadline). A signal is handled as soon as the event loop gets control: a long synchronous
 * loop (training on the main thread) delays it until the loop yields.
 *
 * One guard per process (signals and exit are per process); every `Trestle` registers its runs.
 */
class ExitGuard {
  readonly #runs = new Map<GuardedRun, Entry>();
  readonly #worker = new ExitWorker();
  #failed = false;
  #signal: Signal | undefined;
  #finishing = false;
  readonly #onBeforeExit = (): void => {
    for (const run of [...this.#runs.keys()]) {
      run.end('FINISHED').catch((err: unknown) => {
        process.stderr.write(
          `trestle: could not end run ${run.id}: ${err instanceof Error ? err.message : String(err)}\n`,
        );
      });
    }
  };
  readonly #onException = (err: unknown): void => {
    this.#failed = true;
    if (process.listenerCount('uncaughtException') > 1 || this.#finishing) return;
    // Node's default for an uncaught error, after the runs are ended: print it, exit with 1.
    process.stderr.write(`${inspect(err)}\n\nNode.js ${process.version}\n`);
    process.exitCode = 1;
    void this.#endAllAsync('FAILED').finally(() => process.exit(1));
  };
  readonly #onExit = (code: number): void => {
    this.#finishAll(this.#signal !== undefined ? 'KILLED' : this.#failed || code !== 0 ? 'FAILED' : 'FINISHED');
  };
  readonly #onSignal = (signal: Signal): void => {
    this.#signal = signal;
    // Someone else handles this signal: the script decides whether and how to stop.
    if (process.listenerCount(signal) > 1) return;
    this.#finishAll('KILLED');
    this.#detach();
    process.exitCode = 128 + SIGNAL_NUMBERS[signal];
    // No listener left: the default action ends the process at once, of this signal.
    process.kill(process.pid, signal);
    process.exit();
  };

  /**
   * Prepares to guard runs of `target`'s kind: starts the exit worker and resolves once it has
   * loaded what it needs (call it before the run starts, alongside creating it).
   */
  prepare(target: FinishTarget): Promise<void> {
    return this.#worker.warm(target.kind);
  }

  /** Guards `run` until it ends; `target` says how a worker thread reaches its store. */
  add(run: GuardedRun, target: FinishTarget, timeoutMs: number): void {
    if (this.#runs.size === 0) this.#attach();
    this.#runs.set(run, { target, timeoutMs });
  }

  /** Stops guarding `run` (it ended). */
  delete(run: GuardedRun): void {
    if (!this.#runs.delete(run)) return;
    if (this.#runs.size === 0) this.#detach();
  }

  #attach(): void {
    process.on('beforeExit', this.#onBeforeExit);
    process.on('uncaughtException', this.#onException);
    process.on('exit', this.#onExit);
    for (const s of SIGNALS) process.on(s, this.#onSignal);
  }

  #detach(): void {
    process.off('beforeExit', this.#onBeforeExit);
    process.off('uncaughtException', this.#onException);
    process.off('exit', this.#onExit);
    for (const s of SIGNALS) process.off(s, this.#onSignal);
  }

  /** Ends every open run in process (flush, then status), within the runs' deadline. */
  async #endAllAsync(status: 'FAILED'): Promise<void> {
    const runs = [...this.#runs];
    const timeoutMs = Math.max(...runs.map(([, e]) => e.timeoutMs));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    const ended = Promise.allSettled(
      runs.map(async ([run]) => {
        try {
          await run.end(status);
          process.stderr.write(`trestle: run ${run.id} ended ${status}\n`);
        } catch (err) {
          process.stderr.write(
            `trestle: could not end run ${run.id}: ${err instanceof Error ? err.message : String(err)}\n`,
          );
        }
      }),
    );
    await Promise.race([ended, deadline]);
    clearTimeout(timer);
    // Runs still open now are finished by the exit listener, synchronously.
  }

  #finishAll(status: RunToFinish['status']): void {
    if (this.#finishing || this.#runs.size === 0) return;
    this.#finishing = true;
    const endTime = Date.now();
    const groups = new Map<string, { target: FinishTarget; timeoutMs: number; runs: RunToFinish[] }>();
    for (const [run, { target, timeoutMs }] of this.#runs) {
      const key = JSON.stringify(target);
      const group = groups.get(key) ?? { target, timeoutMs, runs: [] };
      group.timeoutMs = Math.max(group.timeoutMs, timeoutMs);
      group.runs.push({ runId: run.id, metrics: run.abandon(), status, endTime });
      groups.set(key, group);
    }
    this.#runs.clear();
    for (const { target, timeoutMs, runs } of groups.values()) {
      const outcome = this.#worker.finish({ target, runs, timeoutMs });
      for (const run of runs) {
        const failure = outcome?.errors.find((e) => e.runId === run.runId || e.runId === '');
        const ended = outcome?.ended.includes(run.runId) === true;
        const points = run.metrics.length === 0 ? '' : ` (${run.metrics.length} buffered metric points written)`;
        if (ended && failure === undefined) {
          if (status !== 'FINISHED') process.stderr.write(`trestle: run ${run.runId} ended ${status}${points}\n`);
        } else if (ended) {
          process.stderr.write(`trestle: run ${run.runId} ended ${status}; ${failure!.message}\n`);
        } else {
          const why = outcome === undefined ? `no answer within ${timeoutMs} ms` : failure?.message;
          process.stderr.write(
            `trestle: could not end run ${run.runId} as ${status} (${why}); it stays RUNNING: mark it with 'trestle runs kill ${run.runId}'\n`,
          );
        }
      }
    }
  }
}

/** The process's exit guard. */
export const exitGuard = new ExitGuard();
