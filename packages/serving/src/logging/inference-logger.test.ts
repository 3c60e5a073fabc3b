import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { defaultBatching } from '../batcher.js';
import { ServingMetrics } from '../metrics.js';
import { ModelRuntime } from '../runtime.js';
import { startServing, type RunningServing } from '../serve.js';
import { logisticPredictor } from '../testing/logistic-predictor.js';
import { HttpControlPlane } from './control-plane.js';
import { InferenceLogger } from './inference-logger.js';

interface Received {
  path: string;
  key: string;
  body: {
    model: { name: string; version: string; alias?: string };
    columns?: {
      requestIds: string[];
      times: number[];
      latencyMs: number[];
      inputs: Record<string, unknown[]>;
      outputs: Record<string, unknown[]>;
    };
    summary?: { rows: number };
  };
}

/** An HTTP receiver on a fixed port standing in for the control plane's two monitoring routes. */
async function receiver(port: number): Promise<{ server: Server; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      got.push({
        path: req.url!,
        key: String(req.headers['idempotency-key']),
        body: JSON.parse(text) as Received['body'],
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"accepted":1,"duplicates":0}');
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { server, got };
}

/**
 * A port where the control plane is down: held by a listener that resets every connection, so
 * no other test's server can take the port meanwhile (a freed port was reused in a parallel
 * run, and that server's 404s dropped records). `release()` frees it for the receiver.
 */
async function downPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const s = createNetServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  return { port, release: () => new Promise<void>((r) => s.close(() => r())) };
}

const row = { distance: 1200, hour: 18, origin: 'ORD' };
let running: RunningServing | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function timed(url: string, n: number): Promise<{ statuses: number[]; p99: number }> {
  const statuses: number[] = [];
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await fetch(url + '/predict', { method: 'POST', body: JSON.stringify({ ...row, hour: i % 24 }) });
    await res.arrayBuffer();
    times.push(performance.now() - t0);
    statuses.push(res.status);
  }
  times.sort((a, b) => a - b);
  return { statuses, p99: times[Math.floor(n * 0.99)]! };
}

