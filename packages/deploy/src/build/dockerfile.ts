/**
 * The Dockerfile of a build context: two stages on `node:20-slim` (the first installs the
 * native packages the bundle leaves as imports, when there are any, and assembles `/app`; the
 * second runs it as the unprivileged `node` user), OCI labels, `EXPOSE` and a `HEALTHCHECK`.
 */

/** What a context's Dockerfile runs. */
export interface DockerfileSpec {
  /** First comment line, e.g. 'Model server for flights-delay version 3'. */
  readonly title: string;
  /** The context has package.json + package-lock.json to install with `npm ci --omit=dev`. */
  readonly install: boolean;
  /** Files and folders of the context copied to `/app` (folders end with '/'). */
  readonly copy: readonly string[];
  /** The bundled entrypoint, e.g. 'serve.mjs'. */
  readonly entry: string;
  readonly env: Readonly<Record<string, string>>;
  /** Port the process listens on; none for a worker. */
  readonly port?: number;
  /** The context has `healthcheck.mjs` (see {@link healthcheckScript}); none for a process without a port. */
  readonly healthcheck: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** Working directory of the running container; default `/app` (where the context's files are). */
  readonly workdir?: string;
  /** Folders the unprivileged user must be able to write. */
  readonly writable?: readonly string[];
}

/** The base image of both stages (override with `--build-arg NODE_IMAGE=…`). */
export const NODE_IMAGE = 'node:20-slim';

/** Name of the health-check script in a context (runs with the image's node, no curl needed). */
export const HEALTHCHECK_FILE = 'healthcheck.mjs';

/** `healthcheck.mjs`: exits 0 when GET http://127.0.0.1:$TRESTLE_PORT<path> answers 2xx. */
export function healthcheckScript(defaultPort: number, path: string): string {
  return [
    '// HEALTHCHECK of the image: exit 0 when the server answers its readiness route.',
    `const port = process.env.TRESTLE_PORT || '${defaultPort}';`,
    `const path = ${JSON.stringify(path)};`,
    'fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2500) }).then(',
    '  (res) => process.exit(res.ok ? 0 : 1),',
    '  () => process.exit(1),',
    ');',
    '',
  ].join('\n');
}

const quote = (s: string): string => JSON.stringify(s);

/** A `KEY=value` pair for ENV and LABEL, quoted when it needs to be. */
function pair(key: string, value: string): string {
  return `${key}=${/^[\w./:@+-]*$/.test(value) && value !== '' ? value : quote(value)}`;
}

/** The Dockerfile text. */
export function dockerfile(spec: DockerfileSpec): string {
  const lines: string[] = [
    '# syntax=docker/dockerfile:1',
    `# ${spec.title}. Written by 'trestle build'; see README.md.`,
    `ARG NODE_IMAGE=${NODE_IMAGE}`,
    '',
    '# Stage 1: assemble /app (and install the native packages the bundle imports).',
    'FROM ${NODE_IMAGE} AS build',
    'WORKDIR /app',
  ];
  if (spec.install) {
    lines.push('COPY package.json package-lock.json ./', 'RUN npm ci --omit=dev --no-audit --no-fund');
  }
  const files = spec.copy.filter((c) => !c.endsWith('/'));
  if (files.length > 0) lines.push(`COPY ${files.join(' ')} ./`);
  for (const folder of spec.copy.filter((c) => c.endsWith('/'))) lines.push(`COPY ${folder} ./${folder}`);
  lines.push(
    '',
    '# Stage 2: the runtime, as the unprivileged node user.',
    'FROM ${NODE_IMAGE}',
    `ENV ${Object.entries({ NODE_ENV: 'production', ...spec.env })
      .map(([k, v]) => pair(k, v))
      .join(' \\\n    ')}`,
    'COPY --from=build /app /app',
  );
  if (spec.writable !== undefined && spec.writable.length > 0) {
    lines.push(`RUN mkdir -p ${spec.writable.join(' ')} && chown node:node ${spec.writable.join(' ')}`);
  }
  lines.push(
    `WORKDIR ${spec.workdir ?? '/app'}`,
    'USER node',
    ...(spec.port === undefined ? [] : [`EXPOSE ${spec.port}`]),
    `LABEL ${Object.entries(spec.labels)
      .map(([k, v]) => pair(k, v))
      .join(' \\\n      ')}`,
  );
  if (spec.healthcheck) {
    lines.push(
      `HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 CMD ["node", ${quote(`/app/${HEALTHCHECK_FILE}`)}]`,
    );
  }
  lines.push(`ENTRYPOINT ["node", ${quote(spec.entry)}]`, '');
  return lines.join('\n');
}

/** `.dockerignore`: the context holds only what the image needs, so this keeps the docs out. */
export function dockerignore(): string {
  return [
    '# Written by trestle build: everything else in this folder goes into the image.',
    'Dockerfile',
    '.dockerignore',
    'README.md',
    '**/.DS_Store',
    '',
  ].join('\n');
}
