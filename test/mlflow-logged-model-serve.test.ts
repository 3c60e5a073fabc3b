/**
 * A model logged by an MLflow 3.x client (onnx flavor, through the logged-models routes and the
 * proxied artifact upload) and registered from `models:/m-<id>` is a model package for Trestle:
 * `loadModel('models:/name/1')` and `trestle serve`'s `serveModel` load and predict with it, from
 * the embedded store and over HTTP (a client connected to `trestle server`).
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type TrestleConfig } from '@trestle/core';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { Trestle } from '@trestle/client';
import { loadModel, trainModel, writeModelPackage } from '@trestle/models';
import { serveModel } from '@trestle/serving';
import { readTable } from '@trestle/tables';
import { syntheticCsv } from '../packages/models/src/testing-data.js';
import { mlflowHttp } from '../packages/server/src/mlflow/test-support.js';

let home: string;
let config: TrestleConfig;
let stores: Stores;
let server: RunningServer;
let trestle: Trestle;
let packageDir: string;
let modelId: string;
const rows = [
  { distance: 1500, hour: 18, origin: 'ORD' },
  { distance: 300, hour: 6, origin: 'SEA' },
];

async function ok(method: 'GET' | 'POST' | 'PATCH', path: string, fields: Record<string, unknown> = {}) {
  const res = await mlflowHttp(server.url, method, path, fields);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.json)}`).toBe(200);
  return res.json as Record<string, unknown>;
}

/** Serves `models:/onnx-delays/1` as `trestle serve` does and checks /invocations labels the rows as the package does. */
async function expectServedLikePackage(serveConfig: TrestleConfig): Promise<void> {
  const served = await serveModel({ uri: 'models:/onnx-delays/1', config: serveConfig, port: 0, controlPlane: false });
  try {
    const res = await fetch(`${served.running.url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dataframe_records: rows }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { predictions: { label: string }[] };
    const expected = await (await loadModel(packageDir)).predictRows(rows);
    expect(body.predictions.map((p) => p.label)).toEqual(expected.outputs.label);
  } finally {
    await served.close();
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'trestle-mlflow-logged-serve-'));
  config = loadConfig({ home: join(home, 'store') }, {});
  stores = await openStores(config);
  server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false });
  trestle = new Trestle(stores.metadata, stores.artifacts, config);

  // The ONNX graph and MLmodel an MLflow client would log with mlflow.onnx.log_model.
  const csv = join(home, 'train.csv');
  await writeFile(csv, syntheticCsv(1500));
  const trained = trainModel(await readTable(csv), undefined, { trainer: 'logistic', target: 'delayed' });
  packageDir = join(home, 'package');
  await writeModelPackage(packageDir, trained.contents);

  // What an MLflow 3.x client sends: a run, the logged model, its files, finalize, register.
  const { experiment_id: experimentId } = await ok('POST', '/experiments/create', { name: 'mlflow3-onnx' });
  const run = await ok('POST', '/runs/create', { experiment_id: experimentId, start_time: Date.now() });
  const runId = (run.run as { info: { run_id: string } }).info.run_id;
  const created = await ok('POST', '/logged-models', {
    experiment_id: experimentId,
    name: 'model',
    model_type: 'onnx',
    source_run_id: runId,
  });
  const info = (created.model as { info: { model_id: string; artifact_uri: string } }).info;
  modelId = info.model_id;
  const base = info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
  // A file in a sub-folder too, as MLflow models have (over HTTP it is found by listing each level).
  await mkdir(join(packageDir, 'extra'));
  await writeFile(join(packageDir, 'extra', 'notes.txt'), 'logged by a 3.x client');
  for (const file of ['MLmodel', 'model.onnx', 'extra/notes.txt']) {
    const res = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${base}/${file}`, {
      method: 'PUT',
      body: await readFile(join(packageDir, file)),
    });
    expect(res.status).toBe(200);
  }
  await ok('PATCH', `/logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
  await ok('POST', '/registered-models/create', { name: 'onnx-delays' });
  await ok('POST', '/model-versions/create', {
    name: 'onnx-delays',
    source: `models:/${modelId}`,
    run_id: runId,
    model_id: modelId,
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await stores?.metadata.close();
  await stores?.artifacts.close();
  await rm(home, { recursive: true, force: true });
});

describe('an MLflow 3.x logged ONNX model, registered from models:/m-<id>', () => {
  it('loads with loadModel from the version and from models:/m-<id>, predicting like the package', async () => {
    const expected = await (await loadModel(packageDir)).predictRows(rows);
    for (const uri of ['models:/onnx-delays/1', `models:/${modelId}`]) {
      const model = await loadModel(uri, { source: trestle });
      expect(model.flavor).toBe('onnx');
      // An MLflow onnx-flavor model passes the graph's outputs through: the labels are the package's.
      const { outputs } = await model.predictRows(rows);
      expect(outputs.label).toEqual(expected.outputs.label);
      expect(new Set(expected.outputs.label as string[]).size).toBe(2);
      await model.close();
    }
  });

  it('is served by serveModel (what trestle serve runs) on MLflow /invocations', async () => {
    await expectServedLikePackage(config);
  });

  it('says what is missing for a logged model without files', async () => {
    const experimentId = (await ok('POST', '/experiments/create', { name: 'empty-model' })).experiment_id;
    const created = await ok('POST', '/logged-models', { experiment_id: experimentId, name: 'pending' });
    const id = (created.model as { info: { model_id: string } }).info.model_id;
    await expect(loadModel(`models:/${id}`, { source: trestle })).rejects.toThrow(
      `the logged model ${id} has no files yet (its status is PENDING)`,
    );
  });
});

describe('the same model over HTTP (a client connected to trestle server)', () => {
  const remoteConfig = (): TrestleConfig => loadConfig({ trackingUri: server.url, home: join(home, 'client') }, {});

  it('loads from the version and from models:/m-<id> through the MLflow artifact proxy, every file downloaded', async () => {
    const expected = await (await loadModel(packageDir)).predictRows(rows);
    const remote = await Trestle.connect({ config: remoteConfig() });
    try {
      expect(remote.config.trackingUri).toBe(server.url);
      for (const uri of ['models:/onnx-delays/1', `models:/${modelId}`]) {
        const downloadDir = join(home, 'downloads', uri.replace(/[:/]+/g, '_'));
        const model = await loadModel(uri, { source: remote, downloadDir });
        expect(model.flavor).toBe('onnx');
        expect((await readdir(downloadDir)).sort()).toEqual(['MLmodel', 'extra', 'model.onnx']);
        expect(await readFile(join(downloadDir, 'extra', 'notes.txt'), 'utf8')).toBe('logged by a 3.x client');
        expect(await readFile(join(downloadDir, 'model.onnx'))).toEqual(await readFile(join(packageDir, 'model.onnx')));
        const { outputs } = await model.predictRows(rows);
        expect(outputs.label).toEqual(expected.outputs.label);
        await model.close();
      }
      await expect(loadModel('models:/m-0123456789abcdef0123456789abcdef', { source: remote })).rejects.toThrow(
        `the Trestle server at ${server.url} has no logged model m-0123456789abcdef0123456789abcdef`,
      );
    } finally {
      await remote.close();
    }
  });

  it('is served by serveModel with a tracking URI (trestle serve --tracking-uri)', async () => {
    await expectServedLikePackage(remoteConfig());
  });
});