describe('inference logging', () => {
  it('with the control plane down, predictions keep their latency and no client sees an error; the spool is replayed when it returns', async () => {
    const { port, release } = await downPort();
    const spoolDir = await mkdtemp(join(tmpdir(), 'serving-spool-'));
    let logger: InferenceLogger | undefined;
    running = await startServing({
      champion: logisticPredictor({ version: '4' }),
      alias: 'champion',
      port: 0,
      sink: (metrics) =>
        (logger = new InferenceLogger({
          controlPlane: new HttpControlPlane(`http://127.0.0.1:${port}`, undefined, 500),
          spoolDir,
          flushIntervalMs: 50,
          batchRows: 100,
          runtimes: () => running!.router.all().map((r) => r.runtime),
          metrics,
        })),
    });
    const baseline = await timed(running.url, 200); // logging on, control plane down from the start
    await logger!.flush();
    const down = await timed(running.url, 300);
    expect(down.statuses.every((s) => s === 200)).toBe(true);
    expect(baseline.statuses.every((s) => s === 200)).toBe(true);
    // Latency does not degrade with the control plane away (generous bound for a shared 2-core machine).
    expect(down.p99).toBeLessThan(Math.max(25, baseline.p99 * 3));
    await logger!.flush();
    await logger!.shipWindows();
    expect(logger!.state().spoolRecords).toBe(500);
    expect((await readdir(spoolDir)).length).toBeGreaterThan(0);
    const metrics = await (await fetch(running.url + '/metrics')).text();
    expect(metrics).toMatch(/trestle_serving_log_spool_records 500/);
    expect(metrics).toMatch(/trestle_serving_log_ship_failures_total\{kind="records"\} [1-9]/);

    // The control plane returns: the spool is replayed, every record arrives once, in order.
    await release();
    const cp = await receiver(port);
    try {
      await timed(running.url, 10);
      await logger!.flush();
      await logger!.flush();
      const batches = cp.got.filter((g) => g.path === '/api/v1/inference-logs').map((g) => g.body.columns!);
      const ids = batches.flatMap((b) => b.requestIds);
      expect(ids).toHaveLength(510);
      expect(new Set(ids).size).toBe(510);
      // Shipped as columns, one value per prediction in each.
      for (const b of batches) {
        for (const values of [b.times, ...Object.values(b.inputs), ...Object.values(b.outputs)])
          expect(values).toHaveLength(b.requestIds.length);
      }
      const first = batches[0]!;
      expect(Object.fromEntries(Object.entries(first.inputs).map(([k, v]) => [k, v[0]]))).toEqual({
        distance: 1200,
        hour: 0,
        origin: 'ORD',
      });
      expect(Object.keys(first.outputs).sort()).toEqual(['label', 'probability']);
      const shipped = cp.got.filter((g) => !g.path.startsWith('/api/v1/monitoring/references/'));
      expect(shipped.every((g) => g.body.model.name === 'flights-delay' && g.body.model.version === '4')).toBe(true);
      // The control plane learns the version's reference profile (monitoring compares windows with it).
      expect(cp.got.filter((g) => g.path === '/api/v1/monitoring/references/flights-delay/4').length).toBe(1);
      const windows = cp.got.filter((g) => g.path === '/api/v1/inference-windows');
      expect(windows.map((w) => w.body.summary!.rows)).toEqual([500]);
      expect(logger!.state()).toEqual({ buffered: 0, spoolRecords: 0, spoolBytes: 0 });
      expect(await readdir(spoolDir)).toEqual([]);
    } finally {
      await running.close();
      running = undefined;
      await new Promise((r) => cp.server.close(r));
    }
  });

  it('a full spool drops the oldest records and counts them', async () => {
    const { port, release } = await downPort();
    onTestFinished(release);
    const spoolDir = await mkdtemp(join(tmpdir(), 'serving-spool-'));
    let logger: InferenceLogger | undefined;
    running = await startServing({
      champion: logisticPredictor(),
      port: 0,
      sink: (metrics) =>
        (logger = new InferenceLogger({
          controlPlane: new HttpControlPlane(`http://127.0.0.1:${port}`, undefined, 500),
          spoolDir,
          spoolMaxBytes: 40_000,
          batchRows: 50,
          flushIntervalMs: 20,
          runtimes: () => [],
          metrics,
        })),
    });
    for (let i = 0; i < 8; i++) {
      await fetch(running.url + '/predict', { method: 'POST', body: JSON.stringify(Array(100).fill(row)) });
      await logger!.flush();
    }
    const state = logger!.state();
    expect(state.spoolBytes).toBeLessThanOrEqual(40_000 + 20_000);
    expect(state.spoolRecords).toBeLessThan(800);
    const metrics = await (await fetch(running.url + '/metrics')).text();
    const dropped = Number(/trestle_serving_log_dropped_total\{reason="spool_full"\} (\d+)/.exec(metrics)?.[1]);
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + state.spoolRecords).toBe(800);
  });

  it("ships each version's predictions as columns of at most 10,000 rows, padded with null where an event lacked a column", async () => {
    const cp = await receiver(0);
    onTestFinished(() => new Promise<void>((r) => cp.server.close(() => r())));
    const port = (cp.server.address() as AddressInfo).port;
    const metrics = new ServingMetrics({
      queueRows: () => 0,
      logState: () => ({ buffered: 0, spoolRecords: 0, spoolBytes: 0 }),
    });
    const champion = new ModelRuntime(logisticPredictor({ version: '4' }), defaultBatching, metrics, 'champion');
    const challenger = new ModelRuntime(logisticPredictor({ version: '5' }), defaultBatching, metrics, undefined);
    const logger = new InferenceLogger({
      controlPlane: new HttpControlPlane(`http://127.0.0.1:${port}`, undefined, 2000),
      spoolDir: await mkdtemp(join(tmpdir(), 'serving-spool-')),
      batchRows: 1e9,
      maxBufferRows: 1e9,
      flushIntervalMs: 60_000,
      runtimes: () => [],
      metrics,
    });
    onTestFinished(() => logger.close());
    const big = 25_000;
    const event = (runtime: ModelRuntime, requestId: string, rows: number, columns: Record<string, unknown>) => ({
      runtime,
      role: 'champion' as const,
      requestId,
      time: 1000,
      latencyMs: 1.23456,
      batch: { rows, columns: columns as Record<string, Float64Array> },
      outputs: { probability: new Float64Array(rows).fill(0.25) },
      shadow: runtime === challenger,
    });
    logger.record(event(champion, 'one', 1, { distance: new Float64Array([NaN]) }));
    logger.record(event(challenger, 'shadowed', 2, { distance: new Float64Array([1, 2]) }));
    logger.record(
      event(champion, 'many', big, {
        distance: Float64Array.from({ length: big }, (_, i) => i),
        origin: Array<string>(big).fill('SFO'),
      }),
    );
    logger.record(event(champion, 'last', 1, { origin: ['ORD'] }));
    await logger.flush();

    const logs = cp.got.filter((g) => g.path === '/api/v1/inference-logs');
    // No idempotency key on inference logs: the route skips request ids it already has.
    expect(logs.every((g) => g.key === 'undefined')).toBe(true);
    const of = (version: string) => logs.filter((g) => g.body.model.version === version).map((g) => g.body.columns!);
    const four = of('4');
    const five = of('5');
    expect(four.map((c) => c.requestIds.length)).toEqual([10_000, 10_000, 5002]);
    expect(logs.filter((g) => g.body.model.version === '4').every((g) => g.body.model.alias === 'champion')).toBe(true);
    for (const c of [...four, ...five]) {
      for (const values of [c.times, ...Object.values(c.inputs), ...Object.values(c.outputs)])
        expect(values).toHaveLength(c.requestIds.length);
    }
    const ids = four.flatMap((c) => c.requestIds);
    expect(ids[0]).toBe('one');
    expect(ids[1]).toBe('many/0');
    expect(ids.at(-1)).toBe('last');
    expect(new Set(ids).size).toBe(big + 2);
    // A missing number (NaN) travels as null; a column an event lacked is null in its rows.
    expect(four[0]!.inputs['distance']!.slice(0, 3)).toEqual([null, 0, 1]);
    expect(four[0]!.inputs['origin']!.slice(0, 2)).toEqual([null, 'SFO']);
    expect(four[2]!.inputs['distance']!.slice(-2)).toEqual([big - 1, null]);
    expect(four[2]!.inputs['origin']!.slice(-2)).toEqual(['SFO', 'ORD']);
    expect(four.every((c) => c.outputs['shadow'] === undefined)).toBe(true);
    expect(five).toEqual([
      {
        requestIds: ['shadowed/0', 'shadowed/1'],
        times: [1000, 1000],
        latencyMs: [1.235, 1.235],
        inputs: { distance: [1, 2] },
        outputs: { probability: [0.25, 0.25], shadow: [true, true] },
      },
    ]);
  });

  it('under steady traffic to a slow control plane, shipments wait for a full batch instead of taking what arrived during the last round trip', async () => {
    const metrics = new ServingMetrics({
      queueRows: () => 0,
      logState: () => ({ buffered: 0, spoolRecords: 0, spoolBytes: 0 }),
    });
    const runtime = new ModelRuntime(logisticPredictor(), defaultBatching, metrics, undefined);
    const sizes: number[] = [];
    const logger = new InferenceLogger({
      controlPlane: {
        async post(_path, body) {
          sizes.push((JSON.parse(body) as { columns: { requestIds: string[] } }).columns.requestIds.length);
          await new Promise((r) => setTimeout(r, 30));
        },
        async put() {},
      },
      spoolDir: await mkdtemp(join(tmpdir(), 'serving-spool-')),
      batchRows: 200,
      flushIntervalMs: 60_000,
      runtimes: () => [],
      metrics,
    });
    onTestFinished(() => logger.close());
    // About 2 rows a millisecond: some 60 arrive during each 30 ms round trip.
    for (let i = 0; i < 1000; i++) {
      logger.record({
        runtime,
        role: 'champion',
        requestId: `r${i}`,
        time: 1000 + i,
        latencyMs: 1,
        batch: { rows: 1, columns: { distance: Float64Array.of(i), hour: Float64Array.of(1), origin: ['ORD'] } },
        outputs: { probability: Float64Array.of(0.5) },
        shadow: false,
      });
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
    }
    await logger.flush();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(1000);
    // Every shipment but the last (the flush's) holds a full batch.
    expect(sizes.slice(0, -1).every((n) => n >= 200)).toBe(true);
    expect(sizes.length).toBeLessThanOrEqual(6);
  });
});
