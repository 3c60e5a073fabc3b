/**
 * `trestle build MODEL_URI --compose --out DIR`: the whole platform on one machine with
 * `docker compose up`: the tracking server (serving the web UI), PostgreSQL for metadata,
 * MinIO (S3) for artifacts and data, Redis for the pipeline queue, the model server and a
 * pipeline worker. DIR holds `compose.yaml` and the three build contexts it builds
 * (`server/`, `worker/`, `serving/`).
 */
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ModelSource } from '@trestle/models';
import { buildControlPlaneContext, SERVER_PORT } from './control-plane-context.js';
import { buildModelContext, SERVING_PORT, type BuildReport } from './model-context.js';
import { checkOutputFolder, writeFolderAtomically } from '../out-dir.js';
import { folderSize, type FolderSize } from './output-folder.js';

/** Name of the file in DIR. */
export const COMPOSE_FILE = 'compose.yaml';

/** One service of a compose file, as far as Trestle writes them. */
export interface ComposeService {
  image?: string;
  build?: { context: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number };
  restart?: string;
}

/** The compose document. */
export interface ComposeFile {
  name: string;
  services: Record<string, ComposeService>;
  volumes: Record<string, Record<string, never>>;
}

export interface ComposeOptions {
  /** The model the `serving` service serves. */
  readonly uri: string;
  readonly out: string;
  readonly force?: boolean;
  /** The serving image fetches the model from the compose server at start instead of carrying it. */
  readonly pullAtStart?: boolean;
  readonly source?: ModelSource;
}

export interface ComposeReport {
  readonly out: string;
  readonly size: FolderSize;
  readonly services: readonly string[];
  readonly model: BuildReport['info']['model'];
}

// Development credentials for one machine; the README says to change them before exposing it.
const PG = { user: 'trestle', password: 'trestle', db: 'trestle' };
const S3 = { user: 'trestle', password: 'trestle-secret', bucket: 'trestle' };

/**
 * The compose document: every URI in an environment names a service of the same file.
 *
 * @example stringify(composeFile())
 */
export function composeFile(): ComposeFile {
  const s3Env = {
    TRESTLE_S3_ENDPOINT: 'http://minio:9000',
    AWS_ACCESS_KEY_ID: S3.user,
    AWS_SECRET_ACCESS_KEY: S3.password,
    AWS_REGION: 'us-east-1',
  };
  const tracking = `http://server:${SERVER_PORT}`;
  return {
    name: 'trestle',
    services: {
      postgres: {
        image: 'postgres:16',
        environment: { POSTGRES_USER: PG.user, POSTGRES_PASSWORD: PG.password, POSTGRES_DB: PG.db },
        volumes: ['postgres:/var/lib/postgresql/data'],
        healthcheck: {
          test: ['CMD', 'pg_isready', '-U', PG.user, '-d', PG.db],
          interval: '5s',
          timeout: '3s',
          retries: 20,
        },
        restart: 'unless-stopped',
      },
      minio: {
        image: 'minio/minio:latest',
        command: ['server', '/data', '--console-address', ':9001'],
        environment: { MINIO_ROOT_USER: S3.user, MINIO_ROOT_PASSWORD: S3.password },
        ports: ['9001:9001'],
        volumes: ['minio:/data'],
        healthcheck: {
          test: ['CMD', 'mc', 'ready', 'local'],
          interval: '5s',
          timeout: '3s',
          retries: 20,
        },
        restart: 'unless-stopped',
      },
      // Creates the bucket once MinIO answers, then exits.
      'minio-bucket': {
        image: 'minio/mc:latest',
        entrypoint: [
          'sh',
          '-c',
          `mc alias set local http://minio:9000 ${S3.user} ${S3.password} && mc mb --ignore-existing local/${S3.bucket}`,
        ],
        depends_on: { minio: { condition: 'service_healthy' } },
      },
      redis: {
        image: 'redis:7',
        volumes: ['redis:/data'],
        healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '5s', timeout: '3s', retries: 20 },
        restart: 'unless-stopped',
      },
      server: {
        build: { context: './server' },
        environment: {
          TRESTLE_DB: `postgres://${PG.user}:${PG.password}@postgres:5432/${PG.db}`,
          TRESTLE_ARTIFACTS: `s3://${S3.bucket}/artifacts`,
          ...s3Env,
        },
        ports: [`${SERVER_PORT}:${SERVER_PORT}`],
        depends_on: {
          postgres: { condition: 'service_healthy' },
          'minio-bucket': { condition: 'service_completed_successfully' },
        },
        restart: 'unless-stopped',
      },
      serving: {
        build: { context: './serving' },
        // Inference logs and window summaries go to the server; with --pull-at-start the model comes from it too
        // (register it there first: this server's registry starts empty).
        environment: { TRESTLE_TRACKING_URI: tracking },
        ports: [`${SERVING_PORT}:${SERVING_PORT}`],
        depends_on: { server: { condition: 'service_healthy' } },
        restart: 'unless-stopped',
      },
      worker: {
        build: { context: './worker' },
        environment: {
          TRESTLE_QUEUE: 'redis://redis:6379',
          TRESTLE_REMOTE: `s3://${S3.bucket}/data`,
          TRESTLE_TRACKING_URI: tracking,
          ...s3Env,
        },
        // The project checkout whose pipeline stages the worker runs (TRESTLE_PROJECT, default the parent folder).
        volumes: ['${TRESTLE_PROJECT:-..}:/project'],
        depends_on: {
          redis: { condition: 'service_healthy' },
          server: { condition: 'service_healthy' },
          'minio-bucket': { condition: 'service_completed_successfully' },
        },
        restart: 'unless-stopped',
      },
    },
    volumes: { postgres: {}, minio: {}, redis: {} },
  };
}

