import type { Run, TrackingBackend } from '@trestle/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectRest } from './index.js';
import { sendJson, startTestServer, type SeenRequest, type TestServer } from './test-server.js';

const RUN_ID = '0123456789abcdef0123456789abcdef';

const wireRun = {
  info: {
    runId: RUN_ID,
    runName: 'bold-heron-042',
    experimentId: '1',
    userId: 'me',
    status: 'RUNNING',
    startTime: 1,
    endTime: null,
    artifactUri: 'file:///a/1/r/artifacts',
    lifecycleStage: 'active',
  },
  data: {
    metrics: [
      { key: 'loss', value: 'NaN', timestamp: 1, step: 0 },
      { key: 'auc', value: 0.5, timestamp: 1, step: 0 },
    ],
    params: [{ key: 'p', value: 'NaN' }],
    tags: [{ key: 't', value: 'Infinity' }],
  },
  inputs: { datasetInputs: [] },
};

let server: TestServer;
let backend: TrackingBackend;
/** What the fake server answers next: status and JSON (undefined → empty 204). */
let reply: { status: number; body?: unknown } = { status: 204 };

beforeAll(async () => {
  server = await startTestServer((_req, res) =>
    reply.body === undefined ? res.writeHead(reply.status).end() : sendJson(res, reply.status, reply.body),
  );
  backend = connectRest({ trackingUri: `${server.url}/prefix`, token: 'tok', retry: { attempts: 1 } }).backend;
});

afterAll(() => server.close());

beforeEach(() => {
  server.requests.length = 0;
  reply = { status: 204 };
});

function only(): { method: string; url: string; json: unknown } {
  expect(server.requests).toHaveLength(1);
  const r = server.requests[0] as SeenRequest;
  expect(r.headers.authorization).toBe('Bearer tok');
  return { method: r.method, url: r.url, json: r.body.length === 0 ? undefined : JSON.parse(r.body.toString()) };
}

describe('RestBackend: one v1 call per method', () => {
  const P = '/prefix/api/v1';

  it.each<[string, (b: TrackingBackend) => Promise<unknown>, string, string, unknown]>([
    [
      'createExperiment',
      (b) => b.createExperiment({ name: 'x', tags: [{ key: 'k', value: 'v' }] }),
      'POST',
      `${P}/experiments`,
      { name: 'x', tags: [{ key: 'k', value: 'v' }] },
    ],
    ['getExperiment', (b) => b.getExperiment('7'), 'GET', `${P}/experiments/7`, undefined],
    [
      'getExperimentByName',
      (b) => b.getExperimentByName('team/fraud #1?'),
      'GET',
      `${P}/experiments/by-name/team%2Ffraud%20%231%3F`,
      undefined,
    ],
    ['renameExperiment', (b) => b.renameExperiment('7', 'y'), 'PATCH', `${P}/experiments/7`, { name: 'y' }],
    ['deleteExperiment', (b) => b.deleteExperiment('7'), 'DELETE', `${P}/experiments/7`, undefined],
    ['restoreExperiment', (b) => b.restoreExperiment('7'), 'POST', `${P}/experiments/7/restore`, undefined],
    [
      'setExperimentTag',
      (b) => b.setExperimentTag('7', 'a/b c', 'v'),
      'PUT',
      `${P}/experiments/7/tags/a%2Fb%20c`,
      { value: 'v' },
    ],
    [
      'deleteExperimentTag',
      (b) => b.deleteExperimentTag('7', 'a/b'),
      'DELETE',
      `${P}/experiments/7/tags/a%2Fb`,
      undefined,
    ],
    [
      'createRun',
      (b) => b.createRun({ experimentId: '1', runName: 'r', parentRunId: 'p', startTime: 5 }),
      'POST',
      `${P}/runs`,
      { experimentId: '1', runName: 'r', parentRunId: 'p', startTime: 5 },
    ],
    ['getRun', (b) => b.getRun(RUN_ID), 'GET', `${P}/runs/${RUN_ID}`, undefined],
    ['listRunKeys', (b) => b.listRunKeys('7'), 'GET', `${P}/experiments/7/run-keys`, undefined],
    [
      'updateRun',
      (b) => b.updateRun(RUN_ID, { status: 'FINISHED', endTime: 9 }),
      'PATCH',
      `${P}/runs/${RUN_ID}`,
      { status: 'FINISHED', endTime: 9 },
    ],
    ['deleteRun', (b) => b.deleteRun(RUN_ID), 'DELETE', `${P}/runs/${RUN_ID}`, undefined],
    ['restoreRun', (b) => b.restoreRun(RUN_ID), 'POST', `${P}/runs/${RUN_ID}/restore`, undefined],
    [
      'logBatch',
      (b) =>
        b.logBatch(RUN_ID, {
          metrics: [
            { key: 'a', value: NaN, timestamp: 1, step: 0 },
            { key: 'a', value: Infinity, timestamp: 2, step: 1 },
            { key: 'a', value: -Infinity, timestamp: 3, step: 2 },
          ],
          params: [{ key: 'p', value: 'NaN' }],
        }),
      'POST',
      `${P}/runs/${RUN_ID}/batch`,
      {
        metrics: [
          { key: 'a', value: 'NaN', timestamp: 1, step: 0 },
          { key: 'a', value: 'Infinity', timestamp: 2, step: 1 },
          { key: 'a', value: '-Infinity', timestamp: 3, step: 2 },
        ],
        params: [{ key: 'p', value: 'NaN' }],
      },
    ],
    [
      'setTag',
      (b) => b.setTag(RUN_ID, 'mlflow.note', 'hi'),
      'PUT',
      `${P}/runs/${RUN_ID}/tags/mlflow.note`,
      { value: 'hi' },
    ],
    ['deleteTag', (b) => b.deleteTag(RUN_ID, 'x y'), 'DELETE', `${P}/runs/${RUN_ID}/tags/x%20y`, undefined],
    [
      'logInputs',
      (b) => b.logInputs(RUN_ID, [{ dataset: { name: 'd', digest: 'x', sourceType: 'local', source: 's' }, tags: [] }]),
      'POST',
      `${P}/runs/${RUN_ID}/inputs`,
      { inputs: [{ dataset: { name: 'd', digest: 'x', sourceType: 'local', source: 's' }, tags: [] }] },
    ],
    [
      'searchRuns',
      (b) =>
        b.searchRuns({
          experimentIds: ['1', '2'],
          filter: "metrics.auc > 0.7 OR params.l2 = '0.1'",
          orderBy: ['metrics.auc DESC'],
          maxResults: 10,
          pageToken: 'tok',
          viewType: 'ALL',
        }),
      'POST',
      `${P}/runs/search`,
      {
        experimentIds: ['1', '2'],
        filter: "metrics.auc > 0.7 OR params.l2 = '0.1'",
        orderBy: ['metrics.auc DESC'],
        maxResults: 10,
        pageToken: 'tok',
        viewType: 'ALL',
      },
    ],
    [
      'searchExperiments',
      (b) =>
        b.searchExperiments({
          filter: "name LIKE 'f%'",
          orderBy: ['name ASC', 'creation_time DESC'],
          maxResults: 3,
          pageToken: 'pt',
          viewType: 'DELETED_ONLY',
        }),
      'GET',
      `${P}/experiments?filter=name+LIKE+%27f%25%27&orderBy=name+ASC&orderBy=creation_time+DESC&maxResults=3&pageToken=pt&viewType=DELETED_ONLY`,
      undefined,
    ],
    ['searchExperiments (no options)', (b) => b.searchExperiments(), 'GET', `${P}/experiments`, undefined],
    [
      'getMetricHistory',
      (b) => b.getMetricHistory(RUN_ID, 'val/loss', { maxResults: 100, pageToken: 'abc' }),
      'GET',
      `${P}/runs/${RUN_ID}/metrics/val%2Floss/history?maxResults=100&pageToken=abc`,
      undefined,
    ],
    [
      'getMetricHistoryDownsampled',
      (b) => b.getMetricHistoryDownsampled(RUN_ID, 'loss', { points: 500, startStep: 10, endStep: 20 }),
      'GET',
      `${P}/runs/${RUN_ID}/metrics/loss/downsampled?points=500&startStep=10&endStep=20`,
      undefined,
    ],
  ])('%s', async (_name, call, method, url, json) => {
    // One body that decodes as a run, an experiment and a page alike.
    reply = { status: 200, body: { ...wireRun, items: [] } };
    await call(backend);
    expect(only()).toEqual({ method, url, json });
  });
});

