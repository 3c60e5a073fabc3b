/**
 * `trestle build --server` and `trestle build --worker`: build contexts for the control plane.
 * The server image runs the tracking server with the web UI (`ui/`, copied from `@trestle/ui`'s
 * build); the worker image runs pipeline stages from the queue in a mounted project checkout.
 * Each bundle leaves as imports only the packages its Dockerfile installs with `npm ci`, at the
 * workspace's locked versions (the bundler refuses any other import).
 */
import { cp, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TrestleError } from '@trestle/core';
import { uiBuildState } from '@trestle/ui';
import { bundle, runtimeEntry } from './bundle.js';
import { BUILD_INFO_FILE, type ControlPlaneBuildInfo } from './build-info.js';
import { dockerfile, dockerignore, HEALTHCHECK_FILE, healthcheckScript } from './dockerfile.js';
import { installManifest } from './lockfile.js';
import { checkOutputFolder, writeFolderAtomically } from '../out-dir.js';
import { folderSize, type FolderSize } from './output-folder.js';
import { contextReadme } from './readme.js';

/** Port the server image listens on (the tracking server's usual port). */
export const SERVER_PORT = 5000;

export interface ControlPlaneContextOptions {
  readonly kind: 'server' | 'worker';
  readonly out: string;
  readonly force?: boolean;
  /** Folder of the built web UI; default `@trestle/ui`'s build. */
  readonly uiDir?: string;
}

export interface ControlPlaneReport {
  readonly out: string;
  readonly kind: 'server' | 'worker';
  readonly size: FolderSize;
  readonly bundleBytes: number;
  /** Packages the Dockerfile installs with npm ci: exactly the bundle's run-time imports. */
  readonly installs: readonly string[];
}

interface Plan {
  readonly entry: string;
  readonly installs: readonly string[];
  readonly absent: Readonly<Record<string, string>>;
}

const PLANS: Readonly<Record<'server' | 'worker', Plan>> = {
  server: {
    entry: 'server-main',
    // Native drivers, and swagger-ui, which serves its static files from its own package folder.
    installs: ['@fastify/swagger-ui', 'better-sqlite3', 'pg'],
    absent: {},
  },
  worker: {
    entry: 'worker-main',
    installs: [],
    absent: {
      pg: 'the worker opens no metadata store (stages log to TRESTLE_TRACKING_URI themselves)',
      'better-sqlite3': 'the worker opens no metadata store (stages log to TRESTLE_TRACKING_URI themselves)',
      '@valkey/valkey-glide': 'the worker talks to Redis through ioredis',
    },
  },
};

/**
 * Writes the server or worker build context into `out`, atomically.
 *
 * @throws TrestleError `FAILED_PRECONDITION` when the web UI is not built (for `server`);
 *   `ALREADY_EXISTS` when `out` is not empty and `force` is not set.
 * @example
 * const r = await buildControlPlaneContext({ kind: 'server', out: 'images/server' });
 */
export async function buildControlPlaneContext(o: ControlPlaneContextOptions): Promise<ControlPlaneReport> {
  await checkOutputFolder(o.out, o.force === true);
  const plan = PLANS[o.kind];
  const ui = o.kind === 'server' ? uiBuildState(o.uiDir) : undefined;
  if (ui !== undefined && !ui.built) {
    throw new TrestleError('FAILED_PRECONDITION', `the web UI is not built (${ui.dir}): ${ui.howToBuild}`);
  }
  const file = `${o.kind}.mjs`;
  return writeFolderAtomically(o.out, o.force === true, async (dir) => {
    const { bytes } = await bundle({
      entry: runtimeEntry(plan.entry),
      outfile: join(dir, file),
      external: plan.installs,
      absent: plan.absent,
    });
    if (plan.installs.length > 0) {
      const { packageJson, lockfile } = installManifest(`trestle-${o.kind}`, plan.installs);
      await writeFile(join(dir, 'package.json'), packageJson);
      await writeFile(join(dir, 'package-lock.json'), lockfile);
    }
    if (ui !== undefined) await cp(ui.dir, join(dir, 'ui'), { recursive: true });
    const info: ControlPlaneBuildInfo = { kind: o.kind };
    await writeFile(join(dir, BUILD_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
    const server = o.kind === 'server';
    if (server) await writeFile(join(dir, HEALTHCHECK_FILE), healthcheckScript(SERVER_PORT, '/ready'));
    await writeFile(
      join(dir, 'Dockerfile'),
      dockerfile({
        title: server ? 'Trestle tracking server and web UI' : 'Trestle pipeline worker',
        install: plan.installs.length > 0,
        copy: [file, BUILD_INFO_FILE, ...(server ? [HEALTHCHECK_FILE, 'ui/'] : [])],
        entry: server ? file : `/app/${file}`,
        env: server
          ? { TRESTLE_HOST: '0.0.0.0', TRESTLE_PORT: String(SERVER_PORT), TRESTLE_HOME: '/data' }
          : { TRESTLE_HOME: '/project/.trestle' },
        ...(server ? { port: SERVER_PORT } : {}),
        healthcheck: server,
        workdir: server ? '/app' : '/project',
        writable: server ? ['/data'] : ['/project'],
        labels: {
          'org.opencontainers.image.title': `trestle-${o.kind}`,
          'org.opencontainers.image.description': server
            ? 'Trestle tracking server (REST API v1, MLflow REST API) with the web UI'
            : 'Trestle pipeline worker: runs queued stages in the project mounted at /project',
        },
      }),
    );
    await writeFile(join(dir, '.dockerignore'), dockerignore());
    await writeFile(
      join(dir, 'README.md'),
      contextReadme({ kind: o.kind, installs: plan.installs, ...(server ? { port: SERVER_PORT } : {}) }),
    );
    return {
      out: resolve(o.out),
      kind: o.kind,
      size: await folderSize(dir),
      bundleBytes: bytes,
      installs: plan.installs,
    };
  });
}
