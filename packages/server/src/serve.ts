import type { AbandonedWrites, TrestleConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import type { FastifyInstance } from 'fastify';
import { buildServer, type BuildServerOptions } from './app.js';
import { bootstrapAdminToken } from './auth/auth-hook.js';
import { LogSink, prettyLogLine, type LogFormat } from './logging/index.js';
import type { ServerStores } from './route-types.js';
import { AlertEngine, type AlertConfig } from './monitoring/alerts.js';
import { MonitorService } from './monitoring/monitor-service.js';
import { WindowJob } from './monitoring/window-job.js';

/** Options of {@link startServer}. */
export interface StartServerOptions {
  config: TrestleConfig;
  /** Interface to listen on; default `127.0.0.1` (use `0.0.0.0` to accept other machines). */
  host?: string;
  /** TCP port; default 5000 (MLflow's); 0 picks a free one. */
  port?: number;
  /**
   * Stores to serve. When given, the caller owns them and closes them; otherwise they are
   * opened from `config` and closed on shutdown.
   */
  stores?: ServerStores;
  /**
   * Logging as in {@link BuildServerOptions.logger}; default `true`: lines at `info` on
   * {@link logDestination} in {@link logFormat}, through a {@link LogSink} (never blocks serving:
   * lines it cannot write are dropped and counted).
   */
  logger?: BuildServerOptions['logger'];
  /** With `logger: true`: `'json'` lines (default) or `'pretty'` lines for a terminal. */
  logFormat?: LogFormat;
  /** With `logger: true`, and for the banner: a file descriptor (default 1, stdout) or a file path. */
  logDestination?: number | string;
  /**
   * The server's first line(s): written to the log destination once it listens, before any log
   * line (lines logged meanwhile wait), e.g. where it listens and how to reach it.
   */
  banner?: (server: { url: string; bootstrapToken?: string }) => string;
  /** Extra plugins such as the MLflow dialect, as in {@link BuildServerOptions.plugins}. */
  plugins?: BuildServerOptions['plugins'];
  /** The web UI's folder, as in {@link BuildServerOptions.ui} (a container image ships it beside its bundle). */
  ui?: BuildServerOptions['ui'];
  /** Install SIGTERM/SIGINT handlers that shut down gracefully; default true. */
  handleSignals?: boolean;
  /**
   * Access control (`trestle server --auth`; default false): every route but the probes and the
   * API docs needs an API token. When the store has no valid admin token, one named
   * `bootstrap-admin` is created once the server listens, and returned as
   * {@link RunningServer.bootstrapToken}.
   */
  auth?: boolean;
  /**
   * The monitoring window job (on by default; `false` turns it off): computes each window when
   * it closes (one replica at a time, by a lease in the metadata store) and sends alerts.
   */
  monitoring?: false | { intervalMs?: number; graceMs?: number; alerts?: AlertConfig };
  /**
   * How long a graceful shutdown lets requests in flight finish before it drops their
   * connections (`trestle server --shutdown-timeout`); default {@link DEFAULT_SHUTDOWN_TIMEOUT_MS}.
   */
  shutdownTimeoutMs?: number;
  /**
   * Cleaning of what writers killed mid-write left in the artifact store (a folder's hidden
   * temporary files): once at start-up, then every `intervalMs` (default 10 minutes), removing
   * what was untouched for `olderThanMs` (default 15 minutes). `false` turns it off.
   */
  abandonedWrites?: { olderThanMs?: number; intervalMs?: number } | false;
}

/** Default of {@link StartServerOptions.shutdownTimeoutMs}: 30 s. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

const SWEEP_INTERVAL_MS = 10 * 60_000;

/** A listening server. */
export interface RunningServer {
  app: FastifyInstance;
  /** Base URL to reach it, e.g. `http://127.0.0.1:5000`. */
  url: string;
  /**
   * Shuts down gracefully: stops accepting connections, lets requests in flight finish,
   * then closes the stores it opened. Safe to call more than once.
   */
  close(): Promise<void>;
  /** Resolves once shutdown has finished, whether started by {@link close} or by a signal (failures are logged). */
  closed: Promise<void>;
  /** Log lines dropped so far because the destination could not take them (a full disk, a stalled pipe). */
  droppedLogLines(): number;
  /** The secret of the admin token created at start (see {@link StartServerOptions.auth}): show it once, only its hash is kept. */
  bootstrapToken?: string;
  /**
   * The start-up cleaning of abandoned writes (see {@link StartServerOptions.abandonedWrites}),
   * which runs beside serving; `undefined` when off or when the store has nothing to clean.
   * Never rejects: a failure is logged.
   */
  startupCleanup: Promise<AbandonedWrites | undefined>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Opens the stores named by the configuration (unless given), builds the app and listens.
 * SIGTERM or SIGINT starts a graceful shutdown (a second one drops open connections at once).
 *
 * @example
 * const server = await startServer({ config: loadConfig({}, process.env), port: 5000 });
 * console.log(`listening on ${server.url}`);
 * await server.closed; // until SIGTERM/SIGINT
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, host = '127.0.0.1', port = 5000, logger = true, handleSignals = true } = options;
  const ownsStores = options.stores === undefined;
  const sink =
    logger === true || options.banner !== undefined
      ? new LogSink({
          destination: options.logDestination ?? 1,
          ...(options.logFormat === 'pretty' ? { format: prettyLogLine } : {}),
          hold: options.banner !== undefined,
        })
      : undefined;
  let stores: ServerStores;
  try {
    stores = options.stores ?? (await openStores(config));
  } catch (err) {
    sink?.close();
    throw err;
  }
  const releaseStores = async (): Promise<void> => {
    if (ownsStores) await Promise.all([stores.metadata.close(), stores.artifacts.close()]);
  };

  let app: FastifyInstance;
  let bootstrapToken: string | undefined;
  try {
    app = await buildServer({
      stores,
      config,
      logger: logger === true && sink !== undefined ? { level: 'info', stream: sink } : logger,
      ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
      ...(options.ui === undefined ? {} : { ui: options.ui }),
      ...(options.auth === true ? { auth: { enabled: true } } : {}),
    });
    await app.listen({ host, port });
    // Only once listening: a start that fails (port taken) must not leave an admin token nobody saw.
    if (options.auth === true) {
      const listening = app;
      bootstrapToken = await bootstrapAdminToken(stores.metadata.tokens).catch(async (err: unknown) => {
        await listening.close();
        throw err;
      });
    }
  } catch (err) {
    await releaseStores();
    sink?.release();
    sink?.close();
    throw err;
  }
  const url = reachableUrl(host, app);
  sink?.release(options.banner?.({ url, ...(bootstrapToken === undefined ? {} : { bootstrapToken }) }));

  const sweepSettings = options.abandonedWrites === false ? undefined : (options.abandonedWrites ?? {});
  const sweep = async (): Promise<AbandonedWrites | undefined> => {
    if (sweepSettings === undefined || stores.artifacts.removeAbandonedWrites === undefined) return undefined;
    try {
      const found = await stores.artifacts.removeAbandonedWrites(
        sweepSettings.olderThanMs === undefined ? {} : { olderThanMs: sweepSettings.olderThanMs },
      );
      if (found.removed > 0) {
        app.log.info(
          found,
          `removed ${found.removed} unfinished upload file(s) left by writers that stopped mid-write`,
        );
      }
      return found;
    } catch (err) {
      app.log.warn({ err }, 'could not clean unfinished uploads from the artifact store');
      return undefined;
    }
  };
  // Beside serving, never before it: a large store takes a while to walk.
  const startupCleanup = sweep();
  // A store the server cannot use (S3 without credentials) is said once at start-up, in words
  // that say what to set; `/ready` keeps saying it until it is fixed.
  stores.artifacts.checkAccess?.().catch((err: unknown) => {
    app.log.error(
      { err, artifactStore: stores.artifacts.rootUri },
      `the artifact store ${stores.artifacts.rootUri} cannot be used: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  const sweeper =
    sweepSettings === undefined
      ? undefined
      : setInterval(() => void sweep(), sweepSettings.intervalMs ?? SWEEP_INTERVAL_MS).unref();
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;

  let job: WindowJob | undefined;
  if (options.monitoring !== false) {
    const m = options.monitoring ?? {};
    const service = new MonitorService({ store: stores.metadata.monitoring });
    job = new WindowJob({
      service,
      log: app.log,
      ...(m.intervalMs === undefined ? {} : { intervalMs: m.intervalMs }),
      ...(m.graceMs === undefined ? {} : { graceMs: m.graceMs }),
      ...(m.alerts === undefined
        ? {}
        : { alerts: new AlertEngine({ config: m.alerts, store: stores.metadata.monitoring, log: app.log }) }),
    });
    job.start();
  }

  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(sweeper);
      // Requests in flight get until the deadline; then their connections are dropped, so a
      // stalled client can never hold the shutdown (and a SIGTERM) open for ever.
      const deadline = setTimeout(() => {
        app.log.warn({ shutdownTimeoutMs }, 'shutdown deadline reached: dropping connections still open');
        app.server.closeAllConnections();
      }, shutdownTimeoutMs);
      try {
        await job?.stop();
        await app.close();
      } finally {
        clearTimeout(deadline);
        await releaseStores().finally(() => {
          if (handleSignals) for (const s of SIGNALS) process.removeListener(s, onSignal);
          sink?.close();
          markClosed();
        });
      }
    })();
    return closing;
  };

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      app.log.warn({ signal }, 'second signal: dropping open connections');
      app.server.closeAllConnections();
      return;
    }
    signalled = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    close().catch((err: unknown) => app.log.error({ err }, 'shutdown failed'));
  };
  if (handleSignals) for (const s of SIGNALS) process.on(s, onSignal);

  return {
    app,
    url,
    close,
    droppedLogLines: () => sink?.dropped ?? 0,
    closed,
    startupCleanup,
    ...(bootstrapToken === undefined ? {} : { bootstrapToken }),
  };
}

// A wildcard address is where we listen, not where a client connects.
function reachableUrl(host: string, app: FastifyInstance): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const shown =
    host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}
