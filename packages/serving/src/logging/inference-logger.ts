/**
 * The inference logger: every answered prediction goes into a bounded in-memory buffer (its
 * values appended to its version's columns on the request path, nothing else), shipped in
 * batches to the control plane off the request path; what cannot be shipped goes to the
 * on-disk spool and is replayed when the control plane answers again. Per-window feature
 * summaries of each served version are shipped the same way. Nothing here ever makes a
 * prediction fail or wait.
 */
import { randomUUID } from 'node:crypto';
import type { InferenceEvent } from '../http-app.js';
import type { ServingMetrics } from '../metrics.js';
import type { InputColumn, OutputColumn } from '../predictor.js';
import type { ModelRuntime } from '../runtime.js';
import type { ServingSink, SinkState } from '../serve.js';
import {
  INFERENCE_LOGS_PATH,
  INFERENCE_WINDOWS_PATH,
  ShipError,
  referencePath,
  type ControlPlane,
} from './control-plane.js';
import { Spool, type Shipment } from './spool.js';

export interface InferenceLoggerOptions {
  readonly controlPlane: ControlPlane;
  /** Folder of the spool (created on first use). */
  readonly spoolDir: string;
  /** Spool size bound in bytes; beyond it the oldest records are dropped (and counted). Default 256 MiB. */
  readonly spoolMaxBytes?: number;
  /**
   * Rows kept in memory; beyond it the buffer is moved to the spool. Default 100,000: about 5 s of
   * 20,000 predictions a second, so a control plane that slows down for a moment is waited for
   * rather than spilled to disk (which costs serve more work: writing and then replaying).
   */
  readonly maxBufferRows?: number;
  /** Buffered rows that start shipping at once, before the interval (a shipment holds up to 10,000). Default 2,000. */
  readonly batchRows?: number;
  /** Ship at least this often (ms). Default 1,000. */
  readonly flushIntervalMs?: number;
  /** Length of a window summary (ms). Default 60,000. */
  readonly windowMs?: number;
  /** The runtimes whose windows are shipped (read at each window's end). */
  readonly runtimes: () => readonly ModelRuntime[];
  readonly metrics: ServingMetrics;
  /** Logs one line when shipping starts failing and when it recovers. */
  readonly log?: (line: string) => void;
}

/** Most predictions in one shipment (the control plane's limit). */
const MAX_SHIPMENT_ROWS = 10_000;

/**
 * One shipment's predictions as columns (the `columns` body of `POST /inference-logs`): one
 * array per field, appended to event by event, never an object per prediction.
 */
class ColumnsBuilder {
  readonly requestIds: string[] = [];
  readonly times: number[] = [];
  readonly latencyMs: number[] = [];
  readonly inputs: Record<string, (number | string | boolean | null)[]> = {};
  readonly outputs: Record<string, (number | string | boolean | null)[]> = {};

  get rows(): number {
    return this.requestIds.length;
  }

  /** Rows `from` to `to` (exclusive) of an event. */
  add(e: InferenceEvent, from: number, to: number): void {
    const base = this.rows;
    const latency = Math.round(e.latencyMs * 1000) / 1000;
    for (let r = from; r < to; r++) {
      this.requestIds.push(e.batch.rows === 1 ? e.requestId : `${e.requestId}/${r}`);
      this.times.push(e.time);
      this.latencyMs.push(latency);
    }
    for (const name of Object.keys(e.batch.columns)) append(this.inputs, name, base, e.batch.columns[name]!, from, to);
    for (const name of Object.keys(e.outputs)) append(this.outputs, name, base, e.outputs[name]!, from, to);
    if (e.shadow) {
      const col = column(this.outputs, 'shadow', base);
      for (let r = from; r < to; r++) col.push(true);
    }
  }

  /** The body's `columns`, every column as long as the request ids (null where an event had no such column). */
  toJSON(): object {
    const n = this.rows;
    for (const cols of [this.inputs, this.outputs])
      for (const c of Object.values(cols)) while (c.length < n) c.push(null);
    return {
      requestIds: this.requestIds,
      times: this.times,
      latencyMs: this.latencyMs,
      inputs: this.inputs,
      outputs: this.outputs,
    };
  }
}

/** The column `name`, padded with nulls up to `length` values. */
function column(
  cols: Record<string, (number | string | boolean | null)[]>,
  name: string,
  length: number,
): (number | string | boolean | null)[] {
  let col = Object.hasOwn(cols, name) ? cols[name] : undefined;
  if (col === undefined) {
    col = [];
    Object.defineProperty(cols, name, { value: col, enumerable: true, writable: true, configurable: true });
  }
  while (col.length < length) col.push(null);
  return col;
}

