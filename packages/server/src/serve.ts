import type { TrestleConfig } from '@trestle/core';
import { openStores } from '@trestle/store';
import type { FastifyInstance } from 'fastify';
import { buildServer, type BuildServerOptions } from './app.js';
import { bootstrapAdminToken } from './auth/auth-hook.js';
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
  /** Logging as in {@link BuildServerOptions.logger}; default JSON lines at `info` on stdout. */
  logger?: BuildServerOptions['logger'];
  /** Extra plugins such as the MLflow dialect, as in {@link BuildServerOptions.plugins}. */
  plugins?: BuildServerOptions['plugins'];
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
}

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
  /** The secret of the admin token created at start (see {@link StartServerOptions.auth}): show it once, only its hash is kept. */
  bootstrapToken?: string;
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
  const stores = options.stores ?? (await openStores(config));
  const releaseStores = async (): Promise<void> => {
    if (ownsStores) await Promise.all([stores.metadata.close(), stores.artifacts.close()]);
  };

  let app: FastifyInstance;
  let bootstrapToken: string | undefined;
  try {
    app = await buildServer({
      stores,
      config,
      logger,
      ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
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
    throw err;
  }

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
      try {
        await job?.stop();
        await app.close();
      } finally {
        await releaseStores().finally(() => {
          if (handleSignals) for (const s of SIGNALS) process.removeListener(s, onSignal);
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
    url: reachableUrl(host, app),
    close,
    closed,
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
