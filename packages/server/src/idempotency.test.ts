import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverFixture, type ServerFixture } from './testing/server-fixture.js';

describe('Idempotency-Key on v1 POST and PATCH', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => {
    await fx.close();
  });
  const inject = (options: InjectOptions) => fx.app.inject(options);
  const runsOf = async (experimentId: string): Promise<number> =>
    (await fx.stores.metadata.searchRuns({ experimentIds: [experimentId] })).items.length;

  it('acts once: the same request again gets the first answer, marked as replayed', async () => {
    const experimentId = await fx.experiment();
    const key = randomUUID();
    const create = () =>
      inject({
        method: 'POST',
        url: '/api/v1/runs',
        headers: { 'idempotency-key': key },
        payload: { experimentId, runName: 'once' },
      });
    const first = await create();
    const second = await create();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.body).toBe(first.body);
    expect(second.headers['location']).toBe(first.headers['location']);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await runsOf(experimentId)).toBe(1);
    // Without the header every request acts.
    await inject({ method: 'POST', url: '/api/v1/runs', payload: { experimentId } });
    await inject({ method: 'POST', url: '/api/v1/runs', payload: { experimentId } });
    expect(await runsOf(experimentId)).toBe(3);
  });

  it('refuses the same key with another body with 409 and a message saying what to do', async () => {
    const experimentId = await fx.experiment();
    const key = randomUUID();
    const send = (runName: string) =>
      inject({
        method: 'POST',
        url: '/api/v1/runs',
        headers: { 'idempotency-key': key },
        payload: { experimentId, runName },
      });
    expect((await send('a')).statusCode).toBe(201);
    const clash = await send('b');
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toEqual({
      error: {
        code: 'CONFLICT',
        message: `Idempotency-Key '${key}' was already used for POST /api/v1/runs with another body; send a new key with a new request`,
        details: { idempotencyKey: key },
      },
    });
    expect(await runsOf(experimentId)).toBe(1);
  });

  it('keeps no error: a request that failed is handled afresh when retried', async () => {
    const key = randomUUID();
    const payload = { name: `idem-${key.slice(0, 8)}` };
    const exists = await inject({ method: 'POST', url: '/api/v1/experiments', payload });
    expect(exists.statusCode).toBe(201);
    const send = () =>
      inject({ method: 'POST', url: '/api/v1/experiments', headers: { 'idempotency-key': key }, payload });
    const refused = await send();
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ALREADY_EXISTS');
    const experimentId = exists.json<{ experimentId: string }>().experimentId;
    await fx.stores.metadata.renameExperiment(experimentId, `${payload.name}-old`);
    const retried = await send();
    expect(retried.statusCode).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
  });

  it('scopes keys by credential, method and path: the same key elsewhere is another request', async () => {
    const experimentId = await fx.experiment();
    const key = randomUUID();
    const payload = { experimentId };
    await inject({ method: 'POST', url: '/api/v1/runs', headers: { 'idempotency-key': key }, payload });
    await inject({
      method: 'POST',
      url: '/api/v1/runs',
      headers: { 'idempotency-key': key, authorization: 'Bearer someone-else' },
      payload,
    });
    expect(await runsOf(experimentId)).toBe(2);
  });

  it('waits for a concurrent request with the same key and answers with its result', async () => {
    const experimentId = await fx.experiment();
    const key = randomUUID();
    const send = () =>
      inject({ method: 'POST', url: '/api/v1/runs', headers: { 'idempotency-key': key }, payload: { experimentId } });
    const answers = await Promise.all([send(), send(), send()]);
    expect(answers.map((a) => a.statusCode)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((a) => a.json<{ info: { runId: string } }>().info.runId)).size).toBe(1);
    expect(await runsOf(experimentId)).toBe(1);
  });

  it('refuses a malformed key with 400', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/v1/runs',
      headers: { 'idempotency-key': 'x'.repeat(300) },
      payload: { experimentId: '0' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/Idempotency-Key header must be 1 to 255 visible ASCII characters/);
  });
});
