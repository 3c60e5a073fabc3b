/** The short README.md written into every build context: what is in it and how to build and run it. */
import type { ServeBuildInfo } from './build-info.js';

export type ReadmeSpec =
  | { readonly kind: 'serve'; readonly info: ServeBuildInfo; readonly port: number }
  | { readonly kind: 'server' | 'worker'; readonly port?: number; readonly installs: readonly string[] };

export function contextReadme(spec: ReadmeSpec): string {
  if (spec.kind === 'serve') {
    const m = spec.info.model;
    const tag = `${m.name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')}:${m.version}`;
    return [
      `# ${m.name} version ${m.version}: model server image`,
      '',
      `Written by \`trestle build ${m.uri}${m.baked ? '' : ' --pull-at-start'}\`. Model digest \`${m.digest}\`, flavor \`${spec.info.flavor}\`.`,
      '',
      '- `Dockerfile`: two stages on node:20-slim; runs as the `node` user; health check on `/v2/health/ready`.',
      '- `serve.mjs`: the Trestle inference server bundled into one file (V2 `/v2/models/NAME/infer`, MLflow `/invocations`, `/predict`, `/metrics`).',
      m.baked
        ? '- `model/`: the model package, baked in.'
        : `- no model inside: it is fetched at start from \`TRESTLE_TRACKING_URI\` as \`${m.uri}\` (an alias is followed: the server hot-swaps when it moves).`,
      ...(spec.info.flavor === 'onnx'
        ? ['- `package.json`, `package-lock.json`: onnxruntime-node, installed with `npm ci`.']
        : []),
      '',
      '```sh',
      `docker build -t ${tag} .`,
      `docker run --rm -p ${spec.port}:${spec.port}${m.baked ? '' : ' -e TRESTLE_TRACKING_URI=http://trestle:5000'} ${tag}`,
      `curl -s localhost:${spec.port}/v2/health/ready`,
      '```',
      '',
      'Without Docker: `node serve.mjs` in this folder (Node 20; `TRESTLE_PORT`, `TRESTLE_HOST` choose where it listens).',
      'With `TRESTLE_TRACKING_URI` set, inference logs and feature summaries go to that server.',
      '',
    ].join('\n');
  }
  const what = spec.kind === 'server' ? 'tracking server and web UI' : 'pipeline worker';
  return [
    `# Trestle ${what} image`,
    '',
    `Written by \`trestle build --${spec.kind}\`.`,
    '',
    `- \`Dockerfile\`: two stages on node:20-slim; \`npm ci --omit=dev\` installs ${spec.installs.join(', ')} (the packages \`${spec.kind}.mjs\` imports); runs as the \`node\` user.`,
    `- \`${spec.kind}.mjs\`: the ${what} bundled into one file.`,
    ...(spec.kind === 'server' ? ['- `ui/`: the web UI, served by the server at `/`.'] : []),
    '',
    '```sh',
    `docker build -t trestle-${spec.kind} .`,
    spec.kind === 'server'
      ? `docker run --rm -p ${spec.port}:${spec.port} -e TRESTLE_DB=postgres://… -e TRESTLE_ARTIFACTS=s3://bucket/prefix trestle-server`
      : 'docker run --rm -e TRESTLE_QUEUE=redis://redis:6379 -e TRESTLE_TRACKING_URI=http://trestle:5000 trestle-worker',
    '```',
    '',
  ].join('\n');
}
