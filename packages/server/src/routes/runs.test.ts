import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireRun } from '@trestle/core/rest';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';

describe('runs routes', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => {
    await fx.close();
  });
  const inject = (options: InjectOptions) => fx.app.inject(options);
  const batch = (runId: string, payload: object) =>
    inject({ method: 'POST', url: `/api/v1/runs/${runId}/batch`, payload });
  const getRun = async (runId: string) =>
    (await inject({ method: 'GET', url: `/api/v1/runs/${runId}` })).json<WireRun>();

  it('creates a run and gets it back', async () => {
    const experimentId = await fx.experiment();
    const res = await inject({
      method: 'POST',
      url: '/api/v1/runs',
      payload: {
        experimentId,
        runName: 'lr-l2',
        startTime: 1_700_000_000_000,
        userId: 'ada',
        tags: [{ key: 'team', value: 'ops' }],
      },
    });
    expect(res.statusCode).toBe(201);
    const run = res.json<WireRun>();
    expect(run.info).toMatchObject({
      experimentId,
      runName: 'lr-l2',
      userId: 'ada',
      status: 'RUNNING',
      startTime: 1_700_000_000_000,
      endTime: null,
      lifecycleStage: 'active',
    });
    expect(run.info.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'team', value: 'ops' }]));
    expect(res.headers['location']).toBe(`/api/v1/runs/${run.info.runId}`);
    expect(await getRun(run.info.runId)).toEqual(run);
  });

  it('answers 404 for an unknown run or experiment', async () => {
    const unknownRun = await inject({ method: 'GET', url: `/api/v1/runs/${'0'.repeat(32)}` });
    expect(unknownRun.statusCode).toBe(404);
    expect(unknownRun.json().error.code).toBe('NOT_FOUND');
    const unknownExp = await inject({ method: 'POST', url: '/api/v1/runs', payload: { experimentId: '987654' } });
    expect(unknownExp.statusCode).toBe(404);
    const batchUnknown = await batch('f'.repeat(32), { params: [{ key: 'a', value: '1' }] });
    expect(batchUnknown.statusCode).toBe(404);
  });

  it('refuses unknown fields in a run body', async () => {
    const res = await inject({ method: 'POST', url: '/api/v1/runs', payload: { experimentId: '0', name: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe('body/name is not a known field');
  });

  it('updates status, end time and name', async () => {
    const { runId } = await fx.run();
    const res = await inject({
      method: 'PATCH',
      url: `/api/v1/runs/${runId}`,
      payload: { status: 'FINISHED', endTime: 1_800_000_000_000, runName: 'renamed' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ runId, status: 'FINISHED', endTime: 1_800_000_000_000, runName: 'renamed' });
    expect(res.json()).not.toHaveProperty('data');

    const bad = await inject({ method: 'PATCH', url: `/api/v1/runs/${runId}`, payload: { status: 'DONE' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/^body\/status must be one of "RUNNING"/);
  });

  it('logs a batch of metrics, params and tags', async () => {
    const { runId } = await fx.run();
    const res = await batch(runId, {
      metrics: [
        { key: 'loss', value: 0.9, timestamp: 1000, step: 0 },
        { key: 'loss', value: 0.4, timestamp: 2000, step: 1 },
        { key: 'acc', value: 0.7, timestamp: 2000 },
      ],
      params: [{ key: 'l2', value: '0.1' }],
      tags: [{ key: 'stage', value: 'dev' }],
    });
    expect(res.statusCode).toBe(204);
    const run = await getRun(runId);
    expect(run.data.metrics).toEqual(
      expect.arrayContaining([
        { key: 'loss', value: 0.4, timestamp: 2000, step: 1 },
        { key: 'acc', value: 0.7, timestamp: 2000, step: 0 },
      ]),
    );
    expect(run.data.params).toEqual([{ key: 'l2', value: '0.1' }]);
    expect(run.data.tags).toEqual(expect.arrayContaining([{ key: 'stage', value: 'dev' }]));
  });

  it('refuses to change a logged param with 409 CONFLICT', async () => {
    const { runId } = await fx.run();
    expect((await batch(runId, { params: [{ key: 'lr', value: '0.1' }] })).statusCode).toBe(204);
    expect((await batch(runId, { params: [{ key: 'lr', value: '0.1' }] })).statusCode).toBe(204);
    const res = await batch(runId, { params: [{ key: 'lr', value: '0.2' }] });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
    expect((await getRun(runId)).data.params).toEqual([{ key: 'lr', value: '0.1' }]);
  });

  it('sets and deletes run tags', async () => {
    const { runId } = await fx.run();
    expect(
      (await inject({ method: 'PUT', url: `/api/v1/runs/${runId}/tags/note`, payload: { value: 'hello' } })).statusCode,
    ).toBe(204);
    expect((await getRun(runId)).data.tags).toEqual(expect.arrayContaining([{ key: 'note', value: 'hello' }]));
    expect((await inject({ method: 'DELETE', url: `/api/v1/runs/${runId}/tags/note` })).statusCode).toBe(204);
    expect((await getRun(runId)).data.tags.map((t) => t.key)).not.toContain('note');
  });

  it('records dataset inputs', async () => {
    const { runId } = await fx.run();
    const input = {
      dataset: {
        name: 'flights',
        digest: 'abc123',
        sourceType: 'local',
        source: 'data/flights.parquet',
        schema: '{"cols":[]}',
      },
      tags: [{ key: 'mlflow.data.context', value: 'training' }],
    };
    const res = await inject({ method: 'POST', url: `/api/v1/runs/${runId}/inputs`, payload: { inputs: [input] } });
    expect(res.statusCode).toBe(204);
    expect((await getRun(runId)).inputs.datasetInputs).toEqual([input]);

    const bad = await inject({
      method: 'POST',
      url: `/api/v1/runs/${runId}/inputs`,
      payload: { inputs: [{ dataset: { name: 'x' }, tags: [] }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('body/inputs/0/dataset/digest is required');
  });

  it('deletes and restores a run', async () => {
    const { runId } = await fx.run();
    expect((await inject({ method: 'DELETE', url: `/api/v1/runs/${runId}` })).statusCode).toBe(204);
    expect((await getRun(runId)).info.lifecycleStage).toBe('deleted');
    expect((await inject({ method: 'POST', url: `/api/v1/runs/${runId}/restore` })).statusCode).toBe(204);
    expect((await getRun(runId)).info.lifecycleStage).toBe('active');
  });

  describe('search', () => {
    let experimentId: string;
    const ids: Record<string, string> = {};
    beforeAll(async () => {
      experimentId = await fx.experiment('search-me');
      for (const [name, auc, team] of [
        ['a', 0.6, 'ops'],
        ['b', 0.8, 'risk'],
        ['c', 0.9, 'ml'],
      ] as const) {
        const { runId } = await fx.run(experimentId);
        ids[name] = runId;
        await batch(runId, {
          metrics: [{ key: 'auc', value: auc, timestamp: 1, step: 0 }],
          tags: [{ key: 'team', value: team }],
        });
      }
    });
    const search = (payload: object) => inject({ method: 'POST', url: '/api/v1/runs/search', payload });

    it('filters with OR and parentheses and orders', async () => {
      const res = await search({
        experimentIds: [experimentId],
        filter: "(tags.team = 'ops' OR tags.team = 'ml') AND metrics.auc > 0.5",
        orderBy: ['metrics.auc DESC'],
      });
      expect(res.statusCode).toBe(200);
      expect(res.json<{ items: WireRun[] }>().items.map((r) => r.info.runId)).toEqual([ids['c'], ids['a']]);
    });

    it('pages', async () => {
      const first = (
        await search({ experimentIds: [experimentId], orderBy: ['metrics.auc ASC'], maxResults: 2 })
      ).json<{ items: WireRun[]; nextPageToken?: string }>();
      expect(first.items).toHaveLength(2);
      const second = (
        await search({
          experimentIds: [experimentId],
          orderBy: ['metrics.auc ASC'],
          maxResults: 2,
          pageToken: first.nextPageToken,
        })
      ).json<{ items: WireRun[]; nextPageToken?: string }>();
      expect(second.items.map((r) => r.info.runId)).toEqual([ids['c']]);
      expect(second.nextPageToken).toBeUndefined();
    });

    it("refuses a bad filter with the parser's message", async () => {
      const res = await search({ experimentIds: [experimentId], filter: 'metrics.auc >> 0.5' });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
      expect(res.json().error.message).toMatch(/invalid filter at position \d+/);
    });

    it('needs at least one experiment id', async () => {
      const res = await search({ experimentIds: [] });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toContain('body/experimentIds');
    });
  });

  describe('compare', () => {
    it('lines up params and metrics and marks differences', async () => {
      const experimentId = await fx.experiment();
      const a = await fx.run(experimentId);
      const b = await fx.run(experimentId);
      await batch(a.runId, {
        params: [
          { key: 'l2', value: '0.1' },
          { key: 'seed', value: '1' },
        ],
        metrics: [
          { key: 'auc', value: 0.8, timestamp: 1 },
          { key: 'loss', value: 'NaN', timestamp: 1 },
        ],
      });
      await batch(b.runId, {
        params: [
          { key: 'l2', value: '0.2' },
          { key: 'seed', value: '1' },
          { key: 'depth', value: '3' },
        ],
        metrics: [
          { key: 'auc', value: 0.8, timestamp: 1 },
          { key: 'loss', value: 'NaN', timestamp: 1 },
        ],
      });
      const res = await inject({
        method: 'POST',
        url: '/api/v1/runs/compare',
        payload: { runIds: [a.runId, b.runId] },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json<{ runs: WireRun[]; params: unknown[]; metrics: unknown[] }>();
      expect(body.runs.map((r) => r.info.runId)).toEqual([a.runId, b.runId]);
      expect(body.params).toEqual([
        { key: 'depth', values: [null, '3'], differs: true },
        { key: 'l2', values: ['0.1', '0.2'], differs: true },
        { key: 'seed', values: ['1', '1'], differs: false },
      ]);
      expect(body.metrics).toEqual([
        { key: 'auc', values: [0.8, 0.8], differs: false },
        { key: 'loss', values: ['NaN', 'NaN'], differs: false },
      ]);
    });

    it('needs 2 to 100 known runs', async () => {
      const { runId } = await fx.run();
      const one = await inject({ method: 'POST', url: '/api/v1/runs/compare', payload: { runIds: [runId] } });
      expect(one.statusCode).toBe(400);
      expect(one.json().error.message).toContain('body/runIds');
      const many = await inject({
        method: 'POST',
        url: '/api/v1/runs/compare',
        payload: { runIds: Array(101).fill(runId) },
      });
      expect(many.statusCode).toBe(400);
      const unknown = await inject({
        method: 'POST',
        url: '/api/v1/runs/compare',
        payload: { runIds: [runId, 'e'.repeat(32)] },
      });
      expect(unknown.statusCode).toBe(404);
    });
  });
});
