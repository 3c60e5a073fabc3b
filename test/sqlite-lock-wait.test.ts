import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '@trestle/core';
import { startServer } from '@trestle/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { holdWriteLock } from './support/sqlite-lock.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SQLite: a write waiting for the lock does not freeze the server', () => {
  let home: string;
  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'trestle-lock-'));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('/health answers within 100 ms while a write waits for another process to release the lock', async () => {
    const server = await startServer({
      config: loadConfig({ home }, {}),
      port: 0,
      logger: false,
      handleSignals: false,
    });
    try {
      const holdMs = 1500;
      const { released } = await holdWriteLock(join(home, 'trestle.db'), holdMs);
      const lockedAt = Date.now();
      const write = fetch(`${server.url}/api/v1/experiments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'waits for the lock' }),
      });
      let writeDone = false;
      void write.then(() => (writeDone = true));
      await sleep(50); // the write is now waiting for the lock
      const latencies: number[] = [];
      while (Date.now() - lockedAt < holdMs - 200) {
        const t = performance.now();
        const res = await fetch(`${server.url}/health`);
        latencies.push(performance.now() - t);
        expect(res.status).toBe(200);
        await sleep(20);
      }
      expect(writeDone).toBe(false); // it really was waiting all along
      const created = await write;
      expect(created.status).toBe(201);
      expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(holdMs - 100);
      await released;
      latencies.sort((a, b) => a - b);
      const max = latencies.at(-1)!;
      const median = latencies[Math.floor(latencies.length / 2)]!;
      const p90 = latencies[Math.floor(latencies.length * 0.9)]!;
      console.log(
        `/health while a write waited ${holdMs} ms for the SQLite lock: ${latencies.length} probes, median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
      );
      // About 60 probes on an idle machine; a loaded one (CI beside other work) gets fewer in.
      expect(latencies.length).toBeGreaterThanOrEqual(5);
      // Frozen, every probe would take about the whole hold (≈ 1.4 s); a loaded machine adds
      // scheduling noise to the odd probe, so the bound is on the 90th percentile.
      expect(p90).toBeLessThan(100);
      expect(max).toBeLessThan(holdMs / 2);
    } finally {
      await server.close();
    }
  }, 30_000);

  it('a write that cannot get the lock in time is UNAVAILABLE (503), and the server answered meanwhile', async () => {
    const { openStores } = await import('@trestle/store');
    const config = loadConfig({ home }, {});
    const stores = await openStores(config);
    await stores.metadata.close();
    const { openMetadataStore } = await import('@trestle/store');
    const metadata = await openMetadataStore(config.db, { lockWaitMs: 300 });
    const server = await startServer({
      config,
      port: 0,
      logger: false,
      handleSignals: false,
      stores: { metadata, artifacts: stores.artifacts },
    });
    try {
      const { released } = await holdWriteLock(join(home, 'trestle.db'), 1500);
      const t = Date.now();
      const res = await fetch(`${server.url}/api/v1/experiments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'gives up' }),
      });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(/locked by another writer/) as unknown,
      });
      expect(Date.now() - t).toBeLessThan(1400);
      await released;
    } finally {
      await server.close();
      await metadata.close();
      await stores.artifacts.close();
    }
  }, 30_000);
});
