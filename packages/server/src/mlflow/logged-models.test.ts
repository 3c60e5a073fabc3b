/**
 * MLflow 3 logged models over a real port. The first test replays, request by request, what an
 * MLflow 3.x client sends for `mlflow.sklearn.autolog()` followed by `log_model` and
 * `register_model` (the request sequence of `mlflow/tracking/_tracking_service/client.py`,
 * `mlflow/store/tracking/rest_store.py` and the proxied artifact repository), then checks that
 * everything landed: params, every metric on the run and on the logged model, the model's files
 * under its own artifact root, its status, the run's model outputs and the registered version.
 */
import type { AddressInfo } from 'node:net';
import { loggedModelArtifactKey } from '@trestle/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOf, startMlflowTestApp, type MlflowTestApp, mlflowHttp, type JsonReply } from './test-support.js';

let t: MlflowTestApp;
let base: string;

const call = (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  fields: Record<string, unknown> = {},
): ReturnType<typeof mlflowHttp> => mlflowHttp(base, method, path, fields);

async function ok(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  fields?: Record<string, unknown>,
): Promise<JsonReply['json']> {
  const res = await call(method, path, fields);
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
  return res.json;
}

async function upload(artifactUri: string, path: string, body: string): Promise<void> {
  const key = artifactUri.replace(/^mlflow-artifacts:\//, '');
  const res = await fetch(`${base}/api/2.0/mlflow-artifacts/artifacts/${key}/${path}`, { method: 'PUT', body });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  t = await startMlflowTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t.close();
});

