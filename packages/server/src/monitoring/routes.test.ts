import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReferenceProfile, normals, rng, WindowAccumulator, type ReferenceProfile } from '@trestle/monitoring';
import { serverFixture, type ServerFixture } from '../testing/server-fixture.js';

const model = { name: 'flights', version: '1', alias: 'champion' };

function traffic(seed: number, n: number, shift: number) {
  const random = rng(seed);
  const x = normals(random, n, shift);
  return Array.from({ length: n }, (_, i) => ({
    inputs: { distance: x[i]!, origin: random() < 0.5 ? 'SFO' : random() < 0.5 ? 'LAX' : 'JFK' },
    probability: Math.min(1, Math.max(0, 0.5 + x[i]! / 4)),
  }));
}

describe('monitoring routes', () => {
  let fx: ServerFixture;
  let profile: ReferenceProfile;
  beforeAll(async () => {
    fx = await serverFixture();
    const random = rng(1);
    const n = 3000;
    const distance = normals(random, n);
    const origin = Array.from({ length: n }, () => (random() < 0.5 ? 'SFO' : random() < 0.5 ? 'LAX' : 'JFK'));
    const probability = distance.map((d) => Math.min(1, Math.max(0, 0.5 + d / 4)));
    profile = buildReferenceProfile(
      { distance, origin },
      { prediction: { task: 'binary-classification', outputs: { probability } } },
    );
  });
  afterAll(async () => {
    await fx.close();
  });

  it('takes a reference profile, logs, windows and feedback, and computes drift, quality and performance', async () => {
    const { app } = fx;
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/monitoring/references/flights/1',
      payload: { profile },
    });
    expect(put.statusCode, put.body).toBe(204);

    const rows = traffic(2, 2000, 1.2);
    const acc = new WindowAccumulator(profile);
    for (const r of rows) acc.add(r.inputs, { probability: r.probability });
    const start = Date.UTC(2026, 0, 1);
    const end = start + 3_600_000;
    // Two replicas ship half a window each.
    const half = acc.snapshot();
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/inference-windows',
        payload: { model, start, end, summary: half },
      });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toEqual({ rows: 2000 });
    }
    const records = rows.slice(0, 200).map((r, i) => ({
      requestId: `req-${i}`,
      key: `flight-${i}`,
      time: start + i * 1000,
      inputs: r.inputs,
      outputs: { probability: r.probability, label: r.probability >= 0.5 ? '1' : '0' },
      latencyMs: 2,
    }));
    // The first half as records, the second as columns (what serving sends): both are joined alike below.
    const logged = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-logs',
      payload: { model, records: records.slice(0, 100) },
    });
    expect(logged.json()).toEqual({ accepted: 100, duplicates: 0, joined: 0 });
    const rest = records.slice(100);
    const columns = {
      requestIds: rest.map((r) => r.requestId),
      times: rest.map((r) => r.time),
      latencyMs: rest.map((r) => r.latencyMs),
      keys: rest.map((r) => r.key),
      inputs: { distance: rest.map((r) => r.inputs.distance), origin: rest.map((r) => r.inputs.origin) },
      outputs: { probability: rest.map((r) => r.outputs.probability), label: rest.map((r) => r.outputs.label) },
    };
    const loggedColumns = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-logs',
      payload: { model, columns },
    });
    expect(loggedColumns.json()).toEqual({ accepted: 100, duplicates: 0, joined: 0 });

    const run1 = await app.inject({ method: 'POST', url: '/api/v1/monitoring/models/flights/run' });
    expect(run1.statusCode, run1.body).toBe(200);
    const first = run1.json<{
      computed: number;
      items: {
        rows: number;
        datasetDrift: boolean;
        labelled: number;
        performance: unknown;
        drift: { features: { name: string; drifted: boolean; method: string }[] };
      }[];
    }>();
    expect(first.computed).toBe(1);
    expect(first.items[0]!.rows).toBe(4000);
    expect(first.items[0]!.drift.features.find((f) => f.name === 'distance')).toMatchObject({
      drifted: true,
      method: 'wasserstein',
    });
    expect(first.items[0]!.labelled).toBe(0);
    expect(first.items[0]!.performance).toBeNull();

    // Late labels: half by request id, half by key, plus unknown ids and a bad record.
    const feedback = [
      ...records.slice(0, 100).map((r) => ({ requestId: r.requestId, label: r.outputs.label })),
      ...records
        .slice(100)
        .map((r, i) => ({ key: r.key, label: i % 4 === 0 ? (r.outputs.label === '1' ? '0' : '1') : r.outputs.label })),
      { requestId: 'never-logged', label: '1' },
      { label: '0' },
    ];
    const fb = await app.inject({ method: 'POST', url: '/api/v1/feedback', payload: { records: feedback } });
    expect(fb.statusCode, fb.body).toBe(200);
    expect(fb.json()).toEqual({
      matched: 200,
      unknown: 1,
      pending: 1,
      unknownIds: ['never-logged'],
      invalid: 1,
      errors: ['record 201 has neither requestId nor key'],
    });

    const run2 = await app.inject({ method: 'POST', url: '/api/v1/monitoring/models/flights/run' });
    const second = run2.json<{
      computed: number;
      items: { labelled: number; performance: { accuracy: { value: number; lower: number; upper: number } } }[];
    }>();
    expect(second.computed).toBe(1);
    expect(second.items[0]!.labelled).toBe(200);
    expect(second.items[0]!.performance.accuracy.value).toBeCloseTo(1 - 25 / 200, 10);
    expect(second.items[0]!.performance.accuracy.lower).toBeLessThan(0.875);

    const again = await app.inject({ method: 'POST', url: '/api/v1/monitoring/models/flights/run' });
    expect(again.json()).toMatchObject({ computed: 0 });

    const status = await app.inject({ url: '/api/v1/monitoring/models/flights/status?alias=champion' });
    expect(status.statusCode).toBe(200);
    expect(status.json()).toMatchObject({
      version: '1',
      alias: 'champion',
      labelled: 200,
      datasetDrift: expect.any(Boolean),
    });
    const results = await app.inject({ url: '/api/v1/monitoring/models/flights/results?version=1' });
    expect(results.json<{ items: unknown[] }>().items).toHaveLength(1);

    const metrics = await app.inject({ url: '/api/v1/monitoring/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain(
      'trestle_monitor_feature_drift_score{model="flights",version="1",alias="champion",feature="distance",method="wasserstein"}',
    );
    expect(metrics.body).toMatch(
      /trestle_monitor_performance\{model="flights",version="1",alias="champion",metric="accuracy"\} 0\.875/,
    );
  });

  it('answers bad input with 4xx and a message that says what to fix', async () => {
    const { app } = fx;
    const other = buildReferenceProfile({ distance: Float64Array.from([1, 2, 3]) });
    const wrongBins = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-windows',
      payload: { model, start: 0, end: 1000, summary: new WindowAccumulator(other).snapshot() },
    });
    expect(wrongBins.statusCode).toBe(400);
    expect(wrongBins.json().error.message).toMatch(/other bins .* reference profile of flights version 1/);
    const notSummary = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-windows',
      payload: { model, start: 0, end: 1000, summary: { format: 'trestle.window-summary', rows: -1 } },
    });
    expect(notSummary.statusCode).toBe(400);
    expect(notSummary.json().error.message).toMatch(/not a valid window summary/);
    const backwards = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-windows',
      payload: { model, start: 1000, end: 1000, summary: new WindowAccumulator(profile).snapshot() },
    });
    expect(backwards.statusCode).toBe(400);
    const badProfile = await app.inject({
      method: 'PUT',
      url: '/api/v1/monitoring/references/x/1',
      payload: { profile: { format: 'trestle.reference-profile' } },
    });
    expect(badProfile.statusCode).toBe(400);
    const noModel = await app.inject({ method: 'POST', url: '/api/v1/inference-logs', payload: { records: [] } });
    expect(noModel.statusCode).toBe(400);
    const neither = await app.inject({ method: 'POST', url: '/api/v1/inference-logs', payload: { model } });
    expect(neither.statusCode).toBe(400);
    expect(neither.json().error.message).toMatch(/either as records .* or as columns/);
    const ragged = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-logs',
      payload: { model, columns: { requestIds: ['a', 'b'], times: [1, 2], inputs: { x: [1] }, outputs: {} } },
    });
    expect(ragged.statusCode).toBe(400);
    expect(ragged.json().error.message).toMatch(/columns.inputs.x has 1 values but columns.requestIds has 2/);
    const nested = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-logs',
      payload: { model, columns: { requestIds: ['a'], times: [1], inputs: { x: [{ deep: 1 }] }, outputs: {} } },
    });
    expect(nested.statusCode).toBe(400);
    const none = await app.inject({ url: '/api/v1/monitoring/models/nothing/status' });
    expect(none.statusCode).toBe(404);
    expect(none.json().error.message).toMatch(/trestle monitor run nothing/);

    // A regression model refuses text labels, and says why.
    const reg = buildReferenceProfile(
      { a: Float64Array.from([1, 2, 3]) },
      { prediction: { task: 'regression', outputs: { value: Float64Array.from([1, 2, 3]) } } },
    );
    await app.inject({ method: 'PUT', url: '/api/v1/monitoring/references/delay/2', payload: { profile: reg } });
    await app.inject({
      method: 'POST',
      url: '/api/v1/inference-logs',
      payload: {
        model: { name: 'delay', version: '2' },
        records: [{ requestId: 'd1', time: 5, inputs: { a: 1 }, outputs: { value: 3 } }],
      },
    });
    const fb = await app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      payload: { records: [{ requestId: 'd1', label: 'late' }] },
    });
    expect(fb.json()).toMatchObject({
      matched: 0,
      invalid: 1,
      errors: [expect.stringMatching(/"late" .* is not a number.*regression/)],
    });
  });
});

