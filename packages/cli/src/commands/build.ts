import { UsageError, type Command } from '../framework/command.js';
import { formatBytes } from './data.js';

/**
 * `trestle build MODEL_URI --out DIR`: a container build context for a model server (or, with
 * `--server` / `--worker`, for the control plane; with `--compose`, a compose.yaml for one machine).
 *
 * @example
 * trestle build models:/flights-delay@champion --out image && docker build -t flights-delay image
 */
export const build: Command = {
  name: 'build',
  summary: 'Write a container build context: a model server, the tracking server + UI, a worker, or compose.yaml',
  usage: 'MODEL_URI | --server | --worker',
  description: [
    'MODEL_URI is models:/NAME@ALIAS, models:/NAME/VERSION, runs:/RUN_ID/PATH or a model package folder.',
    'The context holds a two-stage Dockerfile (node:20-slim, non-root, HEALTHCHECK on /v2/health/ready),',
    'the model package, the serving code bundled into one file (serve.mjs), .dockerignore and a README.',
    'With --pull-at-start the image carries no model: it fetches MODEL_URI from TRESTLE_TRACKING_URI when it starts.',
    '--server writes the tracking server + web UI image (npm ci installs better-sqlite3, pg, @fastify/swagger-ui);',
    '--worker the pipeline worker image (TRESTLE_QUEUE, TRESTLE_REMOTE; the project is mounted at /project).',
    '--compose writes DIR/compose.yaml for one machine (server + UI, PostgreSQL, MinIO, Redis, serving, worker).',
    'No Docker is needed to write it; build it with `docker build DIR` (or buildah/podman).',
  ].join('\n'),
  options: {
    out: { type: 'string', valueName: 'DIR', description: 'folder to write (refused if it exists and is not empty)' },
    force: { type: 'boolean', description: 'replace the --out folder if it is not empty' },
    server: { type: 'boolean', description: 'the tracking server with the web UI, instead of a model server' },
    worker: { type: 'boolean', description: 'a pipeline worker (runs queued stages in a mounted project)' },
    compose: {
      type: 'boolean',
      description: 'the whole platform for one machine: compose.yaml with the server, worker and MODEL_URI contexts',
    },
    'pull-at-start': {
      type: 'boolean',
      description: 'do not bake the model in: the image fetches it from the tracking server at start',
    },
  },
  positionals: { min: 0, max: 1 },
  run: async (ctx) => {
    const v = ctx.values;
    const out = v['out'];
    if (typeof out !== 'string' || out === '') throw new UsageError('--out DIR is required');
    const uri = ctx.positionals[0];
    const kinds = (['server', 'worker'] as const).filter((k) => v[k] === true);
    if (kinds.length > 1) throw new UsageError('choose one of MODEL_URI, --server or --worker');
    const kind = kinds[0];
    if (v['compose'] === true) {
      if (kind !== undefined) throw new UsageError(`--compose already holds the ${kind}; drop --${kind}`);
      if (uri === undefined) throw new UsageError('--compose needs the MODEL_URI its serving service serves');
    }
    if (kind !== undefined) {
      if (uri !== undefined) throw new UsageError(`--${kind} takes no MODEL_URI`);
      if (v['pull-at-start'] === true) throw new UsageError('--pull-at-start goes with a MODEL_URI');
      const { buildControlPlaneContext } = await import('@trestle/deploy');
      const r = await buildControlPlaneContext({ kind, out, force: v['force'] === true });
      ctx.out.result(r, () =>
        [
          `Wrote the build context of the ${kind === 'server' ? 'tracking server and web UI' : 'pipeline worker'} to ${r.out}`,
          `  size      ${formatBytes(r.size.bytes)} in ${r.size.files} files (${kind}.mjs ${formatBytes(r.bundleBytes)})`,
          `  installs  ${r.installs.length === 0 ? 'nothing (no native packages)' : `${r.installs.join(', ')} (npm ci, the workspace's locked versions)`}`,
          `  build     docker build -t trestle-${kind} ${out}`,
        ].join('\n'),
      );
      return;
    }
    if (uri === undefined) throw new UsageError('give a MODEL_URI, --server or --worker');
    const { buildModelContext, buildCompose } = await import('@trestle/deploy');
    let client: { close(): Promise<void> } | undefined;
    let source: unknown;
    if (/^(models|runs):\//.test(uri)) {
      const { Trestle } = await import('@trestle/client');
      const trestle = await Trestle.connect({ config: ctx.config, create: false });
      client = trestle;
      source = trestle;
    }
    const options = {
      uri,
      out,
      force: v['force'] === true,
      pullAtStart: v['pull-at-start'] === true,
      ...(source === undefined ? {} : { source: source as never }),
    };
    if (v['compose'] === true) {
      let composed;
      try {
        composed = await buildCompose(options);
      } finally {
        await client?.close();
      }
      const c = composed;
      ctx.out.result(c, () =>
        [
          `Wrote compose.yaml and the server, worker and serving (${c.model.name} version ${c.model.version}) contexts to ${c.out}`,
          `  size      ${formatBytes(c.size.bytes)} in ${c.size.files} files`,
          `  services  ${c.services.join(', ')}`,
          `  start     cd ${out} && docker compose up --build`,
        ].join('\n'),
      );
      return;
    }
    let report;
    try {
      report = await buildModelContext(options);
    } finally {
      await client?.close();
    }
    const m = report.info.model;
    const tag = `${m.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}:${m.version}`;
    ctx.out.result(report, () =>
      [
        `Wrote the build context of ${m.name} version ${m.version} (${report.info.flavor} flavor) to ${report.out}`,
        `  size      ${formatBytes(report.size.bytes)} in ${report.size.files} files (serve.mjs ${formatBytes(report.bundleBytes)})`,
        `  model     ${m.baked ? 'baked in' : `fetched at start from TRESTLE_TRACKING_URI as ${m.uri}`} (${m.digest.slice(0, 19)}…)`,
        `  installs  ${report.installs.length === 0 ? 'nothing (no native packages)' : report.installs.join(', ')}`,
        `  build     docker build -t ${tag} ${out}`,
        `  run       docker run --rm -p 8080:8080${m.baked ? '' : ' -e TRESTLE_TRACKING_URI=http://HOST:5000'} ${tag}`,
      ].join('\n'),
    );
  },
};
