import { UsageError, type Command } from '../framework/command.js';

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
    throw new UsageError(`--host expects a host name or IP address such as 127.0.0.1 or 0.0.0.0, got '${shown(value)}'`);
  }
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
  ].join('\n'),
  options: {
    host: { type: 'string', valueName: 'HOST', description: 'interface to listen on (default 127.0.0.1)' },
    port: { type: 'string', valueName: 'PORT', description: 'TCP port (default 5000; 0 picks a free one)' },
  },
  positionals: { max: 0 },
  run: async (ctx) => {
    const host = parseHost(ctx.values['host']);
    const port = parsePort(ctx.values['port']);
    // Loaded here so that other commands never load the web framework.
    const { startServer, DOCS_PATH, OPENAPI_PATH } = await import('@trestle/server');
    const running = await startServer({ config: ctx.config, host, port });
    const docs = `${running.url}${DOCS_PATH}`;
    ctx.out.result({ url: running.url, docs, openapi: `${running.url}${OPENAPI_PATH}` }, () =>
      [
        `Trestle server listening on ${running.url}`,
        `  API docs      ${docs}`,
        `  metadata      ${ctx.config.db}`,
        `  artifacts     ${ctx.config.artifacts}`,
        '',
        'Log to it from MLflow or Trestle clients:',
        `  export MLFLOW_TRACKING_URI=${running.url}`,
        `  export TRESTLE_TRACKING_URI=${running.url}`,
        '',
        'Press Ctrl-C to stop.',
      ].join('\n'),
    );
    await running.closed;
    ctx.out.info('Server stopped.');
  },
};