function append(
  cols: Record<string, (number | string | boolean | null)[]>,
  name: string,
  length: number,
  values: InputColumn | OutputColumn,
  from: number,
  to: number,
): void {
  const col = column(cols, name, length);
  if (values instanceof Float64Array) {
    // NaN (missing) is kept as is, so that an all-number column stays an array of unboxed
    // doubles: JSON.stringify writes it as null.
    for (let r = from; r < to; r++) col.push(values[r]!);
  } else {
    for (let r = from; r < to; r++) col.push(values[r] ?? null);
  }
}

export class InferenceLogger implements ServingSink {
  /**
   * Buffered predictions, already as columns: an event's values are copied out on the request
   * path and the event dropped, because thousands of live request objects held for a second
   * made every young-generation GC copy them (twice the serve process's CPU per request).
   */
  private buffer: { runtime: ModelRuntime; columns: ColumnsBuilder }[] = [];
  private bufferedRows = 0;
  private readonly spool: Spool;
  private readonly o: Required<Omit<InferenceLoggerOptions, 'log'>> & Pick<InferenceLoggerOptions, 'log'>;
  private flushTimer: NodeJS.Timeout | undefined;
  private windowTimer: NodeJS.Timeout | undefined;
  private shipping: Promise<void> | undefined;
  private failing = false;
  private closed = false;
  private readonly referenced = new WeakSet<ModelRuntime>();

  constructor(options: InferenceLoggerOptions) {
    this.o = {
      spoolMaxBytes: 256 * 1024 * 1024,
      maxBufferRows: 100_000,
      batchRows: 2_000,
      flushIntervalMs: 1_000,
      windowMs: 60_000,
      ...options,
    };
    this.spool = new Spool(options.spoolDir, this.o.spoolMaxBytes, undefined, (n) =>
      options.metrics.logDropped.labels('spool_full').inc(n),
    );
    this.flushTimer = setInterval(() => {
      if (this.shipping === undefined) void this.ship(true);
    }, this.o.flushIntervalMs);
    this.flushTimer.unref();
    this.windowTimer = setInterval(() => void this.shipWindows(), this.o.windowMs);
    this.windowTimer.unref();
  }

  state(): SinkState {
    return { buffered: this.bufferedRows, spoolRecords: this.spool.records, spoolBytes: this.spool.bytes };
  }

  /** Called on the request path: the event's values are appended to its version's columns. */
  record(event: InferenceEvent): void {
    if (this.closed) return;
    for (let from = 0; from < event.batch.rows;) {
      let open = this.buffer.at(-1);
      if (open?.runtime !== event.runtime) open = this.buffer.findLast((b) => b.runtime === event.runtime);
      if (open === undefined || open.columns.rows >= MAX_SHIPMENT_ROWS) {
        open = { runtime: event.runtime, columns: new ColumnsBuilder() };
        this.buffer.push(open);
      }
      const to = Math.min(event.batch.rows, from + MAX_SHIPMENT_ROWS - open.columns.rows);
      open.columns.add(event, from, to);
      from = to;
    }
    this.bufferedRows += event.batch.rows;
    if (this.bufferedRows >= this.o.batchRows && this.shipping === undefined) void this.ship(false);
    else if (this.bufferedRows > this.o.maxBufferRows) this.spillBuffer();
  }

  /** The control plane is slower than traffic: move the buffer to the spool instead of growing. */
  private spillBuffer(): void {
    void this.spool
      .append(this.shipments(this.take()))
      .catch((err: Error) => this.o.log?.(`inference log spool failed: ${err.message}`));
  }

  /** Takes the whole buffer. */
  private take(): { runtime: ModelRuntime; columns: ColumnsBuilder }[] {
    const taken = this.buffer;
    this.buffer = [];
    this.bufferedRows = 0;
    return taken;
  }

  /** `POST /inference-logs` bodies, one per model version and alias and at most {@link MAX_SHIPMENT_ROWS} predictions. */
  private shipments(parts: readonly { runtime: ModelRuntime; columns: ColumnsBuilder }[]): Shipment[] {
    // No idempotency key: the route skips request ids it has (a key would cost the control
    // plane a hash of the body and two writes per shipment).
    return parts.map(({ runtime, columns }) => ({
      path: INFERENCE_LOGS_PATH,
      records: columns.rows,
      body: JSON.stringify({ model: modelOf(runtime), columns }),
    }));
  }

  /**
   * Ships the buffer (and the spool, once the control plane answers); resolves when what was
   * buffered at the call is shipped or spooled. Never throws.
   */
  flush(): Promise<void> {
    // A run in progress took the buffer as it was when it started: run again after it.
    if (this.shipping !== undefined) return this.shipping.then(() => this.flush());
    return this.ship(true);
  }

