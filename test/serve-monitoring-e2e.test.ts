import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, seededRandom } from '@trestle/core';
import { Trestle } from '@trestle/client';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { modelsAvailable, writeTestPackage } from '../packages/serving/src/testing/model-package.js';
import { runCli } from './support/cli.js';
import { spawnServe, type ServeProcess } from './support/serve-process.js';

const available = await modelsAvailable();
if (!available) console.warn('skipping serve → monitoring: @trestle/models (the model loader) is not in this tree');

interface Result {
  start: number;
  rows: number;
  labelled: number;
  datasetDrift: boolean;
  drift: { features: { name: string; drifted: boolean }[] } | null;
  performance: { accuracy: { value: number } } | null;
}

/**
 * Serving feeds monitoring, end to end with real processes: `trestle serve` (a child) logs every
 * prediction and ships window summaries to a real `trestle server`, whose window job computes
 * drift against the package's reference profile; labels posted to `/api/v1/feedback` (some
 * BEFORE their predictions were shipped) become performance; `trestle monitor status` shows it.
 */
describe.skipIf(!available)('trestle serve → trestle server → trestle monitor', () => {
  let home: string;
  let stores: Stores;
  let server: RunningServer;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-serve-monitor-'));
    const config = loadConfig({ home: join(home, 'store') }, {});
    stores = await openStores(config);
    server = await startServer({
      config,
      stores,
      port: 0,
      logger: false,
      handleSignals: false,
      monitoring: { intervalMs: 300, graceMs: 500 },
    });
    const trestle = await Trestle.connect({
      config: loadConfig({ trackingUri: server.url, home: join(home, 'client') }, {}),
    });
    const dir = await writeTestPackage('model', 5);
    const run = await trestle.startRun({ experiment: 'serve-monitor' });
    await run.logArtifact(dir, 'model');
    await run.end();
    await trestle.registerModel('flights', `runs:/${run.id}/model`, { runId: run.id, aliases: ['champion'] });
    await trestle.close();
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await server?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('logs traffic, computes drift per window, joins labels sent before and after, and shows them', async () => {
    const env = { TRESTLE_HOME: join(home, 'serve'), TRESTLE_TRACKING_URI: server.url };
    const feedback = async (records: { requestId: string; label: string }[]) => {
      const res = await fetch(`${server.url}/api/v1/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { matched: number; unknown: number; pending?: number };
    };

    // The first 40 labels arrive before serving has even seen the requests.
    const n = 240;
    const early = 40;
    const random = seededRandom(3);
    const earlyLabels = Array.from({ length: early }, (_, i) => ({ requestId: `req-${i}`, label: '1' }));
    expect(await feedback(earlyLabels)).toMatchObject({ matched: 0, unknown: early, pending: early });

    serve = await spawnServe(['models:/flights@champion', '--window', '1'], env);
    expect(serve.info.logging).toBe(server.url);
    // Traffic from another season: long flights late in the day (training: 100–2500 miles, any hour).
    const predicted: string[] = [];
    for (let i = 0; i < n; i++) {
      const row = { distance: 2000 + Math.round(random() * 500), hour: 18 + Math.floor(random() * 6), origin: 'ORD' };
      const res = await fetch(serve.info.url + '/predict', {
        method: 'POST',
        headers: { 'x-request-id': `req-${i}` },
        body: JSON.stringify(row),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe(`req-${i}`);
      predicted.push(((await res.json()) as { predictions: { label: string }[] }).predictions[0]!.label);
    }
    // Drained: the last window and the buffered logs are shipped before it exits.
    expect(await serve.stop()).toBe(0);
    serve = undefined;

    // Late labels for the rest: every fourth disagrees with the prediction.
    const flip = (l: string) => (l === '1' ? '0' : '1');
    const late = predicted
      .slice(early)
      .map((p, j) => ({ requestId: `req-${early + j}`, label: j % 4 === 0 ? flip(p) : p }));
    expect(await feedback(late)).toMatchObject({ matched: n - early, unknown: 0 });
    const agree = predicted.filter((p, i) => (i < early ? p === '1' : (i - early) % 4 !== 0)).length;

    // The window job computes each window as it closes, and again when late labels change it.
    let results: Result[] = [];
    const deadline = Date.now() + 30_000;
    const labelled = () => results.reduce((s, r) => s + r.labelled, 0);
    while (Date.now() < deadline) {
      const res = await fetch(`${server.url}/api/v1/monitoring/models/flights/results?alias=champion`);
      results = ((await res.json()) as { items: Result[] }).items;
      if (labelled() === n && results.reduce((s, r) => s + r.rows, 0) === n) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(results.reduce((s, r) => s + r.rows, 0)).toBe(n);
    expect(labelled()).toBe(n);
    const accuracy = results.reduce((s, r) => s + (r.performance?.accuracy.value ?? 0) * r.labelled, 0) / n;
    expect(accuracy).toBeCloseTo(agree / n, 9);
    expect(results.some((r) => r.rows >= 50)).toBe(true);
    for (const r of results.filter((x) => x.rows >= 50)) {
      expect(r.datasetDrift).toBe(true);
      expect(r.drift!.features.filter((f) => f.drifted).map((f) => f.name)).toEqual(
        expect.arrayContaining(['distance', 'hour', 'origin']),
      );
    }

    const cliEnv = { TRESTLE_HOME: join(home, 'cli'), TRESTLE_TRACKING_URI: server.url };
    const status = await runCli(['monitor', 'status', 'flights@champion', '--json'], cliEnv);
    expect(status.code, status.stderr).toBe(0);
    const latest = JSON.parse(status.stdout) as Result & { version: string };
    const newest = results.at(-1)!;
    expect(latest).toMatchObject({ version: '1', start: newest.start, rows: newest.rows, labelled: newest.labelled });
    const text = await runCli(['monitor', 'status', 'flights@champion'], cliEnv);
    expect(text.stdout).toMatch(/flights@champion: version 1 \(@champion\)/);
    expect(text.stdout).toMatch(new RegExp(`performance: ${newest.labelled} labelled`));
  }, 120_000);
});
