import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listOf, startMlflowTestApp, type MlflowTestApp } from './test-support.js';

let t: MlflowTestApp;
beforeEach(async () => {
  t = await startMlflowTestApp();
});
afterEach(async () => {
  await t.close();
});

async function createExperiment(name: string, extra: object = {}): Promise<string> {
  const res = await t.post('/experiments/create', { name, ...extra });
  expect(res.status).toBe(200);
  return res.json.experiment_id as string;
}

describe('experiments/create and get', () => {
  it('creates an experiment and returns it with MLflow field names', async () => {
    const id = await createExperiment('flights', { tags: [{ key: 'team', value: 'ops' }] });
    expect(typeof id).toBe('string');

    const res = await t.get('/experiments/get', { experiment_id: id });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      experiment: {
        experiment_id: id,
        name: 'flights',
        artifact_location: `mlflow-artifacts:/${id}`,
        lifecycle_stage: 'active',
        creation_time: expect.any(Number),
        last_update_time: expect.any(Number),
        tags: [{ key: 'team', value: 'ops' }],
      },
    });
    expect((await t.metadata.getExperiment(id)).tags).toEqual([{ key: 'team', value: 'ops' }]);
  });

  it('leaves out `tags` for an experiment without tags, as proto JSON does', async () => {
    const id = await createExperiment('bare');
    const res = await t.get('/experiments/get', { experiment_id: id });
    expect(res.json.experiment).not.toHaveProperty('tags');
  });

  it('serves the default experiment 0', async () => {
    const res = await t.get('/experiments/get', { experiment_id: '0' });
    expect(res.json.experiment).toMatchObject({ experiment_id: '0', name: 'Default' });
  });

  it('answers a duplicate name with 400 RESOURCE_ALREADY_EXISTS', async () => {
    await createExperiment('dup');
    const res = await t.post('/experiments/create', { name: 'dup' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({ error_code: 'RESOURCE_ALREADY_EXISTS', message: expect.stringContaining('dup') });
  });

  it('answers a missing experiment with 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const res = await t.get('/experiments/get', { experiment_id: '987654' });
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('requires a name, naming the parameter as MLflow does', async () => {
    const res = await t.post('/experiments/create', {});
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message:
        "Missing value for required parameter 'name'. See the API docs for more information about request parameters.",
    });
  });

  it('refuses a wrong type with 400 INVALID_PARAMETER_VALUE naming the field', async () => {
    const res = await t.post('/experiments/create', { name: 42 });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.json.message).toMatch(/^Invalid value 42 for parameter 'name' supplied: expected a string/);
  });

  it('ignores unknown fields, as MLflow’s proto parser does', async () => {
    const res = await t.post('/experiments/create', { name: 'extra', some_future_field: { x: 1 } });
    expect(res.status).toBe(200);
    expect((await t.metadata.getExperimentByName('extra')).experimentId).toBe(res.json.experiment_id);
  });
});

describe('experiments/get-by-name', () => {
  it('finds an experiment by name', async () => {
    const id = await createExperiment('by-name');
    const res = await t.get('/experiments/get-by-name', { experiment_name: 'by-name' });
    expect(res.status).toBe(200);
    expect(res.json.experiment.experiment_id).toBe(id);
  });

  it('answers an unknown name with 404 RESOURCE_DOES_NOT_EXIST and MLflow’s message', async () => {
    const res = await t.get('/experiments/get-by-name', { experiment_name: 'nope' });
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error_code: 'RESOURCE_DOES_NOT_EXIST',
      message: "Could not find experiment with name 'nope'",
    });
  });
});

describe('experiments/update, delete, restore and tags', () => {
  it('renames, deletes, restores and tags', async () => {
    const id = await createExperiment('old-name');
    expect((await t.post('/experiments/update', { experiment_id: id, new_name: 'new-name' })).json).toEqual({});
    expect((await t.metadata.getExperiment(id)).name).toBe('new-name');

    expect((await t.post('/experiments/delete', { experiment_id: id })).json).toEqual({});
    expect((await t.get('/experiments/get', { experiment_id: id })).json.experiment.lifecycle_stage).toBe('deleted');
    expect((await t.post('/experiments/restore', { experiment_id: id })).json).toEqual({});
    expect((await t.metadata.getExperiment(id)).lifecycleStage).toBe('active');

    await t.post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v1' });
    await t.post('/experiments/set-experiment-tag', { experiment_id: id, key: 'k', value: 'v2' });
    expect((await t.metadata.getExperiment(id)).tags).toEqual([{ key: 'k', value: 'v2' }]);
    expect((await t.post('/experiments/delete-experiment-tag', { experiment_id: id, key: 'k' })).json).toEqual({});
    expect((await t.metadata.getExperiment(id)).tags).toEqual([]);
  });

  it('requires new_name on update', async () => {
    const id = await createExperiment('x');
    const res = await t.post('/experiments/update', { experiment_id: id });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("'new_name'");
  });
});