function composeReadme(model: BuildReport['info']['model']): string {
  return [
    '# Trestle on one machine',
    '',
    `Written by \`trestle build ${model.uri} --compose\`: \`docker compose up --build\` starts the tracking server`,
    `with its web UI on http://localhost:${SERVER_PORT}, ${model.name} version ${model.version} served on`,
    `http://localhost:${SERVING_PORT}, a pipeline worker (the project at \`TRESTLE_PROJECT\`, default \`..\`,`,
    'mounted at /project), PostgreSQL, MinIO (console on http://localhost:9001) and Redis.',
    '',
    'The passwords in compose.yaml are for a laptop: change them before anyone else can reach it.',
    '',
  ].join('\n');
}

/**
 * Writes DIR with `compose.yaml`, its README and the `server/`, `worker/` and `serving/` contexts.
 *
 * @throws as {@link buildModelContext} for the model; `ALREADY_EXISTS` for a non-empty DIR without `force`.
 */
export async function buildCompose(o: ComposeOptions): Promise<ComposeReport> {
  await checkOutputFolder(o.out, o.force === true);
  return writeFolderAtomically(o.out, o.force === true, async (dir) => {
    const serving = await buildModelContext({
      uri: o.uri,
      out: join(dir, 'serving'),
      ...(o.pullAtStart === true ? { pullAtStart: true } : {}),
      ...(o.source === undefined ? {} : { source: o.source }),
    });
    await buildControlPlaneContext({ kind: 'server', out: join(dir, 'server') });
    await buildControlPlaneContext({ kind: 'worker', out: join(dir, 'worker') });
    const doc = composeFile();
    await writeFile(
      join(dir, COMPOSE_FILE),
      `# Written by 'trestle build --compose'. Start everything: docker compose up --build\n${stringify(doc)}`,
    );
    await writeFile(join(dir, 'README.md'), composeReadme(serving.info.model));
    return {
      out: resolve(o.out),
      size: await folderSize(dir),
      services: Object.keys(doc.services),
      model: serving.info.model,
    };
  });
}
