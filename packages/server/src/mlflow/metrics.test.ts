import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sampleBulkSteps } from './metrics.js';
import { listOf, startMlflowTestApp, type MlflowTestApp } from './test-support.js';

let t: MlflowTestApp;
let runA: string;
let runB: string;

beforeEach(async () => {
  t = await startMlflowTestApp();
  const create = async (): Promise<string> =>
    (await t.post('/runs/create', { experiment_id: '0' })).json.run.info.run_id as string;
  runA = await create();
  runB = await create();
  await t.post('/runs/log-batch', {
    run_id: runA,
    metrics: Array.from({ length: 10 }, (_, step) => ({
      key: 'loss',
      value: 1 / (step + 1),
      timestamp: 1717000000000 + step,
      step,
    })),
  });
  await t.post('/runs/log-batch', {
    run_id: runB,
    metrics: Array.from({ length: 5 }, (_, step) => ({
      key: 'loss',
      value: step,
      timestamp: 1717000000000 + step,
      step,
    })),
  });
});
afterEach(async () => {
  await t.close();
});

describe('metrics/get-history', () => {
  it('returns the whole history when max_results is absent', async () => {
    const res = await t.get('/metrics/get-history', { run_id: runA, metric_key: 'loss' });
    expect(res.status).toBe(200);
    expect(res.json.metrics).toHaveLength(10);
    expect(res.json.metrics[0]).toEqual({ key: 'loss', value: 1, timestamp: 1717000000000, step: 0 });
    expect(res.json.metrics[9]).toEqual({ key: 'loss', value: 0.1, timestamp: 1717000000009, step: 9 });
    expect(res.json).not.toHaveProperty('next_page_token');
  });

  it('pages with max_results and page_token', async () => {
    const steps: number[] = [];
    let token: string | undefined;
    do {
      const res = await t.get('/metrics/get-history', {
        run_id: runA,
        metric_key: 'loss',
        max_results: 4,
        ...(token ? { page_token: token } : {}),
      });
      expect(res.status).toBe(200);
      steps.push(...listOf<{ step: number }>(res.json.metrics).map((m) => m.step));
      token = res.json.next_page_token;
    } while (token !== undefined);
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('accepts run_uuid (the npm mlflow client sends both)', async () => {
    const res = await t.get('/metrics/get-history', { run_uuid: runB, metric_key: 'loss' });
    expect(res.json.metrics).toHaveLength(5);
  });

  it('returns NaN as "NaN"', async () => {
    await t.post('/runs/log-metric', { run_id: runB, key: 'odd', value: 'NaN', timestamp: 5, step: 1 });
    const res = await t.get('/metrics/get-history', { run_id: runB, metric_key: 'odd' });
    expect(res.json.metrics).toEqual([{ key: 'odd', value: 'NaN', timestamp: 5, step: 1 }]);
  });

  it('returns {} for a metric never logged and requires metric_key', async () => {
    expect((await t.get('/metrics/get-history', { run_id: runA, metric_key: 'nothing' })).json).toEqual({});
    const res = await t.get('/metrics/get-history', { run_id: runA });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain("'metric_key'");
  });

  it('answers a missing run with 404', async () => {
    const res = await t.get('/metrics/get-history', { run_id: '0'.repeat(32), metric_key: 'loss' });
    expect(res.status).toBe(404);
    expect(res.json.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});

describe('metrics/get-history-bulk (the web UI’s helper)', () => {
  it('returns the whole history of several runs under /ajax-api, runs in id order, and MLflow’s messages', async () => {
    const res = await t.get(
      '/metrics/get-history-bulk',
      { run_id: [runB, runA], metric_key: 'loss', max_results: 12 },
      { root: '/ajax-api/2.0' },
    );
    expect(res.status).toBe(200);
    const rows = listOf<{ run_id: string; step: number }>(res.json.metrics);
    const [first, second] = [runA, runB].sort();
    const firstCount = first === runA ? 10 : 5;
    expect(rows.slice(0, firstCount).every((m) => m.run_id === first)).toBe(true);
    expect(rows).toHaveLength(12);
    expect(rows[firstCount]?.run_id).toBe(second);
    const none = await t.get('/metrics/get-history-bulk', { metric_key: 'loss' }, { root: '/ajax-api/2.0' });
    expect(none.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'GetMetricHistoryBulk request must specify at least one run_id.',
    });
  });
});

describe('metrics/get-history-bulk-interval', () => {
  it('returns the metric of several runs, each point with its run_id', async () => {
    const res = await t.get('/metrics/get-history-bulk-interval', { run_ids: [runA, runB], metric_key: 'loss' });
    expect(res.status).toBe(200);
    const byRun = (id: string): number[] =>
      listOf<{ run_id: string; step: number }>(res.json.metrics)
        .filter((m) => m.run_id === id)
        .map((m) => m.step);
    expect(byRun(runA)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(byRun(runB)).toEqual([0, 1, 2, 3, 4]);
    expect(res.json.metrics[0]).toEqual({ key: 'loss', value: 1, timestamp: 1717000000000, step: 0, run_id: runA });
  });

  it('keeps to the step interval and samples down to max_results per run', async () => {
    const ranged = await t.get('/metrics/get-history-bulk-interval', {
      run_ids: runA,
      metric_key: 'loss',
      start_step: 2,
      end_step: 4,
    });
    expect(listOf<{ step: number }>(ranged.json.metrics).map((m) => m.step)).toEqual([2, 3, 4]);
    const sampled = await t.get('/metrics/get-history-bulk-interval', {
      'run_ids[]': runA,
      metric_key: 'loss',
      max_results: 2,
    });
    expect(sampled.status).toBe(200);
    expect(sampled.json.metrics.length).toBeGreaterThan(0);
    expect(sampled.json.metrics.length).toBeLessThan(10);
  });

  it('samples as MLflow does: evenly spaced steps plus the last, every row at a chosen step, across runs', async () => {
    // A second point at step 2 of run A: both rows come back.
    await t.post('/runs/log-metric', { run_id: runA, key: 'loss', value: 7, timestamp: 1717000000100, step: 2 });
    const res = await t.get('/metrics/get-history-bulk-interval', {
      run_ids: [runA, runB],
      metric_key: 'loss',
      max_results: 5,
    });
    expect(res.status).toBe(200);
    const byRun = (id: string): number[] =>
      listOf<{ run_id: string; step: number }>(res.json.metrics)
        .filter((m) => m.run_id === id)
        .map((m) => m.step);
    expect(byRun(runA)).toEqual([0, 2, 2, 4, 6, 8, 9]);
    expect(byRun(runB)).toEqual([0, 2, 4]);
    expect(sampleBulkSteps([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]], 5)).toEqual(new Set([0, 2, 4, 6, 8, 9]));
    expect(sampleBulkSteps([[0, 10, 20, 30], [5]], 2, 5, 30)).toEqual(new Set([5, 30, 20]));
  });

  it('refuses bad intervals and limits with MLflow’s messages', async () => {
    const zero = await t.get('/metrics/get-history-bulk-interval', {
      run_ids: runA,
      metric_key: 'loss',
      max_results: 0,
    });
    expect(zero.status).toBe(400);
    expect(zero.json).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: 'max_results must be between 1 and 2500.',
    });
    const oneSided = await t.get('/metrics/get-history-bulk-interval', {
      run_ids: runA,
      metric_key: 'loss',
      start_step: 2,
    });
    expect(oneSided.status).toBe(400);
    expect(oneSided.json.message).toBe('If either start step or end step are specified, both must be specified.');
    const reversed = await t.get('/metrics/get-history-bulk-interval', {
      run_ids: runA,
      metric_key: 'loss',
      start_step: 5,
      end_step: 1,
    });
    expect(reversed.json.message).toBe('end_step must be greater than start_step. Found start_step=5 and end_step=1.');
    const none = await t.get('/metrics/get-history-bulk-interval', { metric_key: 'loss' });
    expect(none.status).toBe(400);
    const tooMany = await t.get('/metrics/get-history-bulk-interval', {
      run_ids: Array.from({ length: 101 }, (_, i) => `r${i}`),
      metric_key: 'loss',
    });
    expect(tooMany.json.message).toBe(
      'GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.',
    );
    const big = await t.get('/metrics/get-history-bulk-interval', {
      run_ids: runA,
      metric_key: 'loss',
      max_results: 2501,
    });
    expect(big.status).toBe(400);
    expect(big.json.error_code).toBe('INVALID_PARAMETER_VALUE');
  });
});
