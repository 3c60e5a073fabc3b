import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listOf, startMlflowTestApp, type MlflowTestApp } from './test-support.js';

let t: MlflowTestApp;
let experimentId: string;
beforeEach(async () => {
  t = await startMlflowTestApp();
  experimentId = (await t.post('/experiments/create', { name: 'runs' })).json.experiment_id;
});
afterEach(async () => {
  await t.close();
});

async function createRun(body: object = {}): Promise<string> {
  const res = await t.post('/runs/create', { experiment_id: experimentId, ...body });
  expect(res.status).toBe(200);
  return res.json.run.info.run_id as string;
}

describe('runs/create and get', () => {
  it('creates a run the way the MLflow Python client does and returns MLflow’s Run', async () => {
    const res = await t.post('/runs/create', {
      experiment_id: experimentId,
      user_id: 'alice',
      start_time: 1717000000000,
      run_name: 'rf-1',
      tags: [
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.user', value: 'alice' },
      ],
    });
    expect(res.status).toBe(200);
    const runId = res.json.run.info.run_id as string;
    expect(runId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.json.run.info).toEqual({
      run_id: runId,
      run_uuid: runId,
      run_name: 'rf-1',
      experiment_id: experimentId,
      user_id: 'alice',
      status: 'RUNNING',
      start_time: 1717000000000,
      artifact_uri: `mlflow-artifacts:/${experimentId}/${runId}/artifacts`,
      lifecycle_stage: 'active',
    });
    expect(res.json.run.data).toEqual({
      tags: expect.arrayContaining([
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'mlflow.runName', value: 'rf-1' },
        { key: 'mlflow.user', value: 'alice' },
      ]),
    });
    expect(res.json.run.inputs).toEqual({});

    const stored = await t.metadata.getRun(runId);
    expect(stored.info).toMatchObject({ runName: 'rf-1', userId: 'alice', startTime: 1717000000000, experimentId });

    const got = await t.get('/runs/get', { run_id: runId });
    expect(got.status).toBe(200);
    expect(got.json.run).toEqual(res.json.run);
  });

  it('adds no mlflow.user tag the client did not send (MlflowClient.create_run), as MLflow does', async () => {
    const res = await t.post('/runs/create', { experiment_id: experimentId, user_id: 'unknown' });
    expect(res.status).toBe(200);
    const runId = res.json.run.info.run_id as string;
    expect(res.json.run.info.user_id).toBe('unknown');
    const tags = listOf<{ key: string }>(res.json.run.data.tags).map((x) => x.key);
    expect(tags).not.toContain('mlflow.user');
    const found = await t.post('/runs/search', {
      experiment_ids: [experimentId],
      filter: "tags.mlflow.user = 'unknown'",
    });
    expect(listOf<{ info: { run_id: string } }>(found.json.runs).map((r) => r.info.run_id)).not.toContain(runId);
  });

  it('defaults experiment_id to the Default experiment 0 and takes int64 as strings', async () => {
    const res = await t.post('/runs/create', { start_time: '1717000000123' });
    expect(res.status).toBe(200);
    expect(res.json.run.info).toMatchObject({ experiment_id: '0', start_time: 1717000000123 });
  });

  it('answers a missing run with 404 RESOURCE_DOES_NOT_EXIST', async () => {
    const res = await t.get('/runs/get', { run_id: 'f'.repeat(32) });
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('accepts the deprecated run_uuid', async () => {
    const runId = await createRun();
    const res = await t.get('/runs/get', { run_uuid: runId });
    expect(res.json.run.info.run_id).toBe(runId);
  });

  it('answers run creation in a missing experiment with 404', async () => {
    const res = await t.post('/runs/create', { experiment_id: '424242' });
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('runs/update, delete, restore', () => {
  it('updates status (by name or number), end time and name, returning run_info', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/update', {
      run_id: runId,
      status: 'FINISHED',
      end_time: 1717000009999,
      run_name: 'renamed',
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      run_info: expect.objectContaining({
        run_id: runId,
        status: 'FINISHED',
        end_time: 1717000009999,
        run_name: 'renamed',
      }),
    });
    expect((await t.metadata.getRun(runId)).info).toMatchObject({
      status: 'FINISHED',
      endTime: 1717000009999,
      runName: 'renamed',
    });

    const byNumber = await t.post('/runs/update', { run_uuid: runId, status: 4 });
    expect(byNumber.json.run_info.status).toBe('FAILED');
  });

  it('refuses an unknown status naming the allowed ones', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/update', { run_id: runId, status: 'DONE' });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain('RUNNING, SCHEDULED, FINISHED, FAILED, KILLED');
  });

  it('deletes and restores', async () => {
    const runId = await createRun();
    expect((await t.post('/runs/delete', { run_id: runId })).json).toEqual({});
    expect((await t.get('/runs/get', { run_id: runId })).json.run.info.lifecycle_stage).toBe('deleted');
    expect((await t.post('/runs/restore', { run_id: runId })).json).toEqual({});
    expect((await t.metadata.getRun(runId)).info.lifecycleStage).toBe('active');
  });
});

describe('logging', () => {
  it('logs a metric with step defaulting to 0', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/log-metric', { run_id: runId, key: 'loss', value: 0.25, timestamp: 1717000000000 });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    expect((await t.metadata.getRun(runId)).data.metrics).toEqual([
      { key: 'loss', value: 0.25, timestamp: 1717000000000, step: 0 },
    ]);
    const got = await t.get('/runs/get', { run_id: runId });
    expect(got.json.run.data.metrics).toEqual([{ key: 'loss', value: 0.25, timestamp: 1717000000000, step: 0 }]);
  });

  it('requires key, value and timestamp on log-metric', async () => {
    const runId = await createRun();
    for (const field of ['key', 'value', 'timestamp']) {
      const body: Record<string, unknown> = { run_id: runId, key: 'loss', value: 1, timestamp: 1 };
      delete body[field];
      const res = await t.post('/runs/log-metric', body);
      expect(res.status, field).toBe(400);
      expect(res.json).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `Missing value for required parameter '${field}'. See the API docs for more information about request parameters.`,
      });
    }
    expect((await t.metadata.getRun(runId)).data.metrics).toEqual([]);
  });

  it('accepts NaN and ±Infinity as MLflow clients send them and returns them as strings', async () => {
    const runId = await createRun();
    await t.post('/runs/log-metric', { run_id: runId, key: 'a', value: 'NaN', timestamp: 1, step: 0 });
    await t.post('/runs/log-metric', { run_id: runId, key: 'b', value: 'Infinity', timestamp: 1, step: 0 });
    await t.post('/runs/log-metric', { run_id: runId, key: 'c', value: '-Infinity', timestamp: 1, step: 0 });
    // Python's json.dumps writes bare literals; the dialect's parser tolerates them.
    const bare = await t.post(
      '/runs/log-metric',
      `{"run_id": "${runId}", "key": "d", "value": NaN, "timestamp": 1, "step": 0}`,
    );
    expect(bare.status).toBe(200);
    await t.post(
      '/runs/log-batch',
      `{"run_id": "${runId}", "metrics": [{"key": "e", "value": -Infinity, "timestamp": 1, "step": 0}]}`,
    );

    const stored = new Map((await t.metadata.getRun(runId)).data.metrics.map((m) => [m.key, m.value]));
    expect(stored.get('a')).toBeNaN();
    expect(stored.get('b')).toBe(Infinity);
    expect(stored.get('c')).toBe(-Infinity);
    expect(stored.get('d')).toBeNaN();
    expect(stored.get('e')).toBe(-Infinity);

    const got = await t.get('/runs/get', { run_id: runId });
    const values = Object.fromEntries(
      listOf<{ key: string; value: unknown }>(got.json.run.data.metrics).map((m) => [m.key, m.value]),
    );
    expect(values).toEqual({ a: 'NaN', b: 'Infinity', c: '-Infinity', d: 'NaN', e: '-Infinity' });
  });

  it('refuses a metric value that is not a number', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/log-metric', { run_id: runId, key: 'a', value: 'high', timestamp: 1 });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/^Invalid value "high" for parameter 'value' supplied/);
  });

  it('logs params idempotently and refuses a changed value with MLflow’s wording', async () => {
    const runId = await createRun();
    expect((await t.post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status).toBe(200);
    expect((await t.post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status).toBe(200);
    const res = await t.post('/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.2' });
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: `Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='${runId}'. Attempted logging new value '0.2'.`,
    });
    expect((await t.metadata.getRun(runId)).data.params).toEqual([{ key: 'lr', value: '0.1' }]);
  });

  it('sets, overwrites and deletes tags', async () => {
    const runId = await createRun({ run_name: 'r' });
    await t.post('/runs/set-tag', { run_id: runId, key: 'team', value: 'a' });
    await t.post('/runs/set-tag', { run_id: runId, key: 'team', value: 'b' });
    expect((await t.metadata.getRun(runId)).data.tags).toContainEqual({ key: 'team', value: 'b' });
    expect((await t.post('/runs/delete-tag', { run_id: runId, key: 'team' })).json).toEqual({});
    expect((await t.metadata.getRun(runId)).data.tags.map((tag) => tag.key)).not.toContain('team');
  });

  it('logs a batch', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'rmse', value: 2.7, timestamp: 1552550804000, step: 3 },
        { key: 'rmse', value: 2.5, timestamp: 1552550805000, step: 4 },
      ],
      params: [{ key: 'model_class', value: 'LogisticRegression' }],
      tags: [{ key: 'team', value: 'fraud' }],
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    const run = await t.metadata.getRun(runId);
    expect(run.data.metrics).toEqual([{ key: 'rmse', value: 2.5, timestamp: 1552550805000, step: 4 }]);
    expect(run.data.params).toEqual([{ key: 'model_class', value: 'LogisticRegression' }]);
    expect(run.data.tags).toContainEqual({ key: 'team', value: 'fraud' });
    expect((await t.metadata.getMetricHistory(runId, 'rmse')).items).toHaveLength(2);
  });

  it('names the failing element of a batch', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'ok', value: 1, timestamp: 1 },
        { key: 'bad', value: 1, timestamp: 'yesterday' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/parameter 'metrics\[1\]\.timestamp'/);
    expect((await t.metadata.getRun(runId)).data.metrics).toEqual([]);
  });

  it.each([
    ['metrics', { metrics: 1001 }, 'A batch logging request can contain at most 1000 metrics. Got 1001 metrics.'],
    ['params', { params: 101 }, 'A batch logging request can contain at most 100 params. Got 101 params.'],
    ['tags', { tags: 101 }, 'A batch logging request can contain at most 100 tags. Got 101 tags.'],
    [
      'in total',
      { metrics: 901, params: 100 },
      'A batch logging request can contain at most 1000 metrics, params, and tags. Got 1001 metrics, params, and tags.',
    ],
  ])('refuses a batch over the %s limit with 400 and writes nothing', async (_what, counts, message) => {
    const runId = await createRun();
    const c = counts as { metrics?: number; params?: number; tags?: number };
    const res = await t.post('/runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: c.metrics ?? 0 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i })),
      params: Array.from({ length: c.params ?? 0 }, (_, i) => ({ key: `p${i}`, value: 'v' })),
      tags: Array.from({ length: c.tags ?? 0 }, (_, i) => ({ key: `t${i}`, value: 'v' })),
    });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.json.message).toContain(message);
    const run = await t.metadata.getRun(runId);
    expect(run.data.metrics).toEqual([]);
    expect(run.data.params).toEqual([]);
  });

  it('refuses a log-batch body over 1 MB with 400 and a clear message', async () => {
    const runId = await createRun();
    const body = JSON.stringify({ run_id: runId, tags: [{ key: 'big', value: 'x'.repeat(1_000_001) }] });
    const res = await t.post('/runs/log-batch', body);
    expect(res.status).toBe(400);
    expect(res.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining(
        `Batched logging API requests must be at most 1000000 bytes, got a request of size ${Buffer.byteLength(body)}.`,
      ),
    });
    expect((await t.metadata.getRun(runId)).data.tags.map((tag) => tag.key)).not.toContain('big');
  });

  it('refuses a changed param inside a batch with MLflow’s wording', async () => {
    const runId = await createRun();
    await t.post('/runs/log-parameter', { run_id: runId, key: 'depth', value: '3' });
    const res = await t.post('/runs/log-batch', {
      run_id: runId,
      params: [
        { key: 'depth', value: '4' },
        { key: 'eta', value: '0.1' },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toBe(
      `Changing param values is not allowed. Params were already logged='[{"key":"depth","old_value":"3","new_value":"4"}]' for run ID='${runId}'.`,
    );
  });

  it('logs dataset inputs and returns them under inputs.dataset_inputs', async () => {
    const runId = await createRun();
    const dataset = {
      name: 'flights',
      digest: 'abc123',
      source_type: 'local',
      source: '{"uri": "data/flights.csv"}',
      schema: '{"mlflow_colspec": []}',
    };
    const res = await t.post('/runs/log-inputs', {
      run_id: runId,
      datasets: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }],
    });
    expect(res.status).toBe(200);
    const got = await t.get('/runs/get', { run_id: runId });
    expect(got.json.run.inputs).toEqual({
      dataset_inputs: [{ tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset }],
    });
    expect((await t.metadata.getRun(runId)).inputs.datasetInputs[0]?.dataset).toMatchObject({
      name: 'flights',
      digest: 'abc123',
      sourceType: 'local',
    });
  });

  it('requires the dataset’s name, digest, source_type and source', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/log-inputs', {
      run_id: runId,
      datasets: [{ dataset: { name: 'd', digest: 'x', source: 's' } }],
    });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("'datasets[0].dataset.source_type'");
  });

  it('records log-model in the mlflow.log-model.history tag', async () => {
    const runId = await createRun();
    const model = {
      artifact_path: 'model',
      flavors: { sklearn: {} },
      utc_time_created: '2024-06-01 00:00:00',
      run_id: runId,
    };
    expect((await t.post('/runs/log-model', { run_id: runId, model_json: JSON.stringify(model) })).status).toBe(200);
    const tag = (await t.metadata.getRun(runId)).data.tags.find((x) => x.key === 'mlflow.log-model.history');
    expect(JSON.parse(tag?.value ?? '[]')).toEqual([model]);
    const bad = await t.post('/runs/log-model', { run_id: runId, model_json: '{"flavors": {}}' });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toContain('Model json is missing mandatory fields');
  });

  it('answers runs/outputs naming a logged model that does not exist with RESOURCE_DOES_NOT_EXIST', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/outputs', { run_id: runId, models: [{ model_id: 'm-1', step: 0 }] });
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('answers every write to a deleted run 400 INVALID_PARAMETER_VALUE in MLflow’s words', async () => {
    const runId = await createRun();
    await t.post('/runs/delete', { run_id: runId });
    const writes: [string, object][] = [
      ['/runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 1 }],
      ['/runs/log-parameter', { run_id: runId, key: 'p', value: 'v' }],
      ['/runs/set-tag', { run_id: runId, key: 'k', value: 'v' }],
      ['/runs/delete-tag', { run_id: runId, key: 'k' }],
      ['/runs/log-batch', { run_id: runId, tags: [{ key: 'k', value: 'v' }] }],
      ['/runs/update', { run_id: runId, status: 'FINISHED' }],
    ];
    for (const [path, body] of writes) {
      const res = await t.post(path, body);
      expect(res.status, path).toBe(400);
      expect(res.json, path).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `The run ${runId} must be in the 'active' state. Current state is deleted.`,
      });
    }
  });

  it('names an unknown run as MLflow does', async () => {
    const unknown = 'f'.repeat(32);
    for (const res of [
      await t.get('/runs/get', { run_id: unknown }),
      await t.post('/runs/set-tag', { run_id: unknown, key: 'k', value: 'v' }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.json).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `Run '${unknown}' not found` });
    }
  });

  it('requires datasets (or MLflow 3 models) in runs/log-inputs', async () => {
    const runId = await createRun();
    const res = await t.post('/runs/log-inputs', { run_id: runId });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.json.message).toMatch(/^Missing value for required parameter 'datasets'/);
  });
});

