/**
 * The window job of `trestle server`: every `intervalMs`, the replica that holds the lease
 * (a row in the metadata store, renewed each tick, so one replica at a time does the work and
 * another takes over when it stops) computes the windows that closed `graceMs` ago or earlier
 * and changed since (new summaries or late labels), then evaluates the alert rules on them.
 */
import { randomUUID } from 'node:crypto';
import type { MonitorResult } from '@trestle/core';
import type { AlertEngine, AlertLog } from './alerts.js';
import type { MonitorService } from './monitor-service.js';

export interface WindowJobOptions {
  service: MonitorService;
  alerts?: AlertEngine;
  log: AlertLog & { error(obj: object, msg: string): void };
  /** Default 30 s. */
  intervalMs?: number;
  /** How long after its end a window is computed (late summaries from replicas). Default 60 s. */
  graceMs?: number;
  now?: () => number;
}

export const WINDOW_JOB_LEASE = 'monitor-window-job';

export class WindowJob {
  readonly holder = randomUUID();
  readonly #o: WindowJobOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;

  constructor(options: WindowJobOptions) {
    this.#o = options;
  }

  /** One pass: takes the lease, computes pending windows, evaluates alerts. Returns what it computed. */
  async tick(): Promise<MonitorResult[]> {
    const { service, alerts, log } = this.#o;
    const interval = this.#o.intervalMs ?? 30_000;
    const now = (this.#o.now ?? Date.now)();
    if (!(await service.store.acquireLease(WINDOW_JOB_LEASE, this.holder, interval * 3))) return [];
    const results = await service.computePending(now - (this.#o.graceMs ?? 60_000));
    for (const r of results) {
      if (r.error !== undefined)
        log.warn({ model: r.name, version: r.version, start: r.start }, `monitoring window not computed: ${r.error}`);
      else
        log.info(
          { model: r.name, version: r.version, start: r.start, driftShare: r.driftShare, labelled: r.labelled },
          'monitoring window computed',
        );
      if (alerts !== undefined) await alerts.evaluate(r);
    }
    return results;
  }

  start(): void {
    const run = (): void => {
      this.#running = this.tick()
        .catch((err: unknown) => this.#o.log.error({ err }, 'monitoring window job failed; retrying next tick'))
        .finally(() => {
          this.#running = undefined;
        });
    };
    this.#timer = setInterval(() => {
      if (this.#running === undefined) run();
    }, this.#o.intervalMs ?? 30_000);
    this.#timer.unref();
  }

  /** Stops ticking and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
