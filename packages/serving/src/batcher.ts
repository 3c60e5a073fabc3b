/**
 * Adaptive micro-batching with a bounded queue.
 *
 * Requests wait in a queue; a batch is dispatched when the model has a free slot. So an idle
 * server answers a lone request at once (batch of one, no added wait), and under load the
 * requests that arrive while a batch runs (or within one turn of the event loop) coalesce
 * into the next batch: the batch grows exactly as much as the load needs. `maxWaitMs > 0`
 * additionally holds a partly filled batch up to that long for more rows when the model is
 * free (worth it only for models whose fixed cost per call dominates, such as a remote GPU).
 * The queue is bounded in rows: beyond it a request is refused at once (503 + Retry-After),
 * never queued into unbounded latency or memory.
 */
import { TrestleError } from '@trestle/core';
import type { Batch, InputColumns, Outputs, Predictor } from './predictor.js';

/** Batching settings; `defaultBatching` gives the defaults. */
export interface BatchingOptions {
  /** Coalesce concurrent requests into one predict call. Default true. */
  readonly enabled: boolean;
  /** Most rows in one predict call. Default 256. */
  readonly maxBatchRows: number;
  /** Longest a request waits for others to join while the model is free (ms). Default 0: dispatch as soon as the model is free. */
  readonly maxWaitMs: number;
  /**
   * Rows waiting or running beyond which requests are refused with 503. Default 65,536: about
   * half a second of work for the built-in and ONNX predictors (100,000–400,000 rows/s here),
   * so the bound caps latency and memory without refusing an ordinary load test (64 clients
   * of 100 rows) or a 10,000-row scoring request, which 4,096 did.
   */
  readonly maxQueueRows: number;
  /** Predict calls running at once (matters for models that predict off the main thread, such as ONNX). Default 2. */
  readonly maxConcurrent: number;
}

export const defaultBatching: BatchingOptions = Object.freeze({
  enabled: true,
  maxBatchRows: 256,
  maxWaitMs: 0,
  maxQueueRows: 65_536,
  maxConcurrent: 2,
});

interface Pending {
  readonly batch: Batch;
  resolve(outputs: Outputs): void;
  reject(err: unknown): void;
}

/** Observes each predict call (for metrics). */
export type BatchObserver = (rows: number, requests: number, seconds: number) => void;

export class Batcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private runningRows = 0;
  private running = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly predictor: Predictor,
    readonly options: BatchingOptions,
    private readonly observe: BatchObserver = () => {},
  ) {}

  /** Rows waiting for a batch plus rows being predicted. */
  get depth(): number {
    return this.queuedRows + this.runningRows;
  }

  /** Predicts a request's rows, alone or within a batch with others. */
  submit(batch: Batch): Promise<Outputs> {
    const o = this.options;
    if (batch.rows > o.maxQueueRows) {
      return Promise.reject(
        new TrestleError(
          'RESOURCE_EXHAUSTED',
          `a request may hold at most ${o.maxQueueRows} rows; this one has ${batch.rows}: split it`,
          {
            rows: batch.rows,
            limit: o.maxQueueRows,
          },
        ),
      );
    }
    if (this.depth + batch.rows > o.maxQueueRows) {
      return Promise.reject(
        new TrestleError(
          'UNAVAILABLE',
          `the server is at capacity (${this.depth} rows queued or running, limit ${o.maxQueueRows}); retry shortly`,
          {
            retryAfterSeconds: 1,
          },
        ),
      );
    }
    if (!o.enabled) return this.runAlone(batch);
    return new Promise<Outputs>((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.queuedRows += batch.rows;
      this.pump();
    });
  }

  private async runAlone(batch: Batch): Promise<Outputs> {
    this.running++;
    this.runningRows += batch.rows;
    const t0 = performance.now();
    try {
      return await this.predictor.predict(batch.columns, batch.rows);
    } finally {
      this.observe(batch.rows, 1, (performance.now() - t0) / 1000);
      this.running--;
      this.runningRows -= batch.rows;
      this.notifyIdle();
    }
  }

  private pump(): void {
    if (this.queue.length === 0 || this.running >= this.options.maxConcurrent) return;
    if (this.queuedRows >= this.options.maxBatchRows) {
      this.dispatch();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    // One turn of the event loop: requests already read from sockets join this batch.
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.running >= this.options.maxConcurrent) return;
      const wait = this.options.maxWaitMs;
      if (wait > 0 && this.queuedRows < this.options.maxBatchRows) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.dispatch();
        }, wait);
        return;
      }
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0 && this.running < this.options.maxConcurrent) {
      const taken: Pending[] = [];
      let rows = 0;
      while (this.queue.length > 0) {
        const next = this.queue[0]!;
        if (taken.length > 0 && rows + next.batch.rows > this.options.maxBatchRows) break;
        taken.push(next);
        rows += next.batch.rows;
        this.queue.shift();
      }
      this.queuedRows -= rows;
      void this.run(taken, rows);
    }
  }

  private async run(taken: Pending[], rows: number): Promise<void> {
    this.running++;
    this.runningRows += rows;
    const t0 = performance.now();
    try {
      const columns = taken.length === 1 ? taken[0]!.batch.columns : concatColumns(taken.map((p) => p.batch));
      const outputs = await this.predictor.predict(columns, rows);
      if (taken.length === 1) taken[0]!.resolve(outputs);
      else {
        let offset = 0;
        for (const p of taken) {
          p.resolve(sliceOutputs(outputs, offset, p.batch.rows));
          offset += p.batch.rows;
        }
      }
    } catch (err) {
      for (const p of taken) p.reject(err);
    } finally {
      this.observe(rows, taken.length, (performance.now() - t0) / 1000);
      this.running--;
      this.runningRows -= rows;
      this.pump();
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (this.running === 0 && this.queue.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Resolves when nothing is queued or running (for draining on shutdown or swap). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** Concatenates the columns of several batches (same signature) into one. */
function concatColumns(batches: readonly Batch[]): InputColumns {
  const total = batches.reduce((s, b) => s + b.rows, 0);
  const out: InputColumns = {};
  for (const name of Object.keys(batches[0]!.columns)) {
    const first = batches[0]!.columns[name]!;
    if (first instanceof Float64Array) {
      const col = new Float64Array(total);
      let off = 0;
      for (const b of batches) {
        col.set(b.columns[name] as Float64Array, off);
        off += b.rows;
      }
      out[name] = col;
    } else {
      const col: (string | null)[] = [];
      for (const b of batches) for (const v of b.columns[name] as (string | null)[]) col.push(v);
      out[name] = col;
    }
  }
  return out;
}

/** The rows `[offset, offset + rows)` of each output column (no copy for typed arrays). */
function sliceOutputs(outputs: Outputs, offset: number, rows: number): Outputs {
  const out: Outputs = {};
  for (const [name, col] of Object.entries(outputs)) {
    out[name] = col instanceof Float64Array ? col.subarray(offset, offset + rows) : col.slice(offset, offset + rows);
  }
  return out;
}