describe('runs/search with NaN metrics, as MLflow', () => {
  it('accepts any status string in attributes.status, matching nothing when it is no status', async () => {
    const res = await t.post('/runs/search', { experiment_ids: ['0'], filter: "attributes.status = 'DONE'" });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({});
    const running = await t.post('/runs/search', { experiment_ids: ['0'], filter: "attributes.status = 'RUNNING'" });
    expect(running.status).toBe(200);
  });

  it('matches NaN only with != and sorts it after every number and before missing values, both ways', async () => {
    const e = (await t.post('/experiments/create', { name: 'nan-search' })).json.experiment_id as string;
    const ids: Record<string, string> = {};
    for (const [name, value] of [
      ['one', 1],
      ['nan', 'NaN'],
      ['three', 3],
      ['none', undefined],
    ] as const) {
      const id = (await t.post('/runs/create', { experiment_id: e, run_name: name })).json.run.info.run_id as string;
      ids[id] = name;
      if (value !== undefined) await t.post('/runs/log-metric', { run_id: id, key: 'm', value, timestamp: 1 });
    }
    const names = async (body: object): Promise<string[]> =>
      listOf<{ info: { run_id: string } }>(
        (await t.post('/runs/search', { experiment_ids: [e], ...body })).json.runs,
      ).map((r) => ids[r.info.run_id] ?? '?');
    expect((await names({ filter: 'metrics.m != 1' })).sort()).toEqual(['nan', 'three']);
    for (const op of ['=', '<', '>', '<=', '>=']) {
      expect(await names({ filter: `metrics.m ${op} 2` }), op).not.toContain('nan');
    }
    expect(await names({ order_by: ['metrics.m ASC'] })).toEqual(['one', 'three', 'nan', 'none']);
    expect(await names({ order_by: ['metrics.m DESC'] })).toEqual(['three', 'one', 'nan', 'none']);
  });
});

