/**
 * The entrypoint of a model-serving image, bundled by esbuild into `serve.mjs`: it reads
 * `build.json` beside it (written by `trestle build`), then serves the baked-in package
 * (`./model`) or, when the image was built with `--pull-at-start`, the model URI it names,
 * fetched from `TRESTLE_TRACKING_URI` at start.
 *
 * Environment: `TRESTLE_HOST` (default 0.0.0.0), `TRESTLE_PORT` (default 8080, 0 picks one),
 * `TRESTLE_MODEL_URI` (overrides the built-in choice), `TRESTLE_TRACKING_URI` (needed for
 * `models:/` and `runs:/` URIs; also where inference logs go), `TRESTLE_HOME` (spool folder).
 * Prints one JSON line `{"url": …, "model": …, "version": …}` once it listens.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isTrestleError, loadConfig } from '@trestle/core';
import { loadModel } from '@trestle/models';
import { serveModel, type ModelsModule } from '@trestle/serving';
import { readBuildInfo, type ServeBuildInfo } from '../build-info.js';
import { listenOptions } from './listen-options.js';

async function main(): Promise<void> {
  const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
  const info = readBuildInfo(readFileSync(here('./build.json'), 'utf8')) as ServeBuildInfo;
  const env = process.env;
  const uri = env['TRESTLE_MODEL_URI'] || (info.model.baked ? here('./model') : info.model.uri);
  const config = loadConfig({}, env);
  if (/^(models|runs):\//.test(uri) && config.trackingUri === undefined) {
    throw new Error(`${uri} is fetched from the tracking server: set TRESTLE_TRACKING_URI (e.g. http://trestle:5000)`);
  }
  const { host, port } = listenOptions(env);
  // A baked-in folder is named `model`: report the registered name and version instead.
  const baked = uri === here('./model');
  const models: ModelsModule = {
    loadModel: async (u, o) => {
      const model = await loadModel(u, o as Parameters<typeof loadModel>[1]);
      return baked ? { ...model, version: { name: info.model.name, version: info.model.version } } : model;
    },
  };
  const served = await serveModel({
    uri,
    config,
    host,
    port,
    models,
    ...(info.flavor === undefined ? {} : { flavor: info.flavor }),
    ...(config.trackingUri === undefined ? { controlPlane: false } : {}),
    log: (line) => process.stderr.write(`serve: ${line}\n`),
  });
  const champion = served.running.router.champion;
  process.stdout.write(
    `${JSON.stringify({ url: served.running.url, model: champion.predictor.name, version: champion.version })}\n`,
  );
  const stop = (): void => {
    void served.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  const message = isTrestleError(err) ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`serve: error: ${message}\n`);
  process.exit(1);
});
