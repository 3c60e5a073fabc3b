import { afterEach, describe, expect, it } from 'vitest';
import { AliasFollower } from './hot-swap.js';
import { startServing, type RunningServing } from './serve.js';
import { logisticPredictor } from './testing/logistic-predictor.js';

const row = { distance: 1200, hour: 18, origin: 'ORD' };
let running: RunningServing | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** Sends requests from `clients` loops until `stop` resolves; records status and answering version. */
async function steadyLoad(
  url: string,
  clients: number,
  stop: Promise<void>,
): Promise<{ status: number; version: string | null; at: number }[]> {
  const seen: { status: number; version: string | null; at: number }[] = [];
  let done = false;
  void stop.then(() => (done = true));
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (!done) {
        try {
          const res = await fetch(url + '/predict', { method: 'POST', body: JSON.stringify(row) });
          await res.arrayBuffer();
          seen.push({ status: res.status, version: res.headers.get('x-model-version'), at: Date.now() });
        } catch {
          seen.push({ status: 0, version: null, at: Date.now() });
        }
      }
    }),
  );
  return seen;
}

describe('hot-swap', () => {
  it('moves the alias under steady load: zero failed requests, the new version answers within seconds', async () => {
    let aliasVersion = '1';
    const loads: string[] = [];
    running = await startServing({ champion: logisticPredictor({ version: '1' }), alias: 'champion', port: 0 });
    // Events: a tick whenever the test moves the alias (the registry stream does this in production).
    let wake: (() => void) | undefined;
    async function* events(signal: AbortSignal): AsyncIterable<unknown> {
      while (!signal.aborted) {
        await new Promise<void>((r) => {
          wake = r;
          signal.addEventListener('abort', () => r(), { once: true });
        });
        yield 'alias.set';
      }
    }
    const follower = new AliasFollower({
      running,
      role: 'champion',
      alias: 'champion',
      resolveVersion: () => Promise.resolve(aliasVersion),
      load: async (v) => {
        loads.push(v);
        await new Promise((r) => setTimeout(r, 300)); // a slow load must not stall traffic
        return logisticPredictor({ version: v, seed: 11 });
      },
      events,
      pollMs: 60_000,
    });
    follower.start();
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const load = steadyLoad(running.url, 8, stopped);
    await new Promise((r) => setTimeout(r, 500));
    const moved = Date.now();
    aliasVersion = '2';
    wake?.();
    // Wait until version 2 answers, then keep the load on for a while.
    const deadline = Date.now() + 10_000;
    while (running.router.champion.version !== '2' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 500));
    stop();
    const seen = await load;
    await follower.stop();
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    const firstNew = seen.find((s) => s.version === '2');
    expect(firstNew).toBeDefined();
    expect(firstNew!.at - moved).toBeLessThan(5000);
    expect(seen.filter((s) => s.at > firstNew!.at + 100).every((s) => s.version === '2')).toBe(true);
    expect(loads).toEqual(['2']);
    const metrics = await (await fetch(running.url + '/metrics')).text();
    expect(metrics).toMatch(/trestle_serving_model_info\{model="flights-delay",version="2",role="champion"\} 1/);
    expect(metrics).not.toMatch(/version="1",role="champion"/);
    expect(metrics).toMatch(/trestle_serving_model_swaps_total\{result="ok"\} 1/);
  });

  it('polling finds a move without events; a version that fails to load is not swapped in', async () => {
    let aliasVersion = '1';
    running = await startServing({ champion: logisticPredictor({ version: '1' }), port: 0 });
    const follower = new AliasFollower({
      running,
      role: 'champion',
      alias: 'champion',
      resolveVersion: () => Promise.resolve(aliasVersion),
      load: (v) =>
        v === '2'
          ? Promise.reject(new Error('model.onnx is corrupt'))
          : Promise.resolve(logisticPredictor({ version: v })),
      pollMs: 50,
    });
    follower.start();
    aliasVersion = '2';
    await new Promise((r) => setTimeout(r, 400));
    expect(running.router.champion.version).toBe('1');
    expect(
      (await fetch(running.url + '/predict', { method: 'POST', body: JSON.stringify(row) })).headers.get(
        'x-model-version',
      ),
    ).toBe('1');
    aliasVersion = '3';
    const deadline = Date.now() + 5000;
    while (running.router.champion.version !== '3' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(running.router.champion.version).toBe('3');
    await follower.stop();
  });
});

describe('traffic split', () => {
  it('a 30% canary sends about 30% of requests to the challenger, each response names its version', async () => {
    running = await startServing({
      champion: logisticPredictor({ version: '1' }),
      challenger: logisticPredictor({ version: '2', seed: 11 }),
      traffic: { kind: 'canary', percent: 30 },
      port: 0,
    });
    const versions: string[] = [];
    for (let i = 0; i < 400; i++) {
      const res = await fetch(running.url + '/predict', { method: 'POST', body: JSON.stringify(row) });
      const body = (await res.json()) as { model: { version: string } };
      expect(body.model.version).toBe(res.headers.get('x-model-version'));
      versions.push(body.model.version);
    }
    const share = versions.filter((v) => v === '2').length / versions.length;
    expect(share).toBeGreaterThan(0.2);
    expect(share).toBeLessThan(0.4);
  });

  it('shadow mode: only the champion answers, the challenger predicts a copy of every request', async () => {
    const shadowCalls: number[] = [];
    const challenger = logisticPredictor({ version: '2', seed: 11 });
    const events: { version: string; shadow: boolean; requestId: string }[] = [];
    running = await startServing({
      champion: logisticPredictor({ version: '1' }),
      challenger: { ...challenger, predict: (c, n) => (shadowCalls.push(n), challenger.predict(c, n)) },
      traffic: { kind: 'shadow' },
      port: 0,
      batching: { enabled: false },
      sink: () => ({
        record: (e) => events.push({ version: e.runtime.version, shadow: e.shadow, requestId: e.requestId }),
        state: () => ({ buffered: 0, spoolRecords: 0, spoolBytes: 0 }),
        close: () => Promise.resolve(),
      }),
    });
    for (let i = 0; i < 20; i++) {
      const res = await fetch(running.url + '/predict', {
        method: 'POST',
        headers: { 'x-request-id': `r${i}` },
        body: JSON.stringify(row),
      });
      expect(res.headers.get('x-model-version')).toBe('1');
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(shadowCalls).toHaveLength(20);
    expect(events.filter((e) => e.shadow).map((e) => e.version)).toEqual(Array(20).fill('2'));
    expect(events.filter((e) => !e.shadow).map((e) => e.requestId)).toEqual(
      Array.from({ length: 20 }, (_, i) => `r${i}`),
    );
  });
});
