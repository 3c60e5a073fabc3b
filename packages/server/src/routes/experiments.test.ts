import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';

describe('experiments routes', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => {
    await fx.close();
  });
  const inject = (options: InjectOptions) => fx.app.inject(options);

  it('creates an experiment with tags and gets it by id and by name', async () => {
    const created = await fx.app.inject({
      method: 'POST',
      url: '/api/v1/experiments',
      payload: { name: 'fraud detection', tags: [{ key: 'team', value: 'risk' }] },
    });
    expect(created.statusCode).toBe(201);
    const exp = created.json();
    expect(exp).toMatchObject({
      name: 'fraud detection',
      lifecycleStage: 'active',
      tags: [{ key: 'team', value: 'risk' }],
    });
    expect(typeof exp.creationTime).toBe('number');
    expect(created.headers['location']).toBe(`/api/v1/experiments/${exp.experimentId}`);

    const byId = await inject({ method: 'GET', url: `/api/v1/experiments/${exp.experimentId}` });
    expect(byId.json()).toEqual(exp);
    const byName = await inject({
      method: 'GET',
      url: `/api/v1/experiments/by-name/${encodeURIComponent('fraud detection')}`,
    });
    expect(byName.json()).toEqual(exp);
  });

  it('refuses a taken name with ALREADY_EXISTS', async () => {
    await fx.experiment('taken');
    const res = await inject({ method: 'POST', url: '/api/v1/experiments', payload: { name: 'taken' } });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('ALREADY_EXISTS');
  });

  it('answers 404 NOT_FOUND for unknown ids and names', async () => {
    const byId = await inject({ method: 'GET', url: '/api/v1/experiments/999999' });
    expect(byId.statusCode).toBe(404);
    expect(byId.json().error.code).toBe('NOT_FOUND');
    const byName = await inject({ method: 'GET', url: '/api/v1/experiments/by-name/no-such-thing' });
    expect(byName.statusCode).toBe(404);
    const rename = await inject({ method: 'PATCH', url: '/api/v1/experiments/999999', payload: { name: 'x' } });
    expect(rename.statusCode).toBe(404);
  });

  it('lists the params, metrics and tags keys of the runs of an experiment without their values', async () => {
    const experimentId = await fx.experiment('keys');
    const { runId } = await fx.run(experimentId);
    const other = await fx.run();
    const logged = await inject({
      method: 'POST',
      url: `/api/v1/runs/${runId}/batch`,
      payload: {
        params: [{ key: 'lr', value: '0.1' }],
        metrics: [{ key: 'auc', value: 0.9, timestamp: 1, step: 0 }],
        tags: [{ key: 'team', value: 'risk' }],
      },
    });
    expect(logged.statusCode).toBe(204);
    await inject({
      method: 'POST',
      url: `/api/v1/runs/${other.runId}/batch`,
      payload: { params: [{ key: 'elsewhere', value: '1' }] },
    });
    const res = await inject({ method: 'GET', url: `/api/v1/experiments/${experimentId}/run-keys` });
    expect(res.statusCode).toBe(200);
    const keys = res.json();
    expect(keys.params).toEqual(['lr']);
    expect(keys.metrics).toEqual(['auc']);
    expect(keys.tags).toContain('team');
    expect(JSON.stringify(keys)).not.toContain('risk');

    const missing = await inject({ method: 'GET', url: '/api/v1/experiments/999999/run-keys' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toMatch(/experiment '999999' does not exist/);
    const bad = await inject({ method: 'GET', url: '/api/v1/experiments/abc/run-keys' });
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    expect(bad.statusCode).toBeLessThan(500);
  });

  it('searches with a filter, order and pages', async () => {
    for (const name of ['page-a', 'page-b', 'page-c']) await fx.experiment(name);
    const first = await inject({
      method: 'GET',
      url: `/api/v1/experiments?filter=${encodeURIComponent("name LIKE 'page-%'")}&orderBy=${encodeURIComponent('name DESC')}&maxResults=2`,
    });
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{ items: { name: string }[]; nextPageToken?: string }>();
    expect(page1.items.map((e) => e.name)).toEqual(['page-c', 'page-b']);
    expect(typeof page1.nextPageToken).toBe('string');

    const second = await inject({
      method: 'GET',
      url: `/api/v1/experiments?filter=${encodeURIComponent("name LIKE 'page-%'")}&orderBy=${encodeURIComponent('name DESC')}&maxResults=2&pageToken=${page1.nextPageToken}`,
    });
    expect(second.json<{ items: { name: string }[] }>().items.map((e) => e.name)).toEqual(['page-a']);
    expect(second.json().nextPageToken).toBeUndefined();
  });

  it('takes orderBy repeated', async () => {
    const res = await inject({
      method: 'GET',
      url: `/api/v1/experiments?filter=${encodeURIComponent("name LIKE 'page-%'")}&orderBy=${encodeURIComponent('name ASC')}&orderBy=${encodeURIComponent('creation_time DESC')}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ items: { name: string }[] }>().items.map((e) => e.name)).toEqual(['page-a', 'page-b', 'page-c']);
  });

  it("refuses a bad filter with the parser's message", async () => {
    const res = await inject({ method: 'GET', url: `/api/v1/experiments?filter=${encodeURIComponent('name ~~ 3')}` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    expect(res.json().error.message).toMatch(/filter/);
    expect(res.json().error.message).toMatch(/position/);
  });

  it('refuses unknown query parameters and out-of-range page sizes', async () => {
    const unknown = await inject({ method: 'GET', url: '/api/v1/experiments?colour=blue' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toBe('querystring/colour is not a known field');
    const big = await inject({ method: 'GET', url: '/api/v1/experiments?maxResults=50001' });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.message).toContain('querystring/maxResults');
  });

  it('renames, deletes, lists deleted and restores', async () => {
    const id = await fx.experiment('to-rename');
    const renamed = await inject({ method: 'PATCH', url: `/api/v1/experiments/${id}`, payload: { name: 'renamed' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ experimentId: id, name: 'renamed' });

    const deleted = await inject({ method: 'DELETE', url: `/api/v1/experiments/${id}` });
    expect(deleted.statusCode).toBe(204);
    expect(deleted.body).toBe('');
    expect((await inject({ method: 'GET', url: `/api/v1/experiments/${id}` })).json().lifecycleStage).toBe('deleted');
    const onlyDeleted = await inject({ method: 'GET', url: '/api/v1/experiments?viewType=DELETED_ONLY' });
    expect(onlyDeleted.json<{ items: { experimentId: string }[] }>().items.map((e) => e.experimentId)).toEqual([id]);

    const restored = await inject({ method: 'POST', url: `/api/v1/experiments/${id}/restore` });
    expect(restored.statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: `/api/v1/experiments/${id}` })).json().lifecycleStage).toBe('active');
  });

  it('sets, overwrites and deletes tags (keys may contain a slash)', async () => {
    const id = await fx.experiment('tagged');
    const key = encodeURIComponent('owner/team');
    expect(
      (await inject({ method: 'PUT', url: `/api/v1/experiments/${id}/tags/${key}`, payload: { value: 'a' } }))
        .statusCode,
    ).toBe(204);
    expect(
      (await inject({ method: 'PUT', url: `/api/v1/experiments/${id}/tags/${key}`, payload: { value: 'b' } }))
        .statusCode,
    ).toBe(204);
    expect((await inject({ method: 'GET', url: `/api/v1/experiments/${id}` })).json().tags).toEqual([
      { key: 'owner/team', value: 'b' },
    ]);

    expect((await inject({ method: 'DELETE', url: `/api/v1/experiments/${id}/tags/${key}` })).statusCode).toBe(204);
    expect((await inject({ method: 'GET', url: `/api/v1/experiments/${id}` })).json().tags).toEqual([]);
  });

  it('refuses a tag body without a value', async () => {
    const id = await fx.experiment('tag-body');
    const res = await inject({ method: 'PUT', url: `/api/v1/experiments/${id}/tags/k`, payload: { val: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toContain('body/value is required');
    expect(res.json().error.message).toContain('body/val is not a known field');
  });
});
