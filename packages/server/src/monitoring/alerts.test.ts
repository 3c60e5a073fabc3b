import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore, MonitorResult } from '@trestle/core';
import { openMetadataStore } from '@trestle/store';
import { buildReferenceProfile, normals, rng, WindowAccumulator } from '@trestle/monitoring';
import { AlertEngine, parseAlertConfig, signBody, SIGNATURE_HEADER, type AlertEvent } from './alerts.js';
import { MonitorService } from './monitor-service.js';
import { WindowJob } from './window-job.js';

interface Received {
  path: string;
  body: string;
  signature: string | undefined;
}

/** A real HTTP receiver on a free local port that records what it is sent. */
async function receiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body, signature: req.headers[SIGNATURE_HEADER] as string | undefined });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((r) => server.close(() => r())) };
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function result(driftShare: number, accuracy: number | null): MonitorResult {
  return {
    name: 'flights',
    version: '1',
    alias: 'champion',
    start: 0,
    end: 1000,
    computedTime: 1,
    rows: 10,
    labelled: 5,
    driftShare,
    datasetDrift: driftShare >= 0.5,
    drift: { features: [{ name: 'distance', score: driftShare, method: 'wasserstein' }] },
    quality: { checks: [{ name: 'schema', passed: true, features: [], value: 0, limit: 0 }] },
    performance:
      accuracy === null ? null : { task: 'binary-classification', accuracy: { value: accuracy, lower: 0, upper: 1 } },
  };
}

describe('alerts', () => {
  let dir: string;
  let store: MetadataStore;
  let hook: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'trestle-alerts-'));
    store = await openMetadataStore(join(dir, 't.db'), { artifactRoot: join(dir, 'a') });
    hook = await receiver();
  });
  afterAll(async () => {
    await hook.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a signed webhook and a Slack payload once when a rule fires, nothing while it keeps firing, and a recovery notice', async () => {
    const config = parseAlertConfig({
      rules: [
        { id: 'drift', kind: 'drift_share', above: 0.4 },
        { id: 'acc', kind: 'performance', metric: 'accuracy', below: 0.8 },
      ],
      sinks: [
        { kind: 'webhook', url: `${hook.url}/hook`, secret: 's3cret' },
        { kind: 'slack', url: `${hook.url}/slack` },
        { kind: 'log' },
      ],
    });
    const logged: string[] = [];
    const engine = new AlertEngine({
      config,
      store: store.monitoring,
      log: { info: () => undefined, warn: (_o, m) => logged.push(m) },
    });
    const fired = await engine.evaluate(result(0.6, 0.9));
    expect(fired.map((e) => [e.rule, e.status])).toEqual([['drift', 'firing']]);
    expect(await engine.evaluate(result(0.7, 0.9))).toEqual([]);
    expect(await engine.evaluate(result(0.8, null))).toEqual([]);
    const cleared = await engine.evaluate(result(0.1, 0.5));
    expect(cleared.map((e) => [e.rule, e.status])).toEqual([
      ['drift', 'resolved'],
      ['acc', 'firing'],
    ]);

    const hooks = hook.received.filter((r) => r.path === '/hook');
    expect(hooks).toHaveLength(3);
    for (const h of hooks) expect(h.signature).toBe(signBody(h.body, 's3cret'));
    const events = hooks.map((h) => JSON.parse(h.body) as AlertEvent);
    expect(events.map((e) => [e.rule, e.status, e.value])).toEqual([
      ['drift', 'firing', 0.6],
      ['drift', 'resolved', 0.1],
      ['acc', 'firing', 0.5],
    ]);
    expect(events[0]!.message).toMatch(/FIRING drift: flights version 1 \(@champion\), drift share 0.6/);
    const slack = hook.received
      .filter((r) => r.path === '/slack')
      .map((r) => JSON.parse(r.body) as { text: string; blocks: unknown[] });
    expect(slack).toHaveLength(3);
    expect(slack[0]!.text).toContain('FIRING drift');
    expect(slack[0]!.blocks).toHaveLength(1);
    expect(logged).toHaveLength(3);
  });

  it('refuses a bad configuration with a message naming the rule', () => {
    expect(() =>
      parseAlertConfig({ rules: [{ id: 'x', kind: 'performance', metric: 'speed', below: 1 }], sinks: [] }),
    ).toThrow(/rule 0 \('x'\): "metric" must be/);
    expect(() => parseAlertConfig({ rules: [], sinks: [{ kind: 'webhook', url: 'nope' }] })).toThrow(/sink 0: "url"/);
  });

  it('runs the window job on one replica at a time and alerts on the windows it computes', async () => {
    const profile = buildReferenceProfile({ x: normals(rng(1), 2000) });
    const service = new MonitorService({ store: store.monitoring });
    await service.setReference('jobbed', '1', profile);
    const acc = new WindowAccumulator(profile);
    acc.addColumns({ x: normals(rng(2), 1000, 2) });
    await store.monitoring.recordWindow({ name: 'jobbed', version: '1' }, 1000, 2000, JSON.stringify(acc.snapshot()));
    const config = parseAlertConfig({
      rules: [{ id: 'drift', kind: 'drift_share', above: 0.5, model: 'jobbed' }],
      sinks: [{ kind: 'webhook', url: `${hook.url}/job` }],
    });
    const a = new WindowJob({
      service,
      log: silent,
      graceMs: 0,
      intervalMs: 60_000,
      alerts: new AlertEngine({ config, store: store.monitoring, log: silent }),
    });
    const b = new WindowJob({
      service: new MonitorService({ store: store.monitoring }),
      log: silent,
      graceMs: 0,
      intervalMs: 60_000,
    });
    expect(await b.tick()).toHaveLength(1); // b takes the lease first
    await store.monitoring.recordWindow({ name: 'jobbed', version: '1' }, 2000, 3000, JSON.stringify(acc.snapshot()));
    expect(await a.tick()).toEqual([]); // a is not the holder while b's lease lasts
    expect(await b.tick()).toHaveLength(1);
    await store.monitoring.recordWindow({ name: 'jobbed', version: '1' }, 3000, 4000, JSON.stringify(acc.snapshot()));
    // The holder stops renewing: once its lease expires another replica takes over.
    const later = new WindowJob({
      service,
      log: silent,
      graceMs: 0,
      intervalMs: 60_000,
      now: () => Date.now() + 10 * 60_000,
      alerts: new AlertEngine({ config, store: store.monitoring, log: silent }),
    });
    expect(await store.monitoring.acquireLease('monitor-window-job', later.holder, 1)).toBe(false);
    await store.monitoring.acquireLease('monitor-window-job', b.holder, -1); // b's lease, expired
    const computed = await later.tick();
    expect(computed.map((r) => [r.start, r.datasetDrift])).toEqual([[3000, true]]);
    expect(hook.received.filter((r) => r.path === '/job')).toHaveLength(1);
  });
});
