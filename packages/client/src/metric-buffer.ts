import { isTrestleError, validateMetric, type Metric } from '@trestle/core';
import { isTransientError } from './transient.js';

/** Options of {@link MetricBuffer}. */
export interface MetricBufferOptions {
  /** Flush when this many points are waiting. Default 1000 (MLflow's log-batch limit). */
  batchSize?: number;
  /** Flush points older than this, in ms. Default 1000. */
  flushIntervalMs?: number;
  /**
   * At most this many points wait, those being written included; further `add` calls wait
   * for room (backpressure), also while the store cannot be reached. Default 20,000.
   */
  maxPending?: number;
  /** Delay before the first background retry after a transient failure, in ms; it doubles up to 30 s. Default 1000. */
  retryDelayMs?: number;
  /** Where the one-line warning about refused points goes. Default: stderr. */
  warn?: (message: string) => void;
  /** Names the buffer in warnings, e.g. `run 4f2a…`. */
  label?: string;
}

/** What a {@link MetricBuffer} dropped because the store refused it. */
export interface DroppedMetrics {
  /** Points not written. */
  points: number;
  /** Dropped points per error code (`INVALID_ARGUMENT`, `NOT_FOUND`, …; `UNKNOWN` for other errors). */
  byCode: Record<string, number>;
  /** The message of the first refusal, if any. */
  firstError?: string;
}

const MAX_RETRY_DELAY_MS = 30_000;
/** Distinct keys remembered as already validated (runs have a few; a runaway script has many). */
const MAX_CHECKED_KEYS = 10_000;

/** Refusals that may concern some points only: halving the batch finds the ones at fault. */
const SPLITTABLE = new Set(['INVALID_ARGUMENT', 'RESOURCE_EXHAUSTED']);

type Outcome = 'written' | 'transient';

function stderrWarn(message: string): void {
  process.stderr.write(`${message}\n`);
}

/**
 * A bounded buffer of metric points for one run, written in batches by `write`.
 *
 * - Points are validated when added (core's rules: key, number value, integer step and
 *   timestamp), so a bad point fails at the call that logged it, not later in a batch.
 * - Batches go out by size and by time, and on {@link MetricBuffer.flush}, in order.
 * - Transient failures (see `isTransientError`: unreachable server, 502/503/504, 429, locked
 *   database) keep the points and retry in the background with backoff; meanwhile the buffer
 *   never holds more than `maxPending` points: `add` waits for room (backpressure).
 * - A batch the store refuses is split in halves to find the points at fault (for
 *   `INVALID_ARGUMENT` and size limits), and what is still refused is dropped, counted in
 *   {@link MetricBuffer.dropped} and reported once per error code on stderr, so that one bad
 *   point never blocks the stream.
 *
 * @example
 * const buf = new MetricBuffer((points) => store.logBatch(runId, { metrics: points }));
 * await buf.add({ key: 'loss', value: 0.3, timestamp: Date.now(), step: 1 });
 * await buf.flush();
 */
export class MetricBuffer {
  readonly #write: (points: Metric[]) => Promise<void>;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxPending: number;
  readonly #retryDelayMs: number;
  readonly #warn: (message: string) => void;
  readonly #label: string;
  /** Points not yet written, oldest first; the head may be in flight (only the writing loop removes from it). */
  #pending: Metric[] = [];
  #loop: Promise<void> | undefined;
  #drainAll = false;
  #timer: NodeJS.Timeout | undefined;
  #retry: { timer: NodeJS.Timeout; fired: Promise<void>; fire: () => void } | undefined;
  /** The last transient failure, cleared by a successful write. */
  #failure: unknown;
  #failures = 0;
  #waiters = 0;
  /** `add` calls waiting for room, chained so that points keep their order. */
  #queued: Promise<void> | undefined;
  #disposed = false;
  readonly #checkedKeys = new Set<string>();
  readonly #dropped: DroppedMetrics = { points: 0, byCode: {} };
  readonly #warned = new Set<string>();

  constructor(write: (points: Metric[]) => Promise<void>, options: MetricBufferOptions = {}) {
    this.#write = write;
    this.#batchSize = Math.max(1, options.batchSize ?? 1000);
    this.#intervalMs = options.flushIntervalMs ?? 1000;
    this.#maxPending = Math.max(options.maxPending ?? 20_000, this.#batchSize);
    this.#retryDelayMs = Math.max(1, options.retryDelayMs ?? 1000);
    this.#warn = options.warn ?? stderrWarn;
    this.#label = options.label ?? 'metric buffer';
  }

  /** Number of points not yet written (those in flight included). Never more than `maxPending`. */
  get pending(): number {
    return this.#pending.length;
  }

