import { UsageError, type Command } from '../framework/command.js';
import { alertConfig } from './monitor.js';

const shown = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** Parses `--port`: an integer from 0 (any free port) to 65535; default 5000, MLflow's. */
export function parsePort(value: unknown): number {
  if (value === undefined) return 5000;
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(port) || port > 65535) {
    throw new UsageError(`--port expects a TCP port number from 0 to 65535, got '${shown(value)}'`);
  }
  return port;
}

/** Parses `--host`: an interface name or address; default `127.0.0.1` (this machine only). */
export function parseHost(value: unknown): string {
  if (value === undefined) return '127.0.0.1';
  if (typeof value !== 'string' || value.trim() === '' || /\s|\//.test(value)) {
    throw new UsageError(
      `--host expects a host name or IP address such as 127.0.0.1 or 0.0.0.0, got '${shown(value)}'`,
    );
  }
  return value;
}

/** Parses `--shutdown-timeout`: seconds (decimals allowed) from 0; default 30. */
export function parseShutdownTimeout(value: unknown): number {
  if (value === undefined) return 30_000;
  const seconds = typeof value === 'string' && /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(seconds)) {
    throw new UsageError(`--shutdown-timeout expects a number of seconds such as 30, got '${shown(value)}'`);
  }
  return Math.round(seconds * 1000);
}

/** Parses `--log-format`: `pretty` or `json`; default pretty on a terminal, JSON otherwise (always JSON with --json). */
export function parseLogFormat(value: unknown, json: boolean, terminal: boolean): 'json' | 'pretty' {
  if (value === undefined) return json || !terminal ? 'json' : 'pretty';
  if (value !== 'json' && value !== 'pretty') {
    throw new UsageError(`--log-format expects pretty or json, got '${shown(value)}'`);
  }
  if (json && value === 'pretty') throw new UsageError('--json prints only JSON: drop --log-format pretty');
  return value;
}

/**
 * `trestle server`: runs the control plane (REST API v1, its docs, health probes) against the
 * configured stores until SIGINT or SIGTERM, then shuts down gracefully.
 *
 * @example
 * trestle server --host 0.0.0.0 --port 5000
 */
export const server: Command = {
  name: 'server',
  summary: 'Run the tracking server (REST API, API docs) until Ctrl-C',
  description: [
    'Serves the metadata and artifact stores of this configuration over HTTP.',
    'Point MLflow clients at it with MLFLOW_TRACKING_URI, and Trestle clients with TRESTLE_TRACKING_URI.',
    'Listens on 127.0.0.1 by default; use --host 0.0.0.0 to accept other machines.',
    "With --auth every request needs an API token (see 'trestle tokens'); when there is no admin",
    'token yet, one is created and printed once.',
  ].join('\n'),
  options: {
    host: { type: 'string', valueName: 'HOST', description: 'interface to listen on (default 127.0.0.1)' },
    port: { type: 'string', valueName: 'PORT', description: 'TCP port (default 5000; 0 picks a free one)' },
    auth: { type: 'boolean', description: 'require API tokens with roles reader, editor, admin (default off)' },
    'log-format': {
      type: 'string',
      valueName: 'FORMAT',
      description: 'pretty (readable lines) or json (one JSON object a line); default pretty on a terminal, else json',
    },
    'shutdown-timeout': {
      type: 'string',
      valueName: 'SECONDS',
      description: 'on Ctrl-C/SIGTERM, how long requests in flight may finish before they are dropped (default 30)',
    },
    alerts: {
      type: 'string',
      valueName: 'FILE',
      description:
        "monitoring alert rules and sinks (JSON, as 'trestle monitor run --alerts'), checked on every computed window",
    },
    'monitor-interval': {
      type: 'string',
      valueName: 'SECONDS',
      description: 'how often the monitoring job looks for closed windows to compute (default 30)',
    },
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const host = parseHost(ctx.values['host']);
    const port = parsePort(ctx.values['port']);
    const shutdownTimeoutMs = parseShutdownTimeout(ctx.values['shutdown-timeout']);
    const logFormat = parseLogFormat(ctx.values['log-format'], ctx.out.json, process.stdout.isTTY === true);
    const alerts = await alertConfig({ alerts: ctx.values['alerts'] });
    const interval = ctx.values['monitor-interval'];
    const intervalSeconds = interval === undefined ? undefined : Number(interval);
    if (
      intervalSeconds !== undefined &&
      (typeof interval !== 'string' || !/^\d+$/.test(interval) || intervalSeconds < 1 || intervalSeconds > 86_400)
    ) {
      throw new UsageError(`--monitor-interval expects whole seconds from 1 to 86400, got '${shown(interval)}'`);
    }
    // Loaded here so that other commands never load the web framework.
    const { startServer, DOCS_PATH, OPENAPI_PATH } = await import('@trestle/server');
    const auth = ctx.values['auth'] === true;
    // The banner is the first thing on stdout, before any log line; with --json it is one JSON
    // line like the logs, so stdout is JSON lines from start to end.
    const banner = ({ url, bootstrapToken }: { url: string; bootstrapToken?: string }): string => {
      const docs = `${url}${DOCS_PATH}`;
      if (ctx.out.json) {
        return JSON.stringify({
          url,
          docs,
          openapi: `${url}${OPENAPI_PATH}`,
          auth,
          metadata: ctx.config.db,
          artifacts: ctx.config.artifacts,
          ...(bootstrapToken === undefined ? {} : { bootstrapToken }),
        });
      }
      return [
        `Trestle server listening on ${url}`,
        `  web UI        ${url}/`,
        `  API docs      ${docs}`,
        `  metadata      ${ctx.config.db}`,
        `  artifacts     ${ctx.config.artifacts}`,
        `  access        ${auth ? "API token required (roles reader, editor, admin; see 'trestle tokens')" : 'open to anyone who can reach it (start with --auth to require tokens)'}`,
        ...(bootstrapToken === undefined
          ? []
          : [
              '',
              'There was no admin token, so one was created (bootstrap-admin). Store it now: it is not shown again.',
              '',
              `  ${bootstrapToken}`,
            ]),
        '',
        'Log to it from MLflow or Trestle clients:',
        `  export MLFLOW_TRACKING_URI=${url}`,
        `  export TRESTLE_TRACKING_URI=${url}`,
        // Clients get tokens of their own (an editor's for training), not the admin's.
        ...(auth
          ? [
              '  export MLFLOW_TRACKING_TOKEN=<token>     # make one: trestle tokens create --name NAME --role editor',
              '  export TRESTLE_TRACKING_TOKEN=<token>',
            ]
          : []),
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n');
    };
    const running = await startServer({
      config: ctx.config,
      host,
      port,
      auth,
      shutdownTimeoutMs,
      logFormat,
      banner,
      monitoring: {
        ...(alerts === undefined ? {} : { alerts }),
        ...(intervalSeconds === undefined ? {} : { intervalMs: intervalSeconds * 1000 }),
      },
    });
    await running.closed;
    ctx.out.info('Server stopped.');
  },
};
