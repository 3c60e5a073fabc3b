/**
 * A served model version: its predictor, compiled input schema, batcher and the window
 * summary of its live traffic. Hot-swap replaces a whole runtime; the old one drains.
 */
import { WindowAccumulator, type WindowSummary } from '@trestle/monitoring';
import { Batcher, type BatchingOptions } from './batcher.js';
import type { ServingMetrics } from './metrics.js';
import type { Batch, Outputs, Predictor } from './predictor.js';
import { InputSchema } from './signature.js';

export type Role = 'champion' | 'challenger';

export class ModelRuntime {
  readonly schema: InputSchema;
  readonly batcher: Batcher;
  private accumulator: WindowAccumulator | undefined;
  private windowStart = Date.now();

  constructor(
    readonly predictor: Predictor,
    batching: BatchingOptions,
    private readonly metrics: ServingMetrics,
    /** Alias the runtime was resolved from (`champion`), for logs and window summaries. */
    readonly alias: string | undefined,
  ) {
    this.schema = new InputSchema(predictor.signature);
    this.batcher = new Batcher(predictor, batching, (rows, _requests, seconds) => metrics.batch(rows, seconds));
    if (predictor.profile !== undefined) this.accumulator = new WindowAccumulator(predictor.profile);
  }

  get version(): string {
    return this.predictor.version;
  }

  /** Predicts a validated batch and keeps its window summary and prediction metrics. */
  async predict(batch: Batch): Promise<Outputs> {
    const outputs = await this.batcher.submit(batch);
    this.observe(batch, outputs);
    return outputs;
  }

  private observe(batch: Batch, outputs: Outputs): void {
    this.metrics.predicted(this.predictor.version, outputs);
    // A summary that cannot take a value never fails the prediction.
    try {
      this.accumulator?.addColumns(batch.columns, outputs);
    } catch {
      /* counted by the accumulator's own invalid counters where it can */
    }
  }

  /** Closes the current window: its summary (or undefined without a profile or traffic), and starts the next. */
  takeWindow(now = Date.now()): { start: string; end: string; summary: WindowSummary } | undefined {
    const acc = this.accumulator;
    const start = new Date(this.windowStart).toISOString();
    const end = new Date(now).toISOString();
    this.windowStart = now;
    if (acc === undefined || acc.size === 0) return undefined;
    const summary = acc.snapshot({ start, end });
    acc.reset();
    return { start, end, summary };
  }

  /** Waits for queued and running predictions, then frees the model. */
  async close(): Promise<void> {
    await this.batcher.idle();
    await this.predictor.close?.();
  }
}
