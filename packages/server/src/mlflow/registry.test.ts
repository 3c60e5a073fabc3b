/**
 * MLflow's registry RPCs over a real port, sent the way MLflow's Python client sends them
 * (`mlflow/store/model_registry/rest_store.py`: GET fields in the query string, POST/PATCH/DELETE
 * fields as a JSON body), checked against MLflow's shapes and error codes. (The npm `mlflow`
 * client has no registry calls.)
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOf, startMlflowTestApp, type MlflowTestApp, mlflowHttp } from './test-support.js';

let t: MlflowTestApp;
let base: string;
let runId: string;
let experimentId: string;

const call = (
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  fields: Record<string, unknown> = {},
): ReturnType<typeof mlflowHttp> => mlflowHttp(base, method, path, fields);

beforeAll(async () => {
  t = await startMlflowTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  experimentId = (await call('POST', '/experiments/create', { name: 'registry' })).json.experiment_id as string;
  runId = (await call('POST', '/runs/create', { experiment_id: experimentId })).json.run.info.run_id as string;
});
afterAll(async () => {
  await t.close();
});

describe('MLflow registry endpoints', () => {
  it('creates, gets, renames, updates and deletes registered models with MLflow shapes and errors', async () => {
    const created = await call('POST', '/registered-models/create', {
      name: 'fraud',
      description: 'card fraud',
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect(created.status).toBe(200);
    expect(created.json.registered_model).toEqual({
      name: 'fraud',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      description: 'card fraud',
      tags: [{ key: 'team', value: 'risk' }],
    });
    // register_model() relies on this code to go on and create a version.
    const dup = await call('POST', '/registered-models/create', { name: 'fraud' });
    expect(dup).toMatchObject({
      status: 400,
      json: { error_code: 'RESOURCE_ALREADY_EXISTS', message: 'Registered Model (name=fraud) already exists.' },
    });
    const missing = await call('GET', '/registered-models/get', { name: 'nope' });
    expect(missing).toMatchObject({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Registered Model with name=nope not found' },
    });
    expect((await call('POST', '/registered-models/create', {})).json).toMatchObject({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining("Missing value for required parameter 'name'"),
    });

    const renamed = await call('POST', '/registered-models/rename', { name: 'fraud', new_name: 'fraud-2' });
    expect(renamed.json.registered_model.name).toBe('fraud-2');
    const updated = await call('PATCH', '/registered-models/update', { name: 'fraud-2', description: 'new' });
    expect(updated.json.registered_model.description).toBe('new');
    expect((await call('POST', '/registered-models/set-tag', { name: 'fraud-2', key: 'k', value: 'v' })).status).toBe(
      200,
    );
    expect((await call('DELETE', '/registered-models/delete-tag', { name: 'fraud-2', key: 'team' })).status).toBe(200);
    expect((await call('GET', '/registered-models/get', { name: 'fraud-2' })).json.registered_model.tags).toEqual([
      { key: 'k', value: 'v' },
    ]);
    expect((await call('DELETE', '/registered-models/delete', { name: 'fraud-2' })).status).toBe(200);
    expect((await call('GET', '/registered-models/get', { name: 'fraud-2' })).status).toBe(404);
  });

  it('creates versions, aliases them, tags them and gives their download URI', async () => {
    await call('POST', '/registered-models/create', { name: 'churn' });
    const v1 = await call('POST', '/model-versions/create', {
      name: 'churn',
      source: `runs:/${runId}/model`,
      run_id: runId,
      description: 'first',
      tags: [{ key: 'gate', value: 'passed' }],
    });
    expect(v1.status).toBe(200);
    expect(v1.json.model_version).toEqual({
      name: 'churn',
      version: '1',
      creation_timestamp: expect.any(Number),
      last_updated_timestamp: expect.any(Number),
      current_stage: 'None',
      description: 'first',
      source: `runs:/${runId}/model`,
      run_id: runId,
      status: 'READY',
      tags: [{ key: 'gate', value: 'passed' }],
    });
    await call('POST', '/model-versions/create', { name: 'churn', source: 's3://bucket/model' });

    expect(
      (await call('POST', '/registered-models/alias', { name: 'churn', alias: 'champion', version: '1' })).json,
    ).toEqual({});
    const byAlias = await call('GET', '/registered-models/alias', { name: 'churn', alias: 'champion' });
    expect(byAlias.json.model_version).toMatchObject({ version: '1', aliases: ['champion'] });
    const model = await call('GET', '/registered-models/get', { name: 'churn' });
    expect(model.json.registered_model.aliases).toEqual([{ alias: 'champion', version: '1' }]);
    expect(listOf<{ version: string }>(model.json.registered_model.latest_versions).map((v) => v.version)).toEqual([
      '2',
    ]);
    const noAlias = await call('GET', '/registered-models/alias', { name: 'churn', alias: 'nope' });
    expect(noAlias).toMatchObject({ status: 404, json: { error_code: 'RESOURCE_DOES_NOT_EXIST' } });
    const badAlias = await call('POST', '/registered-models/alias', { name: 'churn', alias: 'latest', version: '1' });
    expect(badAlias).toMatchObject({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE' } });
    expect((await call('DELETE', '/registered-models/alias', { name: 'churn', alias: 'champion' })).status).toBe(200);
    expect((await call('GET', '/registered-models/alias', { name: 'churn', alias: 'champion' })).status).toBe(404);

    const uri = await call('GET', '/model-versions/get-download-uri', { name: 'churn', version: '1' });
    expect(uri.json).toEqual({ artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts/model` });
    expect((await call('GET', '/model-versions/get-download-uri', { name: 'churn', version: '2' })).json).toEqual({
      artifact_uri: 's3://bucket/model',
    });
    const missing = await call('GET', '/model-versions/get', { name: 'churn', version: '9' });
    expect(missing).toMatchObject({
      status: 404,
      json: { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Model Version (name=churn, version=9) not found' },
    });

    await call('POST', '/model-versions/set-tag', { name: 'churn', version: '2', key: 'k', value: 'v' });
    const updated = await call('PATCH', '/model-versions/update', { name: 'churn', version: '2', description: 'd' });
    expect(updated.json.model_version).toMatchObject({ description: 'd', tags: [{ key: 'k', value: 'v' }] });
    await call('DELETE', '/model-versions/delete-tag', { name: 'churn', version: '2', key: 'k' });
    expect((await call('GET', '/model-versions/get', { name: 'churn', version: '2' })).json.model_version.tags).toBe(
      undefined,
    );
    expect((await call('DELETE', '/model-versions/delete', { name: 'churn', version: '2' })).status).toBe(200);
    expect((await call('GET', '/model-versions/get', { name: 'churn', version: '2' })).status).toBe(404);
  });

  it("searches with MLflow's filters and keeps models without the prompt tag", async () => {
    for (const name of ['s-a', 's-b', 's-c']) await call('POST', '/registered-models/create', { name });
    await call('POST', '/registered-models/set-tag', { name: 's-c', key: 'mlflow.prompt.is_prompt', value: 'true' });
    // What MLflow 3's search_registered_models sends.
    const page = await call('GET', '/registered-models/search', {
      filter: "name LIKE 's-%' AND tag.`mlflow.prompt.is_prompt` != 'true'",
      max_results: 1,
      order_by: 'name DESC',
    });
    expect(listOf<{ name: string }>(page.json.registered_models).map((m) => m.name)).toEqual(['s-b']);
    const next = await call('GET', '/registered-models/search', {
      filter: "name LIKE 's-%' AND tag.`mlflow.prompt.is_prompt` != 'true'",
      max_results: 1,
      order_by: 'name DESC',
      page_token: page.json.next_page_token as string,
    });
    expect(listOf<{ name: string }>(next.json.registered_models).map((m) => m.name)).toEqual(['s-a']);
    expect(next.json.next_page_token).toBeUndefined();
    expect((await call('GET', '/registered-models/search', { filter: "name = 'none'" })).json).toEqual({});
    const bad = await call('GET', '/registered-models/search', { filter: 'metrics.x > 1' });
    expect(bad).toMatchObject({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE' } });

    await call('POST', '/model-versions/create', { name: 's-a', source: 'x', run_id: runId });
    await call('POST', '/model-versions/create', { name: 's-b', source: 'y', run_id: runId });
    const versions = await call('GET', '/model-versions/search', { filter: `run_id = '${runId}' AND name LIKE 's-%'` });
    expect(
      listOf<{ name: string; version: string }>(versions.json.model_versions).map((v) => `${v.name}/${v.version}`),
    ).toEqual(['s-a/1', 's-b/1']);
    const inList = await call('GET', '/model-versions/search', { filter: `run_id IN ('${runId}') AND name = 's-b'` });
    expect(inList.json.model_versions).toHaveLength(1);
  });

  it('keeps the deprecated stages: transition-stage with archive_existing_versions, get-latest-versions', async () => {
    await call('POST', '/registered-models/create', { name: 'staged' });
    for (const source of ['a', 'b', 'c']) await call('POST', '/model-versions/create', { name: 'staged', source });
    await call('POST', '/model-versions/transition-stage', {
      name: 'staged',
      version: '1',
      stage: 'Production',
      archive_existing_versions: false,
    });
    const moved = await call('POST', '/model-versions/transition-stage', {
      name: 'staged',
      version: '3',
      stage: 'production',
      archive_existing_versions: true,
    });
    expect(moved.json.model_version).toMatchObject({ version: '3', current_stage: 'Production' });
    const latest = await call('POST', '/registered-models/get-latest-versions', {
      name: 'staged',
      stages: ['Production', 'Archived'],
    });
    expect(
      listOf<{ version: string; current_stage: string }>(latest.json.model_versions).map((v) => [
        v.version,
        v.current_stage,
      ]),
    ).toEqual([
      ['1', 'Archived'],
      ['3', 'Production'],
    ]);
    const all = await call('GET', '/registered-models/get-latest-versions', { name: 'staged' });
    expect(listOf<{ version: string }>(all.json.model_versions).map((v) => v.version)).toEqual(['1', '2', '3']);
    const bad = await call('POST', '/model-versions/transition-stage', {
      name: 'staged',
      version: '1',
      stage: 'Bogus',
      archive_existing_versions: false,
    });
    expect(bad).toMatchObject({ status: 400, json: { error_code: 'INVALID_PARAMETER_VALUE' } });
  });

  it('answers unknown MLflow paths with ENDPOINT_NOT_FOUND naming the path', async () => {
    const res = await call('POST', '/registered-models/frobnicate', {});
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe('ENDPOINT_NOT_FOUND');
    expect(res.json.message).toContain('/registered-models/frobnicate');
  });
});
