import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';
import { MAX_POINTS } from '@trestle/core/rest';

type StepPage = { items: { step: number }[]; nextPageToken?: string };

describe('metrics routes', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => {
    await fx.close();
  });
  const inject = (options: InjectOptions) => fx.app.inject(options);
  const logMetrics = async (runId: string, metrics: object[]) => {
    const res = await inject({ method: 'POST', url: `/api/v1/runs/${runId}/batch`, payload: { metrics } });
    expect(res.statusCode).toBe(204);
  };

  it('round-trips NaN and ±Infinity as strings', async () => {
    const { runId } = await fx.run();
    await logMetrics(runId, [
      { key: 'loss', value: 'NaN', timestamp: 1, step: 0 },
      { key: 'loss', value: 'Infinity', timestamp: 2, step: 1 },
      { key: 'loss', value: '-Infinity', timestamp: 3, step: 2 },
      { key: 'loss', value: 0.25, timestamp: 4, step: 3 },
    ]);
    // The store really holds numbers, not strings.
    const stored = await fx.stores.metadata.getMetricHistory(runId, 'loss');
    expect(stored.items.map((m) => m.value)).toEqual([NaN, Infinity, -Infinity, 0.25]);

    const res = await inject({ method: 'GET', url: `/api/v1/runs/${runId}/metrics/loss/history` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).not.toContain('null');
    expect(res.json().items).toEqual([
      { key: 'loss', value: 'NaN', timestamp: 1, step: 0 },
      { key: 'loss', value: 'Infinity', timestamp: 2, step: 1 },
      { key: 'loss', value: '-Infinity', timestamp: 3, step: 2 },
      { key: 'loss', value: 0.25, timestamp: 4, step: 3 },
    ]);
  });

  it('refuses other strings as metric values', async () => {
    const { runId } = await fx.run();
    const res = await inject({
      method: 'POST',
      url: `/api/v1/runs/${runId}/batch`,
      payload: { metrics: [{ key: 'loss', value: 'nan', timestamp: 1 }] },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe('body/metrics/0/value must be number or "NaN" or "Infinity" or "-Infinity"');
  });

  it('pages a history', async () => {
    const { runId } = await fx.run();
    await logMetrics(
      runId,
      Array.from({ length: 5 }, (_, step) => ({ key: 'acc', value: step / 10, timestamp: 1000 + step, step })),
    );
    const first = (
      await inject({ method: 'GET', url: `/api/v1/runs/${runId}/metrics/acc/history?maxResults=3` })
    ).json<StepPage>();
    expect(first.items.map((m) => m.step)).toEqual([0, 1, 2]);
    const second = (
      await inject({
        method: 'GET',
        url: `/api/v1/runs/${runId}/metrics/acc/history?maxResults=3&pageToken=${first.nextPageToken}`,
      })
    ).json<StepPage>();
    expect(second.items.map((m) => m.step)).toEqual([3, 4]);
    expect(second.nextPageToken).toBeUndefined();
  });

  it('answers 404 for the history of an unknown run', async () => {
    const res = await inject({ method: 'GET', url: `/api/v1/runs/${'a'.repeat(32)}/metrics/acc/history` });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  describe('downsampled', () => {
    let runId: string;
    const steps = 20_000;
    beforeAll(async () => {
      ({ runId } = await fx.run());
      for (let start = 0; start < steps; start += 1000) {
        await logMetrics(
          runId,
          Array.from({ length: 1000 }, (_, i) => ({
            key: 'loss',
            value: start + i === 12_345 ? 1e6 : Math.sin(start + i),
            timestamp: 1,
            step: start + i,
          })),
        );
      }
    });

    it('returns a bounded number of points that keeps spikes', async () => {
      const res = await inject({ method: 'GET', url: `/api/v1/runs/${runId}/metrics/loss/downsampled?points=100` });
      expect(res.statusCode).toBe(200);
      const items = res.json().items as { value: number; step: number }[];
      expect(items.length).toBeGreaterThan(10);
      expect(items.length).toBeLessThanOrEqual(100);
      expect(items.map((m) => m.value)).toContain(1e6);
    });

    it('defaults to about 1000 points and honours the step range', async () => {
      const all = (await inject({ method: 'GET', url: `/api/v1/runs/${runId}/metrics/loss/downsampled` })).json().items;
      expect(all.length).toBeGreaterThan(100);
      expect(all.length).toBeLessThanOrEqual(1000);
      const ranged = (
        await inject({
          method: 'GET',
          url: `/api/v1/runs/${runId}/metrics/loss/downsampled?points=50&startStep=100&endStep=199`,
        })
      ).json().items as { step: number }[];
      expect(ranged.length).toBeGreaterThan(0);
      expect(ranged.every((m) => m.step >= 100 && m.step <= 199)).toBe(true);
    });

    it(`refuses more than ${MAX_POINTS} points`, async () => {
      const res = await inject({
        method: 'GET',
        url: `/api/v1/runs/${runId}/metrics/loss/downsampled?points=${MAX_POINTS + 1}`,
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toBe(`querystring/points must be <= ${MAX_POINTS}`);
    });
  });
});
