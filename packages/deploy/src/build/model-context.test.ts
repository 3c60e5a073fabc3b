import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { validate } from 'dockerfile-utils';
import { isTrestleError } from '@trestle/core';
import { loadModel } from '@trestle/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBuildInfo } from './build-info.js';
import { modelPackageDigest } from '../k8s/resolve-model.js';
import { buildModelContext, type BuildReport } from './model-context.js';
import { TEST_ROWS, writeTestPackage } from '../testing/model-package.js';
import { installLocked, runEntrypoint, runToEnd, type RunningEntrypoint } from '../testing/entrypoint-process.js';

let pkg: string;
let work: string;
let report: BuildReport;
let alone: string;
let served: RunningEntrypoint;

beforeAll(async () => {
  pkg = await writeTestPackage('flights-delay');
  work = await mkdtemp(join(tmpdir(), 'deploy-build-'));
  report = await buildModelContext({ uri: pkg, out: join(work, 'image') });
  // The context alone, in a folder with no workspace (no node_modules, no package.json) above it.
  alone = join(await mkdtemp(join(tmpdir(), 'deploy-alone-')), 'image');
  await cp(report.out, alone, { recursive: true });
  served = await runEntrypoint(alone, 'serve.mjs', { TRESTLE_PORT: '0', TRESTLE_HOST: '127.0.0.1' });
}, 120_000);

afterAll(async () => {
  await served?.stop();
  await rm(work, { recursive: true, force: true });
  await rm(dirname(alone), { recursive: true, force: true });
});

const v2Request = (rows: typeof TEST_ROWS): unknown => ({
  inputs: [
    { name: 'distance', shape: [rows.length], datatype: 'FP64', data: rows.map((r) => r.distance) },
    { name: 'hour', shape: [rows.length], datatype: 'INT64', data: rows.map((r) => r.hour) },
    { name: 'origin', shape: [rows.length], datatype: 'BYTES', data: rows.map((r) => r.origin) },
  ],
});