describe('labels that arrive before their predictions', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await serverFixture();
  });
  afterAll(async () => {
    await fx.close();
  });

  it('are held and joined when the predictions are logged, by request id and by key; the window counts them', async () => {
    const { app } = fx;
    const m = { name: 'early', version: '1' };
    const profile = buildReferenceProfile(
      { x: Float64Array.from({ length: 200 }, (_, i) => i) },
      {
        prediction: {
          task: 'binary-classification',
          outputs: { probability: Float64Array.from({ length: 200 }, (_, i) => i / 200) },
        },
      },
    );
    await app.inject({ method: 'PUT', url: '/api/v1/monitoring/references/early/1', payload: { profile } });
    const early = await app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      payload: {
        records: [
          { requestId: 'r1', label: '1', time: 50 },
          { requestId: 'r2', label: '0' },
          { key: 'order-3', label: '1' },
          { requestId: 'never', label: '1' },
        ],
      },
    });
    expect(early.json()).toMatchObject({ matched: 0, unknown: 4, pending: 4 });
    const start = 0;
    const acc = new WindowAccumulator(profile);
    const records = [
      { requestId: 'r1', time: 10, inputs: { x: 1 }, outputs: { probability: 0.9, label: '1' } },
      { requestId: 'r2', time: 11, inputs: { x: 2 }, outputs: { probability: 0.8, label: '1' } },
      { requestId: 'r3', key: 'order-3', time: 12, inputs: { x: 3 }, outputs: { probability: 0.7, label: '1' } },
    ];
    for (const r of records) acc.add(r.inputs, { probability: r.outputs.probability });
    await app.inject({
      method: 'POST',
      url: '/api/v1/inference-windows',
      payload: { model: m, start, end: 1000, summary: acc.snapshot() },
    });
    const logged = await app.inject({ method: 'POST', url: '/api/v1/inference-logs', payload: { model: m, records } });
    expect(logged.json()).toEqual({ accepted: 3, duplicates: 0, joined: 3 });
    const run = await app.inject({ method: 'POST', url: '/api/v1/monitoring/models/early/run' });
    const items = run.json<{ items: { labelled: number; performance: { accuracy: { value: number } } }[] }>().items;
    expect(items).toHaveLength(1);
    expect(items[0]!.labelled).toBe(3);
    expect(items[0]!.performance.accuracy.value).toBeCloseTo(2 / 3, 10);
    // Joined labels are no longer held: logging the same ids again joins nothing.
    const again = await app.inject({
      method: 'POST',
      url: '/api/v1/inference-logs',
      payload: { model: { name: 'early', version: '2' }, records },
    });
    expect(again.json()).toEqual({ accepted: 3, duplicates: 0, joined: 0 });
  });
});

describe('the Grafana dashboard', () => {
  it('only queries gauges that /api/v1/monitoring/metrics exposes', async () => {
    const { readFileSync } = await import('node:fs');
    const dashboard = JSON.parse(
      readFileSync(new URL('../../../../docs/grafana-monitoring.json', import.meta.url), 'utf8'),
    ) as {
      panels: { targets: { expr: string }[] }[];
    };
    const source = readFileSync(new URL('./prometheus.ts', import.meta.url), 'utf8');
    const exposed = new Set([...source.matchAll(/'(trestle_monitor_[a-z_]+)'/g)].map((m) => m[1]!));
    const used = dashboard.panels.flatMap((p) =>
      p.targets.flatMap((t) => [...t.expr.matchAll(/trestle_monitor_[a-z_]+/g)].map((m) => m[0])),
    );
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((m) => !exposed.has(m))).toEqual([]);
  });
});
