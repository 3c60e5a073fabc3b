import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openArtifactStore, openStores } from '@trestle/store';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverProcess } from '@trestle/store/testing';
import { loadConfig } from '@trestle/core';
import { buildServer } from '../app.js';
import { mlflowPlugin } from './index.js';
import { startMlflowTestApp, type MlflowTestApp } from './test-support.js';

let t: MlflowTestApp;
let outside: string;
beforeAll(async () => {
  t = await startMlflowTestApp();
  outside = await mkdtemp(join(tmpdir(), 'trestle-exp-location-'));
});
afterAll(async () => {
  await t.close();
  await rm(outside, { recursive: true, force: true });
});

async function experimentAt(location: string): Promise<{ experimentId: string; runId: string; artifactUri: string }> {
  const created = await t.post('/experiments/create', { name: `at-${Math.random()}`, artifact_location: location });
  expect(created.status, JSON.stringify(created.json)).toBe(200);
  const experimentId = created.json.experiment_id as string;
  const exp = await t.get('/experiments/get', { experiment_id: experimentId });
  expect(exp.json.experiment.artifact_location).toBe(location);
  const run = await t.post('/runs/create', { experiment_id: experimentId });
  const runId = run.json.run.info.run_id as string;
  return { experimentId, runId, artifactUri: run.json.run.info.artifact_uri as string };
}

async function listed(runId: string, path = ''): Promise<{ root_uri: string; files?: { path: string }[] }> {
  const res = await t.get('/artifacts/list', { run_id: runId, ...(path ? { path } : {}) });
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return res.json as { root_uri: string; files?: { path: string }[] };
}

async function getArtifact(runId: string, path: string): Promise<{ status: number; body: string; type: unknown }> {
  const res = await t.app.inject({
    method: 'GET',
    url: `/get-artifact?run_id=${runId}&path=${encodeURIComponent(path)}`,
  });
  return { status: res.statusCode, body: res.body, type: res.headers['content-type'] };
}

