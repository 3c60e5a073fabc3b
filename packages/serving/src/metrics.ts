/**
 * Prometheus metrics of one serving process (prom-client, its own registry: no globals).
 * Label children are cached so the hot path does a Map lookup, not a label hash.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Outputs } from './predictor.js';

/** State the registry reads at scrape time (queue depth, log buffer and spool). */
export interface MetricsProbe {
  queueRows(): number;
  logState(): { buffered: number; spoolRecords: number; spoolBytes: number };
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const PROBABILITY_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

export class ServingMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'status'>;
  private readonly latency: Histogram<'route'>;
  private readonly batchRows: Histogram;
  private readonly batchSeconds: Histogram;
  private readonly modelInfo: Gauge<'model' | 'version' | 'role'>;
  private readonly predictions: Counter<'version' | 'class'>;
  private readonly probability: Histogram<'version'>;
  private readonly value: Histogram<'version'>;
  readonly logShipped: Counter<'kind'>;
  readonly logDropped: Counter<'reason'>;
  readonly logFailures: Counter<'kind'>;
  readonly shadowErrors: Counter;
  readonly swaps: Counter<'result'>;
  private readonly requestChildren = new Map<string, Counter.Internal>();
  private readonly latencyChildren = new Map<string, Histogram.Internal<'route'>>();
  private readonly predictionChildren = new Map<string, Counter.Internal>();
  private readonly probabilityChildren = new Map<string, Histogram.Internal<'version'>>();

