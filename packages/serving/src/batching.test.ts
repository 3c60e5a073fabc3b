import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { startServing, type RunningServing } from './serve.js';
import { logisticPredictor } from './testing/logistic-predictor.js';
import type { Predictor } from './predictor.js';

const row = { distance: 1200, hour: 18, origin: 'ORD' };
let running: RunningServing | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** Wraps a predictor to record the size of every predict call. */
function recording(p: Predictor, calls: number[]): Predictor {
  return { ...p, predict: (c, n) => (calls.push(n), p.predict(c, n)) };
}

const predictOnce = (url: string, body: unknown = row) =>
  fetch(url + '/predict', { method: 'POST', body: JSON.stringify(body) });

describe('adaptive micro-batching', () => {
  it('coalesces concurrent requests into batches and gives each its own rows back', async () => {
    const calls: number[] = [];
    running = await startServing({
      champion: recording(logisticPredictor({ delayMs: 20 }), calls),
      port: 0,
      batching: { maxConcurrent: 1 },
    });
    const hours = Array.from({ length: 40 }, (_, i) => i % 24);
    const answers = await Promise.all(
      hours.map((hour) =>
        predictOnce(running!.url, { ...row, hour }).then(
          (r) => r.json() as Promise<{ predictions: { probability: number }[] }>,
        ),
      ),
    );
    expect(calls.reduce((a, b) => a + b, 0)).toBe(40);
    expect(calls.length).toBeLessThan(20);
    expect(Math.max(...calls)).toBeGreaterThan(1);
    // Each request got the prediction for its own row, not a neighbour's.
    const alone = logisticPredictor();
    for (let i = 0; i < hours.length; i++) {
      const want = (
        await alone.predict({ distance: Float64Array.of(1200), hour: Float64Array.of(hours[i]!), origin: ['ORD'] }, 1)
      )['probability'] as Float64Array;
      expect(answers[i]!.predictions[0]!.probability).toBeCloseTo(want[0]!, 12);
    }
  });

  it('answers a lone request at once (no added wait) and runs one call per request when off', async () => {
    const calls: number[] = [];
    running = await startServing({
      champion: recording(logisticPredictor(), calls),
      port: 0,
      batching: { enabled: false },
    });
    await Promise.all(Array.from({ length: 10 }, () => predictOnce(running!.url)));
    expect(calls).toEqual(Array(10).fill(1));
  });

  it('a full queue answers 503 with Retry-After, and the server recovers', async () => {
    running = await startServing({
      champion: logisticPredictor({ delayMs: 200 }),
      port: 0,
      batching: { maxQueueRows: 8, maxConcurrent: 1, maxBatchRows: 4 },
    });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () =>
        predictOnce(running!.url).then(async (r) => ({
          status: r.status,
          retry: r.headers.get('retry-after'),
          body: (await r.json()) as { error: { message: string } },
        })),
      ),
    );
    const refused = statuses.filter((s) => s.status === 503);
    expect(statuses.filter((s) => s.status === 200).length).toBeGreaterThanOrEqual(8);
    expect(refused.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s.status === 200 || s.status === 503)).toBe(true);
    expect(refused[0]!.retry).toBe('1');
    expect(refused[0]!.body.error.message).toMatch(/at capacity/);
    expect((await predictOnce(running.url)).status).toBe(200);
    const big = await predictOnce(running.url, Array(9).fill(row));
    expect(big.status).toBe(413);
  });

  it('by default, a load test of 64 clients sending 100 rows each and a 10,000-row request are all answered', async () => {
    running = await startServing({ champion: logisticPredictor({ delayMs: 5 }), port: 0 });
    const hundred = Array(100).fill(row);
    const statuses = await Promise.all(
      Array.from({ length: 64 }, () => predictOnce(running!.url, hundred).then((r) => r.status)),
    );
    expect(statuses).toEqual(Array(64).fill(200));
    const big = await predictOnce(running.url, Array(10_000).fill(row));
    expect(big.status).toBe(200);
    expect(((await big.json()) as { predictions: unknown[] }).predictions).toHaveLength(10_000);
  });
});

describe('shutdown', () => {
  it('drains: in-flight requests finish, new connections are refused', async () => {
    running = await startServing({ champion: logisticPredictor({ delayMs: 300 }), port: 0 });
    const url = running.url;
    const inflight = Array.from({ length: 5 }, () => predictOnce(url).then((r) => r.status));
    await new Promise((r) => setTimeout(r, 100));
    const closing = running.close();
    expect(running.app.ready).toBe(false);
    expect(await Promise.all(inflight)).toEqual([200, 200, 200, 200, 200]);
    await closing;
    await expect(fetch(url + '/ping')).rejects.toThrow();
    running = undefined;
  });
});

describe('/metrics', () => {
  it('exposes requests, latency, batches, queue, model and predictions, and passes promtool', async () => {
    running = await startServing({ champion: logisticPredictor({ version: '5' }), port: 0 });
    await Promise.all(Array.from({ length: 6 }, () => predictOnce(running!.url)));
    await predictOnce(running.url, { nope: 1 });
    const res = await fetch(running.url + '/metrics');
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/trestle_serving_requests_total\{route="predict",status="200"\} 6/);
    expect(text).toMatch(/trestle_serving_requests_total\{route="predict",status="400"\} 1/);
    expect(text).toMatch(/trestle_serving_request_duration_seconds_count\{route="predict"\} 7/);
    expect(text).toMatch(/trestle_serving_batch_rows_sum 6/);
    expect(text).toMatch(/trestle_serving_queue_rows 0/);
    expect(text).toMatch(/trestle_serving_model_info\{model="flights-delay",version="5",role="champion"\} 1/);
    expect(text).toMatch(/trestle_serving_predictions_total\{version="5",class="[01]"\} 6/);
    expect(text).toMatch(/trestle_serving_prediction_probability_count\{version="5"\} 6/);
    expect(text).toMatch(/trestle_serving_log_buffer_records 0/);
    expect(text).toMatch(/trestle_serving_log_spool_bytes 0/);
    const promtool = '/usr/bin/promtool';
    const dir = await mkdtemp(join(tmpdir(), 'serving-metrics-'));
    await writeFile(join(dir, 'metrics.txt'), text);
    try {
      await promisify(execFile)('test', ['-x', promtool]);
    } catch {
      if (process.env['CI'] === 'true')
        throw new Error('promtool is missing; .ci/run installs the Debian prometheus package');
      console.warn('skipping the promtool check: /usr/bin/promtool is missing (apt-get install prometheus)');
      return;
    }
    const check = await promisify(execFile)('sh', [
      '-c',
      `${promtool} check metrics < ${join(dir, 'metrics.txt')}`,
    ]).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(check.out).toBe('');
    expect(check.code).toBe(0);
  });
});
