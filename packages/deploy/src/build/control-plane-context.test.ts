import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { isTrestleError } from '@trestle/core';
import { uiBuildState } from '@trestle/ui';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildControlPlaneContext, type ControlPlaneReport } from './control-plane-context.js';
import { workspaceRoot } from './lockfile.js';
import { installLocked, runEntrypoint, runToEnd } from '../testing/entrypoint-process.js';

let work: string;
const ui = uiBuildState();
if (!ui.built) console.warn(`skipping the --server context: ${ui.howToBuild}`);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deploy-cp-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function alone(report: ControlPlaneReport): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'deploy-cp-alone-')), report.kind);
  await cp(report.out, dir, { recursive: true });
  return dir;
}

describe.skipIf(!ui.built)('trestle build --server', () => {
  let report: ControlPlaneReport;
  beforeAll(async () => {
    report = await buildControlPlaneContext({ kind: 'server', out: join(work, 'server') });
  }, 120_000);

  it('installs exactly what the bundle imports, at the locked versions', async () => {
    expect(report.installs).toEqual(['@fastify/swagger-ui', 'better-sqlite3', 'pg']);
    const pkg = JSON.parse(await readFile(join(report.out, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(Object.keys(pkg.dependencies).sort()).toEqual([...report.installs]);
    const root = JSON.parse(await readFile(join(workspaceRoot(), 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string }>;
    };
    for (const [name, version] of Object.entries(pkg.dependencies)) {
      expect(version).toBe(root.packages[`node_modules/${name}`]?.version);
    }
    const text = await readFile(join(report.out, 'Dockerfile'), 'utf8');
    expect(validate(text)).toEqual([]);
    expect(text).toContain('RUN npm ci --omit=dev');
    expect(text).toContain('COPY ui/ ./ui/');
    expect(text).toMatch(/^EXPOSE 5000$/m);
    expect(text).toMatch(/^USER node$/m);
    expect(await readdir(join(report.out, 'ui'))).toContain('index.html');
  });

  it('runs from its folder alone once the locked packages are installed: API, readiness and the UI', async () => {
    const dir = await alone(report);
    await installLocked(dir);
    const home = await mkdtemp(join(tmpdir(), 'deploy-cp-home-'));
    const server = await runEntrypoint(dir, 'server.mjs', {
      TRESTLE_PORT: '0',
      TRESTLE_HOST: '127.0.0.1',
      TRESTLE_HOME: home,
    });
    try {
      const url = server.banner['url'] as string;
      expect((await fetch(`${url}/ready`)).status).toBe(200);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toBe(await readFile(join(ui.dir, 'index.html'), 'utf8'));
      // A write and a read through the SQLite store (better-sqlite3 from the installed node_modules).
      const created = await fetch(`${url}/api/2.0/mlflow/experiments/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'from-the-image' }),
      });
      expect(created.status).toBe(200);
      const id = ((await created.json()) as { experiment_id: string }).experiment_id;
      const got = await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=${id}`);
      expect(((await got.json()) as { experiment: { name: string } }).experiment.name).toBe('from-the-image');
      expect((await runToEnd(dir, 'healthcheck.mjs', { TRESTLE_PORT: new URL(url).port })).code).toBe(0);
    } finally {
      await server.stop();
      await rm(dirname(dir), { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('trestle build --worker', () => {
  let report: ControlPlaneReport;
  beforeAll(async () => {
    report = await buildControlPlaneContext({ kind: 'worker', out: join(work, 'worker') });
  }, 120_000);

  it('installs nothing and validates', async () => {
    expect(report.installs).toEqual([]);
    expect((await readdir(report.out)).sort()).toEqual([
      '.dockerignore',
      'Dockerfile',
      'README.md',
      'build.json',
      'worker.mjs',
    ]);
    const text = await readFile(join(report.out, 'Dockerfile'), 'utf8');
    expect(validate(text)).toEqual([]);
    expect(text).not.toContain('npm ci');
    expect(text).toMatch(/^WORKDIR \/project$/m);
    expect(text).toContain('ENTRYPOINT ["node", "/app/worker.mjs"]');
  });

  it('runs alone: one line without a queue, and takes the queue (real Redis) in a project folder', async () => {
    const dir = await alone(report);
    try {
      const none = await runToEnd(dir, 'worker.mjs', {});
      expect(none.code).toBe(1);
      expect(none.stderr).toBe('worker: error: no queue: set TRESTLE_QUEUE=redis://host:6379\n');
      const project = await mkdtemp(join(tmpdir(), 'deploy-project-'));
      const remote = await mkdtemp(join(tmpdir(), 'deploy-remote-'));
      const worker = await runEntrypoint(
        project,
        join(dir, 'worker.mjs'),
        {
          TRESTLE_QUEUE: `redis://127.0.0.1:6379/${process.pid % 16}`,
          TRESTLE_REMOTE: remote,
          TRESTLE_HOME: join(project, '.trestle'),
        },
        30_000,
      ).catch((err: unknown) => err);
      if (process.env['CI'] !== 'true' && worker instanceof Error && /ECONNREFUSED|connect/.test(worker.message)) {
        console.warn(`skipping the queue half: Redis is not reachable on 127.0.0.1:6379 (${worker.message})`);
        return;
      }
      if (worker instanceof Error) throw worker;
      const w = worker as Awaited<ReturnType<typeof runEntrypoint>>;
      expect(w.banner).toMatchObject({ ready: true, jobs: 1 });
      expect(await w.stop()).toBe(0);
      await rm(project, { recursive: true, force: true });
      await rm(remote, { recursive: true, force: true });
    } finally {
      await rm(dirname(dir), { recursive: true, force: true });
    }
  });

  it('refuses a non-empty --out, writing nothing', async () => {
    const err = await buildControlPlaneContext({ kind: 'worker', out: report.out }).catch((e: unknown) => e);
    expect(isTrestleError(err, 'ALREADY_EXISTS')).toBe(true);
    expect((await readdir(work)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
