import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireRun } from '@trestle/core/rest';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';

describe('POST /api/v1/runs/:runId/kill', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  const createRun = async (): Promise<string> => {
    const res = await fx.app.inject({
      method: 'POST',
      url: '/api/v1/runs',
      payload: { experimentId: await fx.experiment(), startTime: 1_700_000_000_000 },
    });
    return res.json<WireRun>().info.runId;
  };
  const kill = (runId: string) => fx.app.inject({ method: 'POST', url: `/api/v1/runs/${runId}/kill` });

  it('marks a RUNNING run KILLED with an end time, once', async () => {
    const runId = await createRun();
    const before = Date.now();
    const res = await kill(runId);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ killed: boolean; run: { status: string; endTime: number } }>();
    expect(body.killed).toBe(true);
    expect(body.run.status).toBe('KILLED');
    expect(body.run.endTime).toBeGreaterThanOrEqual(before);
    const again = (await kill(runId)).json<{ killed: boolean; run: { status: string; endTime: number } }>();
    expect(again).toEqual({ killed: false, run: body.run });
  });

  it('leaves a finished run as it is', async () => {
    const runId = await createRun();
    await fx.app.inject({
      method: 'PATCH',
      url: `/api/v1/runs/${runId}`,
      payload: { status: 'FINISHED', endTime: 1_700_000_001_000 },
    });
    const body = (await kill(runId)).json<{ killed: boolean; run: { status: string; endTime: number } }>();
    expect(body.killed).toBe(false);
    expect(body.run).toMatchObject({ status: 'FINISHED', endTime: 1_700_000_001_000 });
  });

  it('answers 404 for an unknown run', async () => {
    const res = await kill('0'.repeat(32));
    expect(res.statusCode).toBe(404);
    expect(res.json<{ error: { code: string } }>().error.code).toBe('NOT_FOUND');
  });
});