  /**
   * One shipping run: the whole buffer first when `all` (a flush, the interval), then only while
   * a full batch ({@link InferenceLoggerOptions.batchRows}) is buffered. Shipping whatever arrived
   * during the last round trip made shipments as small as the control plane was fast (a few dozen
   * rows under load), so that fetch and the control plane's per-request work cost more than the
   * rows themselves.
   */
  private ship(all: boolean): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        for (
          let first = all;
          this.buffer.length > 0 && (first || this.bufferedRows >= this.o.batchRows);
          first = false
        ) {
          const shipments = this.shipments(this.take());
          for (let i = 0; i < shipments.length; i++) {
            const ok = await this.send(shipments[i]!);
            if (!ok) {
              await this.spool.append(shipments.slice(i));
              // Away: the rest of the buffer goes to the spool too rather than retried row by row.
              if (this.buffer.length > 0) await this.spool.append(this.shipments(this.take()));
              return;
            }
          }
        }
        if (!this.failing) for (const r of this.o.runtimes()) await this.sendReference(r);
        if (this.spool.records > 0 || this.spool.bytes > 0) {
          await this.spool.replay(async (s) => {
            if (!(await this.send(s))) throw new ShipError('transient', 'control plane away');
          });
        }
      } catch (err) {
        if (!(err instanceof ShipError)) this.o.log?.(`inference logging: ${(err as Error).message}`);
      }
    };
    this.shipping = run().finally(() => {
      this.shipping = undefined;
    });
    return this.shipping;
  }

  /** Sends one shipment: true when accepted or refused for good (then counted), false when the control plane is away. */
  private async send(s: Shipment): Promise<boolean> {
    const kind = s.path === INFERENCE_WINDOWS_PATH ? 'windows' : 'records';
    try {
      await this.o.controlPlane.post(s.path, s.body, s.key);
      this.o.metrics.logShipped.labels(kind).inc(kind === 'windows' ? 1 : s.records);
      if (this.failing) {
        this.failing = false;
        this.o.log?.('inference logging: the control plane answers again; replaying the spool');
      }
      return true;
    } catch (err) {
      this.o.metrics.logFailures.labels(kind).inc();
      if (err instanceof ShipError && err.kind === 'refused') {
        this.o.metrics.logDropped.labels('refused').inc(s.records);
        this.o.log?.(
          `inference logging: the control plane refused a shipment (${s.records} records dropped): ${err.message}`,
        );
        return true;
      }
      if (!this.failing) {
        this.failing = true;
        this.o.log?.(`inference logging: ${(err as Error).message}; spooling to ${this.spool.dir} until it answers`);
      }
      return false;
    }
  }

  /** A runtime leaves service (hot-swap): its records and last window are shipped (or spooled). */
  async retire(runtime: ModelRuntime): Promise<void> {
    await this.flush();
    await this.shipWindows(Date.now(), [runtime]);
  }

  /**
   * Tells the control plane the reference profile of a version once, so monitoring can compare
   * windows with it even for a package served from a folder. Failures are retried with the next window.
   */
  private async sendReference(runtime: ModelRuntime): Promise<void> {
    const p = runtime.predictor;
    if (p.profile === undefined || this.referenced.has(runtime)) return;
    try {
      await this.o.controlPlane.put(referencePath(p.name, p.version), JSON.stringify({ profile: p.profile }));
      this.referenced.add(runtime);
    } catch (err) {
      if (err instanceof ShipError && err.kind === 'refused') {
        this.referenced.add(runtime);
        this.o.log?.(`inference logging: the control plane refused the reference profile: ${err.message}`);
      }
    }
  }

  /** Closes the current window of every runtime and ships the summaries (or spools them). */
  async shipWindows(now = Date.now(), runtimes: readonly ModelRuntime[] = this.o.runtimes()): Promise<void> {
    const shipments: Shipment[] = [];
    for (const runtime of runtimes) {
      await this.sendReference(runtime);
      const w = runtime.takeWindow(now);
      if (w === undefined) continue;
      shipments.push({
        path: INFERENCE_WINDOWS_PATH,
        key: randomUUID(),
        records: 0,
        body: JSON.stringify({
          model: modelOf(runtime),
          start: Date.parse(w.start),
          end: Date.parse(w.end),
          summary: w.summary,
        }),
      });
    }
    for (let i = 0; i < shipments.length; i++) {
      if (!(await this.send(shipments[i]!))) {
        await this.spool.append(shipments.slice(i)).catch(() => {});
        return;
      }
    }
  }

  /** Ships what is buffered and the last windows; what cannot go is spooled for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    clearInterval(this.windowTimer);
    await this.shipping;
    await this.shipWindows();
    await this.flush();
  }
}

function modelOf(runtime: ModelRuntime): { name: string; version: string; alias?: string } {
  const m: { name: string; version: string; alias?: string } = {
    name: runtime.predictor.name,
    version: runtime.version,
  };
  if (runtime.alias !== undefined) m.alias = runtime.alias;
  return m;
}
