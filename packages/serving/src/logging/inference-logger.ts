/**
 * The inference logger: every answered prediction goes into a bounded in-memory buffer
 * (one push on the request path, nothing else), shipped in batches to the control plane
 * off the request path; what cannot be shipped goes to the on-disk spool and is replayed when
 * the control plane answers again. Per-window feature summaries of each served version are
 * shipped the same way. Nothing here ever makes a prediction fail or wait.
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
  /** Rows kept in memory; beyond it the buffer is moved to the spool. Default 20,000. */
  readonly maxBufferRows?: number;
  /** Rows per shipment. Default 2,000. */
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

function cell(col: InputColumn | OutputColumn, r: number): number | string | null {
  const v = col[r];
  if (v === undefined || v === null) return null;
  // JSON has no NaN: a missing number travels as null.
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

export class InferenceLogger implements ServingSink {
  private buffer: InferenceEvent[] = [];
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
      maxBufferRows: 20_000,
      batchRows: 2_000,
      flushIntervalMs: 1_000,
      windowMs: 60_000,
      ...options,
    };
    this.spool = new Spool(options.spoolDir, this.o.spoolMaxBytes, undefined, (n) =>
      options.metrics.logDropped.labels('spool_full').inc(n),
    );
    this.flushTimer = setInterval(() => void this.flush(), this.o.flushIntervalMs);
    this.flushTimer.unref();
    this.windowTimer = setInterval(() => void this.shipWindows(), this.o.windowMs);
    this.windowTimer.unref();
  }

  state(): SinkState {
    return { buffered: this.bufferedRows, spoolRecords: this.spool.records, spoolBytes: this.spool.bytes };
  }

  /** Called on the request path: one push. */
  record(event: InferenceEvent): void {
    if (this.closed) return;
    this.buffer.push(event);
    this.bufferedRows += event.batch.rows;
    if (this.bufferedRows >= this.o.batchRows && this.shipping === undefined) void this.flush();
    else if (this.bufferedRows > this.o.maxBufferRows) this.spillBuffer();
  }

  /** The control plane is slower than traffic: move the buffer to the spool instead of growing. */
  private spillBuffer(): void {
    const events = this.take(Infinity);
    void this.spool
      .append(this.shipments(events))
      .catch((err: Error) => this.o.log?.(`inference log spool failed: ${err.message}`));
  }

  private take(maxRows: number): InferenceEvent[] {
    let rows = 0;
    let i = 0;
    while (i < this.buffer.length && (i === 0 || rows + this.buffer[i]!.batch.rows <= maxRows))
      rows += this.buffer[i++]!.batch.rows;
    const taken = this.buffer.splice(0, i);
    this.bufferedRows -= rows;
    return taken;
  }

  /** Turns events into shipments of `POST /inference-logs` bodies, one per model version and alias. */
  private shipments(events: readonly InferenceEvent[]): Shipment[] {
    const groups = new Map<ModelRuntime, InferenceEvent[]>();
    for (const e of events) {
      const g = groups.get(e.runtime);
      if (g === undefined) groups.set(e.runtime, [e]);
      else g.push(e);
    }
    const out: Shipment[] = [];
    for (const [runtime, group] of groups) {
      const records: unknown[] = [];
      for (const e of group) {
        const names = Object.keys(e.batch.columns);
        const outNames = Object.keys(e.outputs);
        for (let r = 0; r < e.batch.rows; r++) {
          const inputs: Record<string, unknown> = {};
          for (const n of names) inputs[n] = cell(e.batch.columns[n]!, r);
          const outputs: Record<string, unknown> = {};
          for (const n of outNames) outputs[n] = cell(e.outputs[n]!, r);
          if (e.shadow) outputs['shadow'] = true;
          records.push({
            requestId: e.batch.rows === 1 ? e.requestId : `${e.requestId}/${r}`,
            time: e.time,
            inputs,
            outputs,
            latencyMs: Math.round(e.latencyMs * 1000) / 1000,
          });
        }
      }
      const model = modelOf(runtime);
      for (let i = 0; i < records.length; i += 10_000) {
        const part = records.slice(i, i + 10_000);
        out.push({
          path: INFERENCE_LOGS_PATH,
          key: randomUUID(),
          records: part.length,
          body: JSON.stringify({ model, records: part }),
        });
      }
    }
    return out;
  }

  /** Ships the buffer (and the spool, once the control plane answers). Never throws. */
  flush(): Promise<void> {
    if (this.shipping !== undefined) return this.shipping;
    const run = async (): Promise<void> => {
      try {
        while (this.buffer.length > 0) {
          const shipments = this.shipments(this.take(this.o.batchRows));
          for (let i = 0; i < shipments.length; i++) {
            const ok = await this.send(shipments[i]!);
            if (!ok) {
              await this.spool.append(shipments.slice(i));
              // Away: the rest of the buffer goes to the spool too rather than retried row by row.
              if (this.buffer.length > 0) await this.spool.append(this.shipments(this.take(Infinity)));
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