describe('experiments/search', () => {
  beforeEach(async () => {
    for (const [name, team] of [
      ['fraud-a', 'risk'],
      ['fraud-b', 'risk'],
      ['churn', 'growth'],
    ] as const) {
      await createExperiment(name, { tags: [{ key: 'team', value: team }] });
    }
  });

  it('filters and orders (POST)', async () => {
    const res = await t.post('/experiments/search', {
      filter: "tags.team = 'risk'",
      order_by: ['name DESC'],
      max_results: 10,
    });
    expect(res.status).toBe(200);
    expect(listOf<{ name: string }>(res.json.experiments).map((e) => e.name)).toEqual(['fraud-b', 'fraud-a']);
    expect(res.json).not.toHaveProperty('next_page_token');
  });

  it('reads the query string of a GET, with repeated order_by', async () => {
    const res = await t.get('/experiments/search', {
      filter: "name LIKE 'fraud%'",
      order_by: ['name ASC', 'creation_time DESC'],
    });
    expect(res.status).toBe(200);
    expect(listOf<{ name: string }>(res.json.experiments).map((e) => e.name)).toEqual(['fraud-a', 'fraud-b']);
  });

  it('pages with next_page_token', async () => {
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await t.post('/experiments/search', {
        max_results: 2,
        order_by: ['name ASC'],
        ...(token ? { page_token: token } : {}),
      });
      expect(res.status).toBe(200);
      names.push(...listOf<{ name: string }>(res.json.experiments).map((e) => e.name));
      token = res.json.next_page_token;
      pages++;
    } while (token !== undefined);
    expect(names).toEqual(['Default', 'churn', 'fraud-a', 'fraud-b']);
    expect(pages).toBe(2);
  });

  it('honours view_type by name or number and leaves out an empty list', async () => {
    const id = (await t.metadata.getExperimentByName('churn')).experimentId;
    await t.post('/experiments/delete', { experiment_id: id });
    const deleted = await t.post('/experiments/search', { view_type: 'DELETED_ONLY' });
    expect(listOf<{ name: string }>(deleted.json.experiments).map((e) => e.name)).toEqual(['churn']);
    const byNumber = await t.post('/experiments/search', { view_type: 2 });
    expect(byNumber.json.experiments).toHaveLength(1);
    const none = await t.post('/experiments/search', { filter: "name = 'no-such'" });
    expect(none.json).toEqual({});
  });

  it('answers a bad filter with 400 INVALID_PARAMETER_VALUE', async () => {
    const res = await t.post('/experiments/search', { filter: 'name ~~ 3' });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('serves the MLflow 1.x experiments/list used by older clients', async () => {
    const res = await t.get('/experiments/list');
    expect(res.status).toBe(200);
    expect(res.json.experiments).toHaveLength(4);
  });

  it('is also served under /ajax-api/2.0', async () => {
    const res = await t.post('/experiments/search', { filter: "name = 'churn'" }, { root: '/ajax-api/2.0' });
    expect(res.status).toBe(200);
    expect(res.json.experiments).toHaveLength(1);
  });
});

describe('protocol errors', () => {
  it('answers malformed JSON with 400 MALFORMED_REQUEST', async () => {
    const res = await t.post('/experiments/create', '{"name": ');
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('MALFORMED_REQUEST');
  });

  it('accepts a body double-encoded as a JSON string (older clients)', async () => {
    const res = await t.post('/experiments/create', JSON.stringify(JSON.stringify({ name: 'double' })));
    expect(res.status).toBe(200);
    expect((await t.metadata.getExperimentByName('double')).experimentId).toBe(res.json.experiment_id);
  });

  it('refuses a body that is not a JSON object', async () => {
    const res = await t.post('/experiments/create', '[1, 2]');
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('MALFORMED_REQUEST');
  });

  it('refuses a non-JSON content type as MLflow does', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/api/2.0/mlflow/experiments/create',
      payload: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: "Bad Request. Content-Type must be one of ['application/json'].",
    });
  });

  it('answers unknown endpoints and methods with 404 ENDPOINT_NOT_FOUND in MLflow’s shape', async () => {
    for (const [method, url] of [
      ['POST', '/api/2.0/mlflow/experiments/frobnicate'],
      ['GET', '/api/2.0/mlflow/experiments/create'],
      ['GET', '/ajax-api/2.0/mlflow/registered-models/frobnicate'],
      ['POST', '/api/2.0/mlflow-artifacts/nothing-here'],
    ] as const) {
      const res = await t.inject({ method, url });
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.json.error_code, `${method} ${url}`).toBe('ENDPOINT_NOT_FOUND');
    }
  });
});
