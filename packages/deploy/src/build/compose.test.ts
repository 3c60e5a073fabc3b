import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { uiBuildState } from '@trestle/ui';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTestPackage } from '../testing/model-package.js';
import { buildCompose, COMPOSE_FILE, type ComposeFile, type ComposeReport } from './compose.js';

const ui = uiBuildState();
if (!ui.built) console.warn(`skipping the compose build: its server context needs the web UI (${ui.howToBuild})`);

let work: string;
let report: ComposeReport;
let doc: ComposeFile;

beforeAll(async () => {
  if (!ui.built) return;
  work = await mkdtemp(join(tmpdir(), 'deploy-compose-'));
  const pkg = await writeTestPackage('flights-delay');
  report = await buildCompose({ uri: pkg, out: join(work, 'platform') });
  doc = parse(await readFile(join(report.out, COMPOSE_FILE), 'utf8')) as ComposeFile;
}, 180_000);

afterAll(async () => {
  if (work !== undefined) await rm(work, { recursive: true, force: true });
});

describe.skipIf(!ui.built)('trestle build --compose', () => {
  it('has the whole platform: server (with the UI), PostgreSQL, MinIO, Redis, serving and a worker', () => {
    expect(Object.keys(doc.services).sort()).toEqual(
      ['minio', 'minio-bucket', 'postgres', 'redis', 'server', 'serving', 'worker'].sort(),
    );
    expect(report.services).toEqual(Object.keys(doc.services));
    expect(doc.services['server']?.ports).toEqual(['5000:5000']);
    expect(doc.services['serving']?.ports).toEqual(['8080:8080']);
  });

  it('every build context exists with a valid Dockerfile, every image is named', async () => {
    for (const [name, service] of Object.entries(doc.services)) {
      if (service.build === undefined) {
        expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
        continue;
      }
      const dir = join(report.out, service.build.context);
      expect((await stat(dir)).isDirectory(), name).toBe(true);
      expect(validate(await readFile(join(dir, 'Dockerfile'), 'utf8')), name).toEqual([]);
    }
    expect(await readdir(join(report.out, 'server', 'ui'))).toContain('index.html');
    expect(await readdir(join(report.out, 'serving', 'model'))).toContain('trestle-model.json');
  });

  it('every depends_on, named volume and host in a URI resolves to this file', () => {
    const services = new Set(Object.keys(doc.services));
    for (const [name, service] of Object.entries(doc.services)) {
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services.has(dep), `${name} depends on ${dep}`).toBe(true);
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition);
        if (condition === 'service_healthy') {
          // A healthy condition needs a healthcheck: in the file, or in the image (the Trestle server's Dockerfile).
          const own = doc.services[dep]?.healthcheck !== undefined;
          expect(own || dep === 'server', `${dep} has a healthcheck`).toBe(true);
        }
      }
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('$') && !source.startsWith('.') && !source.startsWith('/')) {
          expect(Object.keys(doc.volumes), `${name} mounts ${source}`).toContain(source);
        }
      }
      for (const value of Object.values(service.environment ?? {})) {
        if (!/^(https?|postgres|redis):\/\//.test(value)) continue;
        const host = new URL(value).hostname;
        expect(services.has(host), `${name}: ${value} names service ${host}`).toBe(true);
      }
    }
  });

  it('the server is wired to PostgreSQL and MinIO with the credentials those services were given', () => {
    const server = doc.services['server']!.environment!;
    const pg = doc.services['postgres']!.environment!;
    const db = new URL(server['TRESTLE_DB']!);
    expect(db.protocol).toBe('postgres:');
    expect([db.username, db.password, db.pathname.slice(1)]).toEqual([
      pg['POSTGRES_USER'],
      pg['POSTGRES_PASSWORD'],
      pg['POSTGRES_DB'],
    ]);
    const minio = doc.services['minio']!.environment!;
    expect(server['AWS_ACCESS_KEY_ID']).toBe(minio['MINIO_ROOT_USER']);
    expect(server['AWS_SECRET_ACCESS_KEY']).toBe(minio['MINIO_ROOT_PASSWORD']);
    const bucket = new URL(server['TRESTLE_ARTIFACTS']!).hostname;
    expect(doc.services['minio-bucket']!.entrypoint!.join(' ')).toContain(`local/${bucket}`);
    expect(doc.services['worker']!.environment!['TRESTLE_QUEUE']).toBe('redis://redis:6379');
    expect(doc.services['serving']!.environment!['TRESTLE_TRACKING_URI']).toBe('http://server:5000');
  });
});
