/**
 * The entrypoint of the control-plane image (`trestle build --server`), bundled into
 * `server.mjs`: the tracking server (REST API v1, the MLflow REST API, docs) with the web UI
 * from `./ui` beside it. The stores come from `TRESTLE_DB` (a SQLite file or `postgres://…`)
 * and `TRESTLE_ARTIFACTS` (a folder or `s3://bucket/prefix`, with `TRESTLE_S3_ENDPOINT` for
 * MinIO); `TRESTLE_AUTH=1` requires API tokens. Logs are JSON lines; the first stdout line is
 * `{"url": …}`.
 */
import { fileURLToPath } from 'node:url';
import { isTrestleError, loadConfig } from '@trestle/core';
import { startServer } from '@trestle/server';
import { listenOptions } from './listen-options.js';

async function main(): Promise<void> {
  const env = process.env;
  const config = loadConfig({}, env);
  const { host, port } = listenOptions(env, 5000);
  const auth = env['TRESTLE_AUTH'] === '1' || env['TRESTLE_AUTH'] === 'true';
  const running = await startServer({
    config,
    host,
    port,
    auth,
    logFormat: 'json',
    ui: { dir: fileURLToPath(new URL('./ui', import.meta.url)) },
    banner: ({ url, bootstrapToken }) =>
      JSON.stringify({ url, auth, ...(bootstrapToken === undefined ? {} : { bootstrapToken }) }),
  });
  await running.closed;
}

main().catch((err: unknown) => {
  const message = isTrestleError(err) ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`server: error: ${message}\n`);
  process.exit(1);
});