  /** What the store refused and was dropped so far. */
  get dropped(): DroppedMetrics {
    return { ...this.#dropped, byCode: { ...this.#dropped.byCode } };
  }

  /**
   * Queues points. Throws `INVALID_ARGUMENT` at once for a point the store would refuse.
   * Resolves at once while there is room, otherwise once the points are queued.
   */
  add(...points: Metric[]): Promise<void> {
    const checked = points.map((p) => this.#check(p));
    if (this.#queued === undefined && this.#pending.length + checked.length <= this.#maxPending) {
      for (const p of checked) this.#pending.push(p);
      this.#schedule();
      return Promise.resolve();
    }
    const queued = (this.#queued ?? Promise.resolve()).then(() => this.#addWhenRoom(checked));
    this.#queued = queued;
    void queued.finally(() => {
      if (this.#queued === queued) this.#queued = undefined;
    });
    return queued;
  }

  /**
   * Writes everything queued so far. Points the store refuses are dropped (see
   * {@link MetricBuffer.dropped}); if the store cannot be reached, throws that error and keeps
   * the points for a later attempt.
   */
  async flush(): Promise<void> {
    this.#disarm();
    if (this.#retry !== undefined) this.#retryNow();
    this.#failure = undefined;
    // A loop that has already left its last batch but not yet cleared #loop resolves without
    // writing what came after: pump again until nothing is left or a write failed.
    do await this.#pump(true);
    while (this.#pending.length > 0 && this.#retry === undefined && !this.#disposed && this.#failure === undefined);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the writer threw, as it was
    if (this.#pending.length > 0 && this.#failure !== undefined) throw this.#failure;
  }

  /**
   * Takes every point not yet written, those in flight included, and stops the buffer: for a
   * process that exits and writes them another way. Writing an in-flight point again is
   * harmless: the store keeps an identical point once.
   */
  takeAll(): Metric[] {
    this.dispose();
    this.#disposed = true;
    const all = this.#pending;
    this.#pending = [];
    return all;
  }

  /** Stops the timers (pending points stay; call flush first). */
  dispose(): void {
    this.#disarm();
    if (this.#retry !== undefined) {
      clearTimeout(this.#retry.timer);
      this.#retry.fire();
      this.#retry = undefined;
    }
  }

  #check(point: Metric): Metric {
    const fresh = !this.#checkedKeys.has(point.key);
    const metric = validateMetric(point, fresh);
    if (fresh && this.#checkedKeys.size < MAX_CHECKED_KEYS) this.#checkedKeys.add(metric.key);
    return metric;
  }

  async #addWhenRoom(points: Metric[]): Promise<void> {
    let i = 0;
    while (i < points.length) {
      const room = this.#maxPending - this.#pending.length;
      if (room > 0) {
        const take = points.slice(i, i + room);
        for (const p of take) this.#pending.push(p);
        i += take.length;
        this.#schedule();
      } else {
        await this.#makeRoom();
      }
    }
  }

  async #makeRoom(): Promise<void> {
    this.#waiters++;
    try {
      if (this.#retry !== undefined) {
        // Someone waits on this retry now: it must keep the process alive.
        this.#retry.timer.ref();
        await this.#retry.fired;
      } else {
        await this.#pump(false);
      }
    } finally {
      this.#waiters--;
    }
  }

  /** After points were queued: write full batches now, the rest when the interval ends. */
  #schedule(): void {
    if (this.#retry !== undefined || this.#disposed) return;
    if (this.#pending.length >= this.#batchSize) void this.#pump(false);
    else this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#pending.length === 0 || this.#disposed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#retry === undefined) void this.#pump(true);
    }, this.#intervalMs);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Runs the writing loop (one at a time): full batches, or everything with `all`. */
  #pump(all: boolean): Promise<void> {
    if (all) this.#drainAll = true;
    this.#loop ??= this.#run().finally(() => {
      this.#loop = undefined;
    });
    return this.#loop;
  }

  async #run(): Promise<void> {
    this.#disarm();
    while (!this.#disposed && this.#pending.length > 0) {
      if (!this.#drainAll && this.#pending.length < this.#batchSize) break;
      const outcome = await this.#writeHead(Math.min(this.#batchSize, this.#pending.length));
      if (outcome === 'transient') {
        this.#scheduleRetry();
        return;
      }
    }
    if (this.#pending.length === 0) this.#drainAll = false;
    else this.#arm();
  }

  /** Writes the first `n` pending points; on a refusal splits them or drops them. */
  async #writeHead(n: number): Promise<Outcome> {
    const batch = this.#pending.slice(0, n);
    try {
      await this.#write(batch);
    } catch (err) {
      if (this.#disposed) return 'written';
      if (isTransientError(err)) {
        this.#failure = err;
        this.#failures++;
        return 'transient';
      }
      if (n > 1 && isTrestleError(err) && SPLITTABLE.has(err.code)) {
        const half = Math.ceil(n / 2);
        if ((await this.#writeHead(half)) === 'transient') return 'transient';
        return this.#writeHead(n - half);
      }
      this.#drop(batch, err);
      this.#pending.splice(0, n);
      return 'written';
    }
    if (!this.#disposed) this.#pending.splice(0, n);
    this.#failure = undefined;
    this.#failures = 0;
    return 'written';
  }

  #scheduleRetry(): void {
    if (this.#disposed) return;
    const delay = Math.min(MAX_RETRY_DELAY_MS, this.#retryDelayMs * 2 ** Math.min(this.#failures - 1, 15));
    let fire!: () => void;
    const fired = new Promise<void>((resolve) => {
      fire = resolve;
    });
    const timer = setTimeout(() => this.#retryNow(), delay);
    // Only a waiting `add` keeps the process alive for a retry; otherwise exit handlers flush.
    if (this.#waiters === 0) timer.unref();
    this.#retry = { timer, fired, fire };
  }

  #retryNow(): void {
    const retry = this.#retry;
    if (retry === undefined) return;
    clearTimeout(retry.timer);
    this.#retry = undefined;
    void this.#pump(true);
    retry.fire();
  }

  #drop(batch: Metric[], err: unknown): void {
    const code = isTrestleError(err) ? err.code : 'UNKNOWN';
    const message = err instanceof Error ? err.message : String(err);
    this.#dropped.points += batch.length;
    this.#dropped.byCode[code] = (this.#dropped.byCode[code] ?? 0) + batch.length;
    this.#dropped.firstError ??= message;
    if (this.#warned.has(code)) return;
    this.#warned.add(code);
    const what = batch.length === 1 ? `point '${batch[0]!.key}' (step ${batch[0]!.step})` : `${batch.length} points`;
    this.#warn(
      `trestle: ${this.#label}: dropped metric ${what} that the store refused: ${message}. ` +
        'Further refusals like this are counted, not printed (see droppedMetrics).',
    );
  }
}