describe('trestle build MODEL_URI: the model-server context', () => {
  it('runs from its folder alone with node, answers its health check and predicts what loadModel predicts', async () => {
    const url = served.banner['url'] as string;
    expect(served.banner).toMatchObject({ model: 'flights-delay', version: '1' });
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    const res = await fetch(`${url}/v2/models/flights-delay/infer`, {
      method: 'POST',
      body: JSON.stringify(v2Request(TEST_ROWS)),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: { name: string; data: unknown[] }[] };
    const model = await loadModel(pkg);
    const want = await model.predictRows(TEST_ROWS);
    await model.close();
    expect(body.outputs.find((o) => o.name === 'probability')?.data).toEqual(
      Array.from(want.outputs['probability'] as Float64Array),
    );
    expect(body.outputs.find((o) => o.name === 'label')?.data).toEqual(want.outputs['label']);
  });

  it('holds only what serving needs: one bundle, the package, no node_modules to install', async () => {
    expect(report.installs).toEqual([]);
    const files = (await readdir(report.out, { recursive: true })).sort();
    expect(files.filter((f) => !f.startsWith('model'))).toEqual([
      '.dockerignore',
      'Dockerfile',
      'README.md',
      'build.json',
      'healthcheck.mjs',
      'serve.mjs',
    ]);
    expect((await readdir(join(report.out, 'model'))).sort()).toEqual((await readdir(pkg)).sort());
    const regular = (await readdir(report.out, { withFileTypes: true, recursive: true })).filter((e) => e.isFile());
    expect(report.size.files).toBe(regular.length);
    expect(report.size.bytes).toBeGreaterThan(report.bundleBytes);
    // No database driver, web framework or ONNX runtime is inlined.
    const bundle = await readFile(join(report.out, 'serve.mjs'), 'utf8');
    for (const gone of ['better_sqlite3.node', 'pg-pool', 'fastify', 'InferenceSession.create']) {
      expect(bundle).not.toContain(gone);
    }
  });

  it('writes a Dockerfile that dockerfile-utils validates with no warnings, labelled with the model', async () => {
    const text = await readFile(join(report.out, 'Dockerfile'), 'utf8');
    expect(validate(text)).toEqual([]);
    const digest = await modelPackageDigest(pkg);
    expect(report.info.model.digest).toBe(digest);
    expect(text).toContain(`dev.trestle.model.digest=${digest}`);
    expect(text).toContain('dev.trestle.model.name=flights-delay');
    expect(text).toMatch(/^FROM \$\{NODE_IMAGE\} AS build$/m);
    expect(text).toMatch(/^USER node$/m);
    expect(text).toMatch(/^EXPOSE 8080$/m);
    expect(text).toContain('HEALTHCHECK');
    expect(text).toContain('CMD ["node", "/app/healthcheck.mjs"]');
    expect(await readFile(join(report.out, 'healthcheck.mjs'), 'utf8')).toContain('"/v2/health/ready"');
    expect(text).toContain('COPY model/ ./model/');
  });

  it("the image's health check script exits 0 against the running server and 1 when nothing listens", async () => {
    const port = new URL(served.banner['url'] as string).port;
    const ok = await runToEnd(alone, 'healthcheck.mjs', { TRESTLE_PORT: port });
    expect(ok.code).toBe(0);
    const down = await runToEnd(alone, 'healthcheck.mjs', { TRESTLE_PORT: '1' });
    expect(down.code).toBe(1);
  });

  it('--pull-at-start carries no model and names the URI; the entrypoint refuses to start without a tracking server', async () => {
    const out = join(work, 'pull');
    const r = await buildModelContext({ uri: pkg, out, pullAtStart: true });
    expect(r.info.model.baked).toBe(false);
    expect(await readdir(out)).not.toContain('model');
    const info = readBuildInfo(await readFile(join(out, 'build.json'), 'utf8'));
    expect(info).toMatchObject({ kind: 'serve', model: { baked: false, uri: pkg } });
    const text = await readFile(join(out, 'Dockerfile'), 'utf8');
    expect(text).toContain(`TRESTLE_MODEL_URI=${pkg}`);
    expect(validate(text)).toEqual([]);
    // A registry URI without TRESTLE_TRACKING_URI: one line, exit 1.
    const res = await runToEnd(out, 'serve.mjs', { TRESTLE_MODEL_URI: 'models:/flights-delay@champion' });
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe(
      'serve: error: models:/flights-delay@champion is fetched from the tracking server: set TRESTLE_TRACKING_URI (e.g. http://trestle:5000)',
    );
  });
});

describe('trestle build of a model with only the onnx flavor', () => {
  it('installs onnxruntime-node (and only it) with npm ci and serves the ONNX predictions', async () => {
    const onnxOnly = join(work, 'onnx-only');
    await cp(pkg, onnxOnly, { recursive: true });
    const manifestPath = join(onnxOnly, 'trestle-model.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      flavor: string;
      flavors: Record<string, { path: string }>;
    };
    if (manifest.flavors['onnx'] === undefined) {
      console.warn('skipping the onnx-only build: the test package has no onnx flavor');
      return;
    }
    await rm(join(onnxOnly, manifest.flavors['builtin']!.path));
    delete manifest.flavors['builtin'];
    manifest.flavor = 'onnx';
    await writeFile(manifestPath, JSON.stringify(manifest));
    const r = await buildModelContext({ uri: onnxOnly, out: join(work, 'onnx-image') });
    expect(r.info.flavor).toBe('onnx');
    expect(r.installs).toEqual(['onnxruntime-node']);
    const text = await readFile(join(r.out, 'Dockerfile'), 'utf8');
    expect(text).toContain('RUN npm ci --omit=dev');
    expect(validate(text)).toEqual([]);
    const dir = join(await mkdtemp(join(tmpdir(), 'deploy-onnx-alone-')), 'image');
    await cp(r.out, dir, { recursive: true });
    const installed = await installLocked(dir);
    expect(installed).toContain('node_modules/onnxruntime-node');
    expect(installed).toContain('node_modules/onnxruntime-common');
    const server = await runEntrypoint(dir, 'serve.mjs', { TRESTLE_PORT: '0', TRESTLE_HOST: '127.0.0.1' });
    try {
      const url = server.banner['url'] as string;
      const res = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify(TEST_ROWS) });
      expect(res.status).toBe(200);
      const got = ((await res.json()) as { predictions: { probability: number }[] }).predictions;
      const model = await loadModel(onnxOnly);
      const want = Array.from((await model.predictRows(TEST_ROWS)).outputs['probability'] as Float64Array);
      await model.close();
      got.forEach((p, i) => expect(p.probability).toBeCloseTo(want[i]!, 5));
    } finally {
      await server.stop();
      await rm(dirname(dir), { recursive: true, force: true });
    }
  }, 120_000);
});

describe('trestle build: bad input leaves nothing half-written', () => {
  const siblings = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.includes('.tmp-'));

  it('refuses a non-empty --out without --force and leaves it as it was', async () => {
    const out = join(work, 'full');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    const err = await buildModelContext({ uri: pkg, out }).catch((e: unknown) => e);
    expect(isTrestleError(err, 'ALREADY_EXISTS')).toBe(true);
    expect((err as Error).message).toBe(
      `${out} exists and is not empty: choose an empty folder or pass --force to replace it`,
    );
    expect(await readdir(out)).toEqual(['keep.txt']);
    expect(await siblings(work)).toEqual([]);
    await buildModelContext({ uri: pkg, out, force: true });
    expect(await readdir(out)).toContain('Dockerfile');
    expect(await readdir(out)).not.toContain('keep.txt');
    expect(await siblings(work)).toEqual([]);
  });

  it('an unresolvable model URI writes nothing', async () => {
    const out = join(work, 'missing');
    const err = await buildModelContext({ uri: join(work, 'no-such-model'), out }).catch((e: unknown) => e);
    expect(isTrestleError(err, 'NOT_FOUND')).toBe(true);
    expect((err as Error).message).toMatch(/no model at .*no-such-model/);
    expect(await readdir(work)).not.toContain('missing');
    expect(await siblings(work)).toEqual([]);
  });
});