describe('RestBackend: decoding', () => {
  it('decodes non-finite metric values of runs, histories and searches, and leaves params and tags as text', async () => {
    reply = { status: 200, body: wireRun };
    const run: Run = await backend.getRun(RUN_ID);
    expect(run.data.metrics[0]?.value).toBeNaN();
    expect(run.data.metrics[1]?.value).toBe(0.5);
    expect(run.data.params).toEqual([{ key: 'p', value: 'NaN' }]);
    expect(run.data.tags).toEqual([{ key: 't', value: 'Infinity' }]);

    reply = {
      status: 200,
      body: { items: [{ key: 'l', value: '-Infinity', timestamp: 1, step: 3 }], nextPageToken: 'n2' },
    };
    expect(await backend.getMetricHistory(RUN_ID, 'l')).toEqual({
      items: [{ key: 'l', value: -Infinity, timestamp: 1, step: 3 }],
      nextPageToken: 'n2',
    });

    reply = { status: 200, body: { items: [{ key: 'l', value: 'Infinity', timestamp: 1, step: 3 }] } };
    expect(await backend.getMetricHistoryDownsampled(RUN_ID, 'l', { points: 10 })).toEqual([
      { key: 'l', value: Infinity, timestamp: 1, step: 3 },
    ]);

    reply = { status: 200, body: { items: [wireRun], nextPageToken: null } };
    const page = await backend.searchRuns({ experimentIds: ['1'] });
    expect(page.items[0]?.data.metrics[0]?.value).toBeNaN();
    expect('nextPageToken' in page).toBe(false);
  });

  it('refuses keys that URL parsing would resolve away, without sending anything', async () => {
    // DELETE /runs/<id>/tags/.. would otherwise reach DELETE /runs/<id> and delete the run.
    await expect(backend.deleteTag(RUN_ID, '..')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(backend.getMetricHistory(RUN_ID, '.')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(server.requests).toHaveLength(0);
  });

  it("looks up experiments named '.' or '..' by search", async () => {
    reply = { status: 200, body: { items: [] } };
    await expect(backend.getExperimentByName('..')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(only().url).toBe('/prefix/api/v1/experiments?filter=name+%3D+%27..%27&maxResults=1&viewType=ALL');
  });

  it('passes server errors through with their code', async () => {
    reply = {
      status: 404,
      body: { error: { code: 'NOT_FOUND', message: `run ${RUN_ID} does not exist`, details: { runId: RUN_ID } } },
    };
    await expect(backend.getRun(RUN_ID)).rejects.toMatchObject({
      name: 'TrestleError',
      code: 'NOT_FOUND',
      message: `run ${RUN_ID} does not exist`,
      details: { runId: RUN_ID },
    });
  });

  it('fails every call after close, without I/O', async () => {
    const { backend: closing } = connectRest({ trackingUri: server.url });
    await closing.close();
    await expect(closing.getRun(RUN_ID)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(server.requests).toHaveLength(0);
  });
});