describe('runs/search', () => {
  let runs: Record<string, string>;
  beforeEach(async () => {
    runs = {};
    const specs = [
      ['lr', 'LogisticRegression', 0.9, 1000],
      ['rf', 'RandomForest', 0.5, 2000],
      ['gb', 'LogisticRegression', 0.7, 3000],
    ] as const;
    for (const [name, model, rmse, start] of specs) {
      const runId = await createRun({ run_name: name, start_time: 1717000000000 + start });
      runs[name] = runId;
      await t.post('/runs/log-batch', {
        run_id: runId,
        metrics: [{ key: 'rmse', value: rmse, timestamp: 1, step: 0 }],
        params: [{ key: 'model_class', value: model }],
      });
    }
  });

  const names = (json: unknown): string[] =>
    listOf<{ info: { run_name: string } }>((json as { runs?: unknown }).runs).map((r) => r.info.run_name);

  it('filters on metrics and params and orders by a metric', async () => {
    const res = await t.post('/runs/search', {
      experiment_ids: [experimentId],
      filter: "metrics.rmse < 0.95 and params.model_class = 'LogisticRegression'",
      order_by: ['metrics.rmse ASC'],
    });
    expect(res.status).toBe(200);
    expect(names(res.json)).toEqual(['gb', 'lr']);
    expect(res.json.runs[0].data).toEqual({
      metrics: [{ key: 'rmse', value: 0.7, timestamp: 1, step: 0 }],
      params: [{ key: 'model_class', value: 'LogisticRegression' }],
      tags: [{ key: 'mlflow.runName', value: 'gb' }],
    });
  });

  it('orders by start_time DESC by default and pages with next_page_token', async () => {
    const first = await t.post('/runs/search', { experiment_ids: [experimentId], max_results: 2 });
    expect(names(first.json)).toEqual(['gb', 'rf']);
    expect(typeof first.json.next_page_token).toBe('string');
    const second = await t.post('/runs/search', {
      experiment_ids: [experimentId],
      max_results: 2,
      page_token: first.json.next_page_token,
    });
    expect(names(second.json)).toEqual(['lr']);
    expect(second.json).not.toHaveProperty('next_page_token');
  });

  it('honours run_view_type', async () => {
    const rf = runs['rf'];
    if (rf === undefined) throw new Error('setup failed');
    await t.post('/runs/delete', { run_id: rf });
    expect(names((await t.post('/runs/search', { experiment_ids: [experimentId] })).json)).toEqual(['gb', 'lr']);
    expect(
      names((await t.post('/runs/search', { experiment_ids: [experimentId], run_view_type: 'DELETED_ONLY' })).json),
    ).toEqual(['rf']);
    expect(
      names((await t.post('/runs/search', { experiment_ids: [experimentId], run_view_type: 'ALL' })).json),
    ).toHaveLength(3);
  });

  it('returns {} when nothing matches', async () => {
    const res = await t.post('/runs/search', { experiment_ids: [experimentId], filter: "params.model_class = 'SVM'" });
    expect(res.json).toEqual({});
  });

  it('allows max_results up to 50,000 and refuses more', async () => {
    expect((await t.post('/runs/search', { experiment_ids: [experimentId], max_results: 50_000 })).status).toBe(200);
    const res = await t.post('/runs/search', { experiment_ids: [experimentId], max_results: 50_001 });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.json.message).toContain("'max_results'");
  });

  it('answers a bad filter with 400 INVALID_PARAMETER_VALUE', async () => {
    const res = await t.post('/runs/search', { experiment_ids: [experimentId], filter: 'metrics.rmse <' });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
    expect(res.json.message).toMatch(/filter/);
  });

  it('answers a tampered page token with 400', async () => {
    const res = await t.post('/runs/search', { experiment_ids: [experimentId], page_token: 'not-a-token' });
    expect(res.status).toBe(400);
    expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });

  it('refuses experiment_ids that is not a list of strings', async () => {
    const res = await t.post('/runs/search', { experiment_ids: experimentId });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("'experiment_ids'");
  });
});