describe('MLflow 3 logged models', () => {
  it('stores everything an autolog + log_model + register_model session sends', async () => {
    const experimentId = (await ok('POST', '/experiments/create', { name: 'autolog' })).experiment_id as string;
    const run = (await ok('POST', '/runs/create', { experiment_id: experimentId, start_time: 1_750_000_000_000 })).run;
    const runId = run.info.run_id as string;
    // autolog: the estimator's params, then the logged model is created before the metrics.
    await ok('POST', '/runs/log-batch', {
      run_id: runId,
      params: [
        { key: 'C', value: '1.0' },
        { key: 'max_iter', value: '100' },
      ],
      tags: [{ key: 'estimator_name', value: 'LogisticRegression' }],
    });
    const created = await ok('POST', '/logged-models', {
      experiment_id: experimentId,
      name: 'model',
      source_run_id: runId,
      model_type: 'sklearn',
      params: [{ key: 'C', value: '1.0' }],
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    });
    const info = created.model.info;
    const modelId = info.model_id as string;
    expect(modelId).toMatch(/^m-[0-9a-f]{32}$/);
    expect(info).toMatchObject({
      experiment_id: experimentId,
      name: 'model',
      artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
      status: 'LOGGED_MODEL_PENDING',
      source_run_id: runId,
      model_type: 'sklearn',
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    });
    expect(created.model.data.params).toEqual([{ key: 'C', value: '1.0' }]);

    // log_model uploads the model's files to its own artifact root.
    const files: Record<string, string> = {
      MLmodel: 'artifact_path: model\nflavors:\n  sklearn: {}\n',
      'model.pkl': 'pickled-bytes',
      'requirements.txt': 'scikit-learn==1.5.0\n',
    };
    for (const [path, body] of Object.entries(files)) await upload(info.artifact_uri as string, path, body);
    await ok('PATCH', `/logged-models/${modelId}/tags`, { tags: [{ key: 'mlflow.user', value: 'alice' }] });
    await ok('POST', `/logged-models/${modelId}/params`, { params: [{ key: 'max_iter', value: '100' }] });

    // Training metrics carry the model's id and the dataset they were computed on.
    await ok('POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        'training_accuracy_score',
        'training_f1_score',
        'training_log_loss',
        'training_precision_score',
        'training_recall_score',
        'training_roc_auc',
        'training_score',
      ].map((key, i) => ({
        key,
        value: 0.9 - i / 100,
        timestamp: 1_750_000_000_100,
        step: 0,
        model_id: modelId,
        dataset_name: 'dataset',
        dataset_digest: 'b2c4f1a7',
      })),
    });
    await ok('POST', '/runs/log-metric', {
      run_id: runId,
      key: 'val_score',
      value: 'NaN',
      timestamp: 1_750_000_000_200,
      model_id: modelId,
    });
    await ok('POST', '/runs/log-inputs', {
      run_id: runId,
      datasets: [
        {
          dataset: { name: 'dataset', digest: 'b2c4f1a7', source_type: 'code', source: '{}' },
          tags: [{ key: 'mlflow.data.context', value: 'train' }],
        },
      ],
      models: [{ model_id: modelId }],
    });
    await ok('POST', '/runs/outputs', { run_id: runId, models: [{ model_id: modelId, step: 0 }] });
    const finalized = await ok('PATCH', `/logged-models/${modelId}`, {
      model_id: modelId,
      status: 'LOGGED_MODEL_READY',
    });
    expect(finalized.model.info.status).toBe('LOGGED_MODEL_READY');
    await ok('POST', '/runs/update', { run_id: runId, status: 'FINISHED', end_time: 1_750_000_001_000 });

    // register_model('models:/m-…', 'iris'): create the model (or find it), then the version.
    await ok('POST', '/registered-models/create', { name: 'iris' });
    const version = await ok('POST', '/model-versions/create', {
      name: 'iris',
      source: `models:/${modelId}`,
      run_id: runId,
      model_id: modelId,
    });
    expect(version.model_version).toMatchObject({ name: 'iris', version: '1', model_id: modelId, status: 'READY' });
    expect(await ok('GET', '/model-versions/get-download-uri', { name: 'iris', version: '1' })).toEqual({
      artifact_uri: `mlflow-artifacts:/${experimentId}/models/${modelId}/artifacts`,
    });

    // Everything is stored: the run …
    const stored = await t.metadata.getRun(runId);
    expect(stored.info.status).toBe('FINISHED');
    expect(stored.data.params).toEqual([
      { key: 'C', value: '1.0' },
      { key: 'max_iter', value: '100' },
    ]);
    expect(stored.data.metrics.map((m) => m.key).sort()).toEqual([
      'training_accuracy_score',
      'training_f1_score',
      'training_log_loss',
      'training_precision_score',
      'training_recall_score',
      'training_roc_auc',
      'training_score',
      'val_score',
    ]);
    const got = (await ok('GET', '/runs/get', { run_id: runId })).run;
    expect(got.outputs).toEqual({ model_outputs: [{ model_id: modelId, step: 0 }] });
    expect(got.inputs.model_inputs).toEqual([{ model_id: modelId }]);
    // … the logged model, with every metric attached …
    const model = (await ok('GET', `/logged-models/${modelId}`)).model;
    expect(model.info).toMatchObject({
      status: 'LOGGED_MODEL_READY',
      registrations: [{ name: 'iris', version: '1' }],
      tags: [
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'mlflow.user', value: 'alice' },
      ],
    });
    expect(model.data.params).toEqual([
      { key: 'C', value: '1.0' },
      { key: 'max_iter', value: '100' },
    ]);
    const metrics = listOf<{ key: string; value: unknown; model_id: string; run_id: string; dataset_digest?: string }>(
      model.data.metrics,
    );
    expect(metrics).toHaveLength(8);
    expect(metrics.find((m) => m.key === 'training_score')).toMatchObject({
      value: 0.9 - 6 / 100,
      model_id: modelId,
      run_id: runId,
      dataset_name: 'dataset',
      dataset_digest: 'b2c4f1a7',
    });
    expect(metrics.find((m) => m.key === 'val_score')?.value).toBe('NaN');
    // … and its files, under its own root, listed and downloadable.
    const listed = await ok('GET', `/logged-models/${modelId}/artifacts/directories`);
    expect(listed.root_uri).toBe(info.artifact_uri);
    expect(
      listOf<{ path: string }>(listed.files)
        .map((f) => f.path)
        .sort(),
    ).toEqual(Object.keys(files).sort());
    for (const [path, body] of Object.entries(files)) {
      const stream = await t.artifacts.get(loggedModelArtifactKey({ experimentId, modelId }, path));
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe(body);
    }
    const download = await fetch(
      `${base}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/models/${modelId}/artifacts/MLmodel`,
    );
    expect(await download.text()).toBe(files['MLmodel']);
    // The registry sees the version as Trestle's own.
    expect((await t.metadata.registry.getModelVersion('iris', 1)).modelId).toBe(modelId);
  });

  it('searches logged models by name, tags, params and metrics, orders and pages, {} when nothing matches', async () => {
    const experimentId = (await ok('POST', '/experiments/create', { name: 'search-lm' })).experiment_id as string;
    const ids: string[] = [];
    for (const [i, name] of ['alpha', 'beta', 'gamma'].entries()) {
      const m = await ok('POST', '/logged-models', {
        experiment_id: experimentId,
        name,
        params: [{ key: 'depth', value: String(i + 3) }],
        tags: [{ key: 'team', value: i === 2 ? 'ops' : 'risk' }],
      });
      ids.push(m.model.info.model_id as string);
    }
    const runId = (await ok('POST', '/runs/create', { experiment_id: experimentId })).run.info.run_id as string;
    await ok('POST', '/runs/log-batch', {
      run_id: runId,
      metrics: ids.map((id, i) => ({ key: 'acc', value: [0.7, 0.9, 0.8][i], timestamp: 1, step: 0, model_id: id })),
    });
    const names = async (body: Record<string, unknown>): Promise<string[]> =>
      listOf<{ info: { name: string } }>(
        (await ok('POST', '/logged-models/search', { experiment_ids: [experimentId], ...body })).models,
      ).map((m) => m.info.name);
    expect(await names({ filter: "name = 'beta'" })).toEqual(['beta']);
    expect(await names({ filter: "tags.team = 'risk' AND params.depth = '3'" })).toEqual(['alpha']);
    expect(
      await names({ filter: 'metrics.acc > 0.75', order_by: [{ field_name: 'metrics.acc', ascending: false }] }),
    ).toEqual(['beta', 'gamma']);
    expect(await names({ order_by: [{ field_name: 'name', ascending: true }] })).toEqual(['alpha', 'beta', 'gamma']);
    const first = await ok('POST', '/logged-models/search', {
      experiment_ids: [experimentId],
      max_results: 2,
      order_by: [{ field_name: 'name', ascending: true }],
    });
    expect(listOf(first.models)).toHaveLength(2);
    const second = await ok('POST', '/logged-models/search', {
      experiment_ids: [experimentId],
      max_results: 2,
      order_by: [{ field_name: 'name', ascending: true }],
      page_token: first.next_page_token,
    });
    expect(listOf<{ info: { name: string } }>(second.models).map((m) => m.info.name)).toEqual(['gamma']);
    expect(
      await ok('POST', '/logged-models/search', { experiment_ids: [experimentId], filter: "name = 'none'" }),
    ).toEqual({});
    // register_model('runs:/<run>/model') finds the logged model by name and source run.
    await ok('POST', '/logged-models', { experiment_id: experimentId, name: 'model', source_run_id: runId });
    expect(await names({ filter: `name = 'model' AND source_run_id = '${runId}'` })).toEqual(['model']);
    const bad = await call('POST', '/logged-models/search', { experiment_ids: [experimentId], filter: 'bogus.x = 1' });
    expect(bad).toMatchObject({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE' } });
  });

  it('deletes tags and models, refuses bad input with MLflow errors', async () => {
    const experimentId = (await ok('POST', '/experiments/create', { name: 'lm-errors' })).experiment_id as string;
    const modelId = (
      await ok('POST', '/logged-models', { experiment_id: experimentId, tags: [{ key: 'a', value: '1' }] })
    ).model.info.model_id as string;
    expect((await ok('GET', `/logged-models/${modelId}`)).model.info.name).toMatch(/\w+-\w+-\d{3}/);
    await ok('DELETE', `/logged-models/${modelId}/tags/a`);
    expect((await ok('GET', `/logged-models/${modelId}`)).model.info.tags).toBeUndefined();
    expect((await call('DELETE', `/logged-models/${modelId}/tags/a`)).status).toBe(404);
    const conflict = await call('POST', `/logged-models/${modelId}/params`, { params: [{ key: 'p', value: '1' }] });
    expect(conflict.status).toBe(200);
    expect(
      (await call('POST', `/logged-models/${modelId}/params`, { params: [{ key: 'p', value: '2' }] })).status,
    ).toBe(400);
    const failed = await ok('PATCH', `/logged-models/${modelId}`, { status: 'LOGGED_MODEL_UPLOAD_FAILED' });
    expect(failed.model.info.status).toBe('LOGGED_MODEL_UPLOAD_FAILED');
    expect((await call('PATCH', `/logged-models/${modelId}`, {})).json.error_code).toBe('INVALID_PARAMETER_VALUE');
    await ok('DELETE', `/logged-models/${modelId}`);
    const gone = await call('GET', `/logged-models/${modelId}`);
    expect(gone).toMatchObject({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    expect((await call('GET', '/logged-models/m-nothere')).status).toBe(404);
    expect((await call('POST', '/logged-models', {})).json.message).toContain("'experiment_id'");
    expect((await call('POST', '/logged-models', { experiment_id: '999999' })).status).toBe(404);
    const unknownModel = await call('POST', '/model-versions/create', {
      name: 'x',
      source: 'models:/m-00000000000000000000000000000000',
    });
    expect(unknownModel).toMatchObject({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
  });
});
