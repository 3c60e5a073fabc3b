import type { Metric } from '@trestle/core';

/** Options of {@link MetricBuffer}. */
export interface MetricBufferOptions {
  /** Flush when this many points are waiting. Default 1000 (MLflow's log-batch limit). */
  batchSize?: number;
  /** Flush points older than this, in ms. Default 1000. */
  flushIntervalMs?: number;
  /** At most this many points wait; further `add` calls wait for a flush (backpressure). Default 20,000. */
  maxPending?: number;
}

/**
 * A bounded buffer of metric points for one run, written in batches by `write`.
 * Points are flushed by size and by time, and on {@link MetricBuffer.flush}. A full buffer
 * makes `add` wait instead of dropping points. A failed write keeps its points at the head
 * of the buffer; if no later write succeeds, the error surfaces on the next `flush()`.
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
  #pending: Metric[] = [];
  #inFlight: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #error: unknown;

  constructor(write: (points: Metric[]) => Promise<void>, options: MetricBufferOptions = {}) {
    this.#write = write;
    this.#batchSize = options.batchSize ?? 1000;
    this.#intervalMs = options.flushIntervalMs ?? 1000;
    this.#maxPending = Math.max(options.maxPending ?? 20_000, this.#batchSize);
  }

  /** Number of points not yet written. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Queues points; resolves at once unless the buffer is full, then after room is made. */
  async add(...points: Metric[]): Promise<void> {
    this.#pending.push(...points);
    if (this.#pending.length >= this.#batchSize) this.#kick();
    else this.#arm();
    while (this.#pending.length > this.#maxPending && this.#error === undefined) {
      await this.#drainOnce();
    }
  }

  /** Writes everything queued so far; throws the first write error since the last flush. */
  async flush(): Promise<void> {
    this.#disarm();
    while (this.#pending.length > 0 || this.#inFlight !== undefined) {
      await this.#drainOnce();
      if (this.#error !== undefined) break;
    }
    const err = this.#error;
    this.#error = undefined;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the writer threw, as it was
    if (err !== undefined) throw err;
  }

  /** Stops the timer (pending points stay; call flush first). */
  dispose(): void {
    this.#disarm();
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#pending.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Starts a background write; its failure is kept for the next flush. */
  #kick(): void {
    this.#disarm();
    if (this.#inFlight === undefined) this.#drainOnce().catch(() => undefined);
  }

  #drainOnce(): Promise<void> {
    if (this.#inFlight !== undefined) return this.#inFlight;
    const batch = this.#pending.splice(0, this.#batchSize);
    if (batch.length === 0) return Promise.resolve();
    this.#inFlight = this.#write(batch)
      .then(() => {
        // A later success means the backend is back and earlier failed points were re-queued.
        this.#error = undefined;
      })
      .catch((err: unknown) => {
        this.#pending.unshift(...batch);
        this.#error ??= err;
      })
      .finally(() => {
        this.#inFlight = undefined;
        if (this.#error === undefined && this.#pending.length >= this.#batchSize) this.#kick();
        else this.#arm();
      });
    return this.#inFlight;
  }
}
