/**
 * `startServing`: one process serving one model (plus an optional challenger) on one port.
 * Opening the port is explicit; `close()` drains: it stops accepting connections, lets
 * in-flight requests finish, then frees the models and flushes what the sinks hold.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultBatching, type BatchingOptions } from './batcher.js';
import { ServingApp, type InferenceSink } from './http-app.js';
import { ServingMetrics } from './metrics.js';
import type { Predictor } from './predictor.js';
import { ModelRuntime } from './runtime.js';
import { TrafficRouter, type TrafficMode } from './traffic.js';

/** Version reported by `/version` and `GET /v2`. */
export const SERVING_VERSION = '0.1.0';

/** Log buffer and spool figures for `/metrics`. */
export interface SinkState {
  buffered: number;
  spoolRecords: number;
  spoolBytes: number;
}

/** The inference logger as `startServing` drives it. */
export interface ServingSink extends InferenceSink {
  state(): SinkState;
  /** Ships (or spools) everything buffered; called on shutdown. */
  close(): Promise<void>;
}

export interface ServeOptions {
  readonly champion: Predictor;
  /** Alias the champion was resolved from, if any. */
  readonly alias?: string;
  readonly challenger?: Predictor;
  readonly challengerAlias?: string;
  readonly traffic?: TrafficMode;
  readonly host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  readonly batching?: Partial<BatchingOptions>;
  /** Builds the inference logger once metrics exist (so it can count what it ships and drops). */
  readonly sink?: (metrics: ServingMetrics) => ServingSink;
  readonly maxBodyBytes?: number;
  readonly logError?: (message: string) => void;
}

/** A running server. */
export interface RunningServing {
  readonly url: string;
  readonly port: number;
  readonly app: ServingApp;
  readonly router: TrafficRouter;
  readonly metrics: ServingMetrics;
  readonly server: Server;
  /** Builds a runtime for a predictor with this server's batching and metrics (for hot-swap). */
  runtime(predictor: Predictor, alias: string | undefined): ModelRuntime;
  /** Publishes which versions are loaded to `/metrics`. */
  refreshModelInfo(): void;
  /** Drains and stops; resolves when everything is flushed. Safe to call twice. */
  close(): Promise<void>;
}

export async function startServing(options: ServeOptions): Promise<RunningServing> {
  const batching: BatchingOptions = { ...defaultBatching, ...options.batching };
  // The metrics probe reads the router and sink at scrape time; both are built after the metrics.
  const late: { sink?: ServingSink | undefined; router?: TrafficRouter } = {};
  const metrics = new ServingMetrics({
    queueRows: () => late.router?.all().reduce((s, r) => s + r.runtime.batcher.depth, 0) ?? 0,
    logState: () => late.sink?.state() ?? { buffered: 0, spoolRecords: 0, spoolBytes: 0 },
  });
  const sink = options.sink?.(metrics);
  late.sink = sink;
  const makeRuntime = (p: Predictor, alias: string | undefined): ModelRuntime =>
    new ModelRuntime(p, batching, metrics, alias);
  const router = new TrafficRouter(
    makeRuntime(options.champion, options.alias),
    options.traffic,
    options.challenger === undefined ? undefined : makeRuntime(options.challenger, options.challengerAlias),
  );
  late.router = router;
  const r = router;
  const refreshModelInfo = (): void =>
    metrics.setModels(
      r.all().map(({ role, runtime }) => ({ model: runtime.predictor.name, version: runtime.version, role })),
    );
  refreshModelInfo();
  const app = new ServingApp({
    router,
    metrics,
    ...(sink === undefined ? {} : { sink }),
    serverVersion: SERVING_VERSION,
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...(options.logError === undefined ? {} : { logError: options.logError }),
  });
  const server = createServer({ keepAliveTimeout: 65_000 }, app.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await app.drain();
      server.closeIdleConnections();
      await Promise.all(r.all().map(({ runtime }) => runtime.close()));
      await sink?.close();
      server.closeAllConnections();
      await closed;
    })());
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    app,
    router,
    metrics,
    server,
    runtime: makeRuntime,
    refreshModelInfo,
    close,
  };
}
