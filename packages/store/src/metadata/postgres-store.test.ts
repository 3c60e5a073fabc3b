import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Metric } from '@trestle/core';
import { metadataStoreContract } from '../testing/metadata-contract.js';
import { openMetadataStore } from './index.js';
import { createTestDatabase, postgresTests } from './postgres-test-database.js';
import type { TestDatabase } from './postgres-test-database.js';

const pg = await postgresTests('the PostgreSQL metadata store tests');
const baseUri = pg.baseUri;

// When PostgreSQL is unreachable outside CI, postgresTests has printed why and the suite is skipped.
describe.runIf(pg.run)('postgres metadata store', () => {
  metadataStoreContract('postgres', async () => {
    pg.assertReachable();
    const database = await createTestDatabase(baseUri);
    const store = await openMetadataStore(database.uri, { artifactRoot: '/srv/trestle/artifacts' });
    const others: Promise<unknown>[] = [];
    return {
      store,
      openAnother: () => openMetadataStore(database.uri, { artifactRoot: '/srv/trestle/artifacts' }),
      cleanup: async () => {
        await Promise.all(others);
        await store.close();
        await database.drop();
      },
    };
  });

  describe('postgres metadata store: opening', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      pg.assertReachable();
      database = await createTestDatabase(baseUri);
    });
    afterAll(async () => {
      await database.drop();
    });

    it('reports its capabilities and parses int8 as numbers', async () => {
      const store = await openMetadataStore(database.uri);
      try {
        expect(store.capabilities).toEqual({ dialect: 'postgres', concurrentWriters: true });
        const exp = await store.getExperiment('0');
        expect(typeof exp.creationTime).toBe('number');
      } finally {
        await store.close();
      }
    });

    it('logs metrics in one round trip, the run check included', async () => {
      const { default: driver } = await import('pg');
      const store = await openMetadataStore(database.uri);
      const queries = vi.spyOn(driver.Client.prototype, 'query');
      try {
        const run = await store.createRun({ experimentId: '0' });
        const id = run.info.runId;
        const points: Metric[] = [];
        for (let step = 0; step < 400; step++)
          for (const key of ['loss', 'acc'])
            points.push({ key, value: step === 7 ? NaN : step, step, timestamp: step });
        queries.mockClear();
        await store.logBatch(id, { metrics: [{ key: 'lr', value: 0.1, step: 0, timestamp: 1 }] });
        expect(queries).toHaveBeenCalledTimes(1);
        await store.logBatch(id, { metrics: points });
        expect(queries).toHaveBeenCalledTimes(2);
        await store.deleteRun(id);
        queries.mockClear();
        await expect(
          store.logBatch(id, { metrics: [{ key: 'lr', value: 9, step: 9, timestamp: 9 }] }),
        ).rejects.toMatchObject({
          code: 'FAILED_PRECONDITION',
        });
        await expect(store.logBatch('f'.repeat(32), { metrics: points })).rejects.toMatchObject({ code: 'NOT_FOUND' });
        expect(queries).toHaveBeenCalledTimes(2);
        queries.mockRestore();
        // What the one statement wrote: history, latest values and rollups; nothing to the deleted run.
        await store.restoreRun(id);
        const history = await store.getMetricHistory(id, 'loss');
        expect(history.items.map((m) => m.value)).toEqual(points.filter((m) => m.key === 'loss').map((m) => m.value));
        const latest = (await store.getRun(id)).data.metrics.sort((a, b) => (a.key < b.key ? -1 : 1));
        expect(latest.map((m) => [m.key, m.value, m.step])).toEqual([
          ['acc', 399, 399],
          ['loss', 399, 399],
          ['lr', 0.1, 0],
        ]);
        const sampled = await store.getMetricHistoryDownsampled(id, 'acc', { points: 4 });
        expect(sampled.length).toBeGreaterThan(1);
        expect(sampled.every((m) => m.key === 'acc' && m.step >= 0 && m.step <= 399)).toBe(true);
      } finally {
        queries.mockRestore();
        await store.close();
      }
    });

    it('fails with UNAVAILABLE and a redacted URI when the server cannot be reached', async () => {
      const err: unknown = await openMetadataStore('postgres://me:secret@127.0.0.1:1/none').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UNAVAILABLE' });
      expect((err as Error).message).toContain('me:***@');
      expect((err as Error).message).not.toContain('secret');
    });
  });
});