describe('experiments/create with artifact_location', () => {
  it('keeps a local path: runs live under <path>/<run_id>/artifacts, read from there by list and get-artifact', async () => {
    const location = join(outside, 'team-a');
    const { runId, artifactUri } = await experimentAt(location);
    expect(artifactUri).toBe(`${location}/${runId}/artifacts`);
    const run = await t.get('/runs/get', { run_id: runId });
    expect(run.json.run.info.artifact_uri).toBe(artifactUri);

    // What MLflow's local artifact repository does on the client: it writes the files itself.
    await mkdir(join(artifactUri, 'plots'), { recursive: true });
    await writeFile(join(artifactUri, 'notes.txt'), 'hello');
    await writeFile(join(artifactUri, 'plots', 'loss.png'), 'png-bytes');

    const root = await listed(runId);
    expect(root.root_uri).toBe(artifactUri);
    expect(root.files).toEqual([
      { path: 'notes.txt', is_dir: false, file_size: 5 },
      { path: 'plots', is_dir: true },
    ]);
    expect((await listed(runId, 'plots')).files).toEqual([{ path: 'plots/loss.png', is_dir: false, file_size: 9 }]);
    expect(await getArtifact(runId, 'notes.txt')).toMatchObject({ status: 200, body: 'hello', type: 'text/plain' });
    expect(await getArtifact(runId, 'plots/loss.png')).toMatchObject({
      status: 200,
      body: 'png-bytes',
      type: 'image/png',
    });
    // Nothing went to the server's own store.
    expect((await t.artifactFiles()).filter((f) => f.includes(runId))).toEqual([]);

    // A proxied upload URL cannot reach that folder: said plainly, in MLflow's shape.
    const presigned = await t.post('/artifacts/presigned-upload-url', { run_id: runId, path: 'x.txt' });
    expect(presigned.status).toBe(400);
    expect(presigned.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(presigned.json.message).toContain(artifactUri);
  });

  it('keeps a file:// URI the same way', async () => {
    const location = pathToFileURL(join(outside, 'by-url')).href;
    const { runId, artifactUri } = await experimentAt(location);
    expect(artifactUri).toBe(`${location}/${runId}/artifacts`);
    await mkdir(join(outside, 'by-url', runId, 'artifacts'), { recursive: true });
    await writeFile(join(outside, 'by-url', runId, 'artifacts', 'report.pdf'), '%PDF');
    expect((await listed(runId)).files).toEqual([{ path: 'report.pdf', is_dir: false, file_size: 4 }]);
    expect(await getArtifact(runId, 'report.pdf')).toMatchObject({
      status: 200,
      body: '%PDF',
      type: 'application/pdf',
    });
  });

  it('keeps mlflow-artifacts:/<path>: uploads through the proxy land at that key and are served back', async () => {
    const { runId, artifactUri } = await experimentAt('mlflow-artifacts:/team-b/exp');
    expect(artifactUri).toBe(`mlflow-artifacts:/team-b/exp/${runId}/artifacts`);
    const key = `team-b/exp/${runId}/artifacts/model/MLmodel`;
    const put = await t.app.inject({
      method: 'PUT',
      url: `/api/2.0/mlflow-artifacts/artifacts/${key}`,
      payload: 'flavors: {}',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.statusCode).toBe(200);
    expect(await t.artifactFiles()).toContain(key);
    expect(await listed(runId, 'model')).toEqual({
      root_uri: artifactUri,
      files: [{ path: 'model/MLmodel', is_dir: false, file_size: 11 }],
    });
    expect(await getArtifact(runId, 'model/MLmodel')).toMatchObject({ status: 200, body: 'flavors: {}' });
    const proxied = await t.app.inject({ method: 'GET', url: `/api/2.0/mlflow-artifacts/artifacts/${key}` });
    expect(proxied.body).toBe('flavors: {}');
    const presigned = await t.post('/artifacts/presigned-upload-url', { run_id: runId, path: 'a.txt' });
    expect(presigned.json.presigned_url).toMatch(
      new RegExp(`/api/2\\.0/mlflow-artifacts/artifacts/team-b/exp/${runId}/artifacts/a\\.txt$`),
    );
  });

  it("reports a path inside the server's own artifact root in proxied form", async () => {
    const inside = join(t.home, 'artifacts', 'shared');
    const created = await t.post('/experiments/create', { name: 'inside', artifact_location: inside });
    const exp = await t.get('/experiments/get', { experiment_id: created.json.experiment_id });
    expect(exp.json.experiment.artifact_location).toBe('mlflow-artifacts:/shared');
  });

  it.each([
    ['s3://bucket/exp', 'this server has no S3 configured, so it cannot serve an s3:// location'],
    ['gs://bucket/exp', "the scheme 'gs:' is not served by this server"],
    ['hdfs://namenode/exp', "the scheme 'hdfs:' is not served by this server"],
    ['relative/dir', 'a relative path is not allowed'],
    ['/tmp/a/../b', "'..' is not allowed"],
    ['file:///tmp/x?token=1', "'artifact_location' URL can't include fragments or params"],
    ['mlflow-artifacts:/a/%2e%2e/b', 'Invalid path'],
  ])('refuses %s with 400 INVALID_PARAMETER_VALUE and creates nothing', async (location, message) => {
    const res = await t.post('/experiments/create', { name: 'refused', artifact_location: location });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.json.message).toContain(`Invalid artifact_location '${location}'`);
    expect(res.json.message).toContain(message);
    expect((await t.get('/experiments/get-by-name', { experiment_name: 'refused' })).status).toBe(404);
  });
});

describe('an s3:// artifact_location on a server with S3 configured', () => {
  it('is accepted by buildServer given an S3 endpoint in its config, refused without one', async () => {
    const home = await mkdtemp(join(tmpdir(), 'trestle-mlflow-s3cfg-'));
    const stores = await openStores(loadConfig({ home }, {}));
    try {
      for (const [s3Endpoint, status] of [
        ['http://127.0.0.1:9', 200],
        [undefined, 400],
      ] as const) {
        const config = loadConfig({ home, ...(s3Endpoint === undefined ? {} : { s3Endpoint }) }, {});
        const app = await buildServer({ stores, config });
        const res = await app.inject({
          method: 'POST',
          url: '/api/2.0/mlflow/experiments/create',
          payload: { name: `cfg-${status}`, artifact_location: 's3://team-bucket/cfg' },
        });
        await app.close();
        expect(res.statusCode, res.body).toBe(status);
      }
    } finally {
      await stores.metadata.close();
      await stores.artifacts.close();
      await rm(home, { recursive: true, force: true });
    }
  });

  let s3: S3rverProcess;
  beforeAll(async () => {
    s3 = await startS3rver();
    // s3rver takes an unsigned CreateBucket.
    expect((await fetch(`${s3.endpoint}/team-bucket`, { method: 'PUT' })).status).toBe(200);
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it('reads the run files from that bucket (an MLflow client uploads there itself)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'trestle-mlflow-s3loc-'));
    const { metadata, artifacts } = await openStores(loadConfig({ home }, {}));
    const app = Fastify();
    const s3Options = { s3Endpoint: s3.endpoint, s3Credentials: S3RVER_CREDENTIALS };
    await app.register(mlflowPlugin, { metadata, artifacts, s3: s3Options });
    try {
      const created = await app.inject({
        method: 'POST',
        url: '/api/2.0/mlflow/experiments/create',
        payload: { name: 'on-s3', artifact_location: 's3://team-bucket/exp' },
      });
      expect(created.statusCode, created.body).toBe(200);
      const run = await app.inject({
        method: 'POST',
        url: '/api/2.0/mlflow/runs/create',
        payload: { experiment_id: created.json<{ experiment_id: string }>().experiment_id },
      });
      const info = run.json<{ run: { info: { run_id: string; artifact_uri: string } } }>().run.info;
      expect(info.artifact_uri).toBe(`s3://team-bucket/exp/${info.run_id}/artifacts`);
      const bucket = await openArtifactStore('s3://team-bucket/exp', s3Options);
      await bucket.put(`${info.run_id}/artifacts/metrics.json`, Buffer.from('{"auc":0.9}'));
      await bucket.close();

      const list = await app.inject({ method: 'GET', url: `/api/2.0/mlflow/artifacts/list?run_id=${info.run_id}` });
      expect(list.json()).toEqual({
        root_uri: info.artifact_uri,
        files: [{ path: 'metrics.json', is_dir: false, file_size: 11 }],
      });
      const file = await app.inject({ method: 'GET', url: `/get-artifact?run_id=${info.run_id}&path=metrics.json` });
      expect(file.statusCode).toBe(200);
      expect(file.body).toBe('{"auc":0.9}');
      // MLflow serves .json as text/plain, like its other text extensions.
      expect(file.headers['content-type']).toBe('text/plain');
    } finally {
      await app.close();
      await metadata.close();
      await artifacts.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
