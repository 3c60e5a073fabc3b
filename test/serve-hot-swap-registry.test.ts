import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@trestle/core';
import { Trestle } from '@trestle/client';
import { startServer, type RunningServer } from '@trestle/server';
import { openStores, type Stores } from '@trestle/store';
import { modelsAvailable, writeTestPackage } from '../packages/serving/src/testing/model-package.js';
import { spawnServe, type ServeProcess } from './support/serve-process.js';

const available = await modelsAvailable();
if (!available) console.warn('skipping the registry hot-swap: @trestle/models (the model loader) is not in this tree');

const row = { distance: 1200, hour: 18, origin: 'ORD' };

/**
 * Hot-swap through the real registry: `trestle serve models:/flights@champion` (a child process)
 * against a real `trestle server`; the test moves the alias with the client SDK over HTTP while
 * clients keep sending requests.
 */
describe.skipIf(!available)('trestle serve follows models:/NAME@champion through the registry', () => {
  let home: string;
  let stores: Stores;
  let server: RunningServer;
  let trestle: Trestle;
  let serve: ServeProcess | undefined;
  const expected = new Map<string, number>();

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-serve-swap-'));
    const config = loadConfig({ home: join(home, 'store') }, {});
    stores = await openStores(config);
    server = await startServer({ config, stores, port: 0, logger: false, handleSignals: false, monitoring: false });
    trestle = await Trestle.connect({
      config: loadConfig({ trackingUri: server.url, home: join(home, 'client') }, {}),
    });
    const { loadModel } = await import('@trestle/models');
    // Two versions trained on different data: they predict different probabilities for `row`.
    for (const [i, seed] of [5, 9].entries()) {
      const dir = await writeTestPackage('model', seed);
      const run = await trestle.startRun({ experiment: 'serve-swap' });
      await run.logArtifact(dir, 'model');
      await run.end();
      const v = await trestle.registerModel('flights', `runs:/${run.id}/model`, {
        runId: run.id,
        ...(i === 0 ? { aliases: ['champion'] } : {}),
      });
      const model = await loadModel(dir);
      const p = (await model.predictRows([row])).outputs['probability'] as Float64Array;
      expected.set(String(v.version), p[0]!);
      await model.close();
    }
    expect(expected.get('1')).not.toBeCloseTo(expected.get('2')!, 6);
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await trestle?.close();
    await server?.close();
    await stores?.metadata.close();
    await stores?.artifacts.close();
    await rm(home, { recursive: true, force: true });
  });

  it('swaps to the new version under steady load: no failed request, then only the new predictions', async () => {
    serve = await spawnServe(['models:/flights@champion', '--no-logging'], {
      TRESTLE_HOME: join(home, 'serve'),
      TRESTLE_TRACKING_URI: server.url,
    });
    expect(serve.info.version).toBe('1');
    const url = serve.info.url;
    const seen: { status: number; version: string | null; probability: number | null; at: number }[] = [];
    let done = false;
    const clients = Array.from({ length: 8 }, async () => {
      while (!done) {
        try {
          const res = await fetch(url + '/predict', { method: 'POST', body: JSON.stringify(row) });
          const body = (await res.json()) as { predictions?: { probability: number }[] };
          seen.push({
            status: res.status,
            version: res.headers.get('x-model-version'),
            probability: body.predictions?.[0]?.probability ?? null,
            at: Date.now(),
          });
        } catch {
          seen.push({ status: 0, version: null, probability: null, at: Date.now() });
        }
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    const moved = Date.now();
    await trestle.setAlias('flights', 'champion', 2);
    const deadline = moved + 40_000;
    while (!seen.some((s) => s.version === '2') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const firstNew = seen.find((s) => s.version === '2')?.at;
    await new Promise((r) => setTimeout(r, 500));
    done = true;
    await Promise.all(clients);

    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    expect(firstNew, serve.stderr()).toBeDefined();
    // The event stream wakes serve at once; downloading, loading and warming the new version
    // beside steady load takes seconds more on a busy 2-core machine.
    expect(firstNew! - moved, serve.stderr()).toBeLessThan(30_000);
    const before = seen.filter((s) => s.at < moved);
    const after = seen.filter((s) => s.at > firstNew! + 50);
    expect(before.length).toBeGreaterThan(10);
    expect(after.length).toBeGreaterThan(10);
    for (const s of before) expect([s.version, s.probability]).toEqual(['1', expected.get('1')]);
    for (const s of after) expect([s.version, s.probability]).toEqual(['2', expected.get('2')]);
    expect(serve.stderr()).toMatch(/@champion moved: now serving version 2 \(was 1\)/);

    const metrics = await (await fetch(url + '/metrics')).text();
    expect(metrics).toMatch(/trestle_serving_model_info\{model="[^"]+",version="2",role="champion"\} 1/);
    expect(metrics).toMatch(/trestle_serving_model_swaps_total\{result="ok"\} 1/);
    expect(await serve.stop()).toBe(0);
    serve = undefined;
  }, 120_000);
});