  constructor(probe: MetricsProbe) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'trestle_serving_process_' });
    // Gauges named *_total break Prometheus' naming rules (promtool check metrics flags them).
    for (const bad of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      this.registry.removeSingleMetric(`trestle_serving_process_nodejs_${bad}`);
    }
    this.requests = new Counter({
      name: 'trestle_serving_requests_total',
      help: 'HTTP requests by route and status code',
      labelNames: ['route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'trestle_serving_request_duration_seconds',
      help: 'Time from request start to response end, by route',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.batchRows = new Histogram({
      name: 'trestle_serving_batch_rows',
      help: 'Rows per predict call (micro-batch size)',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.batchSeconds = new Histogram({
      name: 'trestle_serving_batch_duration_seconds',
      help: 'Time of one predict call',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'trestle_serving_processes',
      help: 'Serving processes whose figures are included (the workers of --workers N; summed across them)',
      registers,
    }).set(1);
    new Gauge({
      name: 'trestle_serving_queue_rows',
      help: 'Rows waiting for a batch or being predicted',
      registers,
      collect() {
        this.set(probe.queueRows());
      },
    });
    this.modelInfo = new Gauge({
      name: 'trestle_serving_model_info',
      help: 'Model versions loaded (1) by role: champion, challenger',
      labelNames: ['model', 'version', 'role'],
      registers,
      // Across --workers: loaded (1) in any worker, not the number of workers.
      aggregator: 'max',
    });
    this.predictions = new Counter({
      name: 'trestle_serving_predictions_total',
      help: 'Predicted rows by model version and predicted class (regression: "value")',
      labelNames: ['version', 'class'],
      registers,
    });
    this.probability = new Histogram({
      name: 'trestle_serving_prediction_probability',
      help: 'Predicted probability of the positive (or predicted) class',
      labelNames: ['version'],
      buckets: PROBABILITY_BUCKETS,
      registers,
    });
    this.value = new Histogram({
      name: 'trestle_serving_prediction_value',
      help: 'Predicted values of a regression model',
      labelNames: ['version'],
      buckets: [-100, -10, -1, 0, 1, 10, 100, 1000, 10000],
      registers,
    });
    const logState = (pick: (s: ReturnType<MetricsProbe['logState']>) => number) =>
      function (this: Gauge) {
        this.set(pick(probe.logState()));
      };
    new Gauge({
      name: 'trestle_serving_log_buffer_records',
      help: 'Inference log records buffered in memory, waiting to be shipped',
      registers,
      collect: logState((s) => s.buffered),
    });
    new Gauge({
      name: 'trestle_serving_log_spool_records',
      help: 'Inference log records in the local spool (control plane unreachable)',
      registers,
      collect: logState((s) => s.spoolRecords),
    });
    new Gauge({
      name: 'trestle_serving_log_spool_bytes',
      help: 'Size of the local spool on disk',
      registers,
      collect: logState((s) => s.spoolBytes),
    });
    this.logShipped = new Counter({
      name: 'trestle_serving_log_shipped_total',
      help: 'Records (kind=records) and window summaries (kind=windows) accepted by the control plane',
      labelNames: ['kind'],
      registers,
    });
    this.logFailures = new Counter({
      name: 'trestle_serving_log_ship_failures_total',
      help: 'Failed shipments to the control plane (then spooled and retried)',
      labelNames: ['kind'],
      registers,
    });
    this.logDropped = new Counter({
      name: 'trestle_serving_log_dropped_total',
      help: 'Inference log records dropped: the spool was full (oldest first) or the control plane refused them',
      labelNames: ['reason'],
      registers,
    });
    this.shadowErrors = new Counter({
      name: 'trestle_serving_shadow_errors_total',
      help: 'Shadow predictions of the challenger that failed (never seen by clients)',
      registers,
    });
    this.swaps = new Counter({
      name: 'trestle_serving_model_swaps_total',
      help: 'Hot swaps of a served model version, by result',
      labelNames: ['result'],
      registers,
    });
  }

  /** Counts a finished request and its duration. */
  request(route: string, status: number, seconds: number): void {
    const key = `${route} ${status}`;
    let child = this.requestChildren.get(key);
    if (child === undefined) {
      child = this.requests.labels(route, String(status));
      this.requestChildren.set(key, child);
    }
    child.inc();
    let h = this.latencyChildren.get(route);
    if (h === undefined) {
      h = this.latency.labels(route);
      this.latencyChildren.set(route, h);
    }
    h.observe(seconds);
  }

  batch(rows: number, seconds: number): void {
    this.batchRows.observe(rows);
    this.batchSeconds.observe(seconds);
  }

  /** Records the predictions of one batch: counts by class, probability or value histogram. */
  predicted(version: string, outputs: Outputs): void {
    const label = outputs['label'];
    if (label !== undefined && !(label instanceof Float64Array)) {
      const tally = new Map<string, number>();
      for (const l of label) tally.set(l, (tally.get(l) ?? 0) + 1);
      for (const [cls, n] of tally) this.predictionCounter(version, cls).inc(n);
    } else {
      const v = outputs['value'];
      if (v instanceof Float64Array) {
        this.predictionCounter(version, 'value').inc(v.length);
        const h = this.value.labels(version);
        for (const x of v) h.observe(x);
      }
    }
    const p = outputs['probability'];
    if (p instanceof Float64Array) {
      let h = this.probabilityChildren.get(version);
      if (h === undefined) {
        h = this.probability.labels(version);
        this.probabilityChildren.set(version, h);
      }
      for (const x of p) h.observe(x);
    }
  }

  private predictionCounter(version: string, cls: string): Counter.Internal {
    const key = `${version}\u0000${cls}`;
    let c = this.predictionChildren.get(key);
    if (c === undefined) {
      // Class names come from the model, not from clients, so the label set stays bounded.
      c = this.predictions.labels(version, cls);
      this.predictionChildren.set(key, c);
    }
    return c;
  }

  /** Marks which versions are loaded. */
  setModels(models: readonly { model: string; version: string; role: string }[]): void {
    this.modelInfo.reset();
    for (const m of models) this.modelInfo.labels(m.model, m.version, m.role).set(1);
  }

  private source: (() => Promise<{ contentType: string; body: string }>) | undefined;

  /** What `/metrics` answers: this registry, or what {@link answerWith} set (all workers of a cluster). */
  text(): Promise<{ contentType: string; body: string }> {
    return this.source?.() ?? this.ownText();
  }

  /** This process's metrics only. */
  async ownText(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Makes `/metrics` answer with `source` (e.g. the aggregate of `--workers`). */
  answerWith(source: () => Promise<{ contentType: string; body: string }>): void {
    this.source = source;
  }
}
