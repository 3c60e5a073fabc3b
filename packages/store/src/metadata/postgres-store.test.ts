import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

    it('fails with UNAVAILABLE and a redacted URI when the server cannot be reached', async () => {
      const err: unknown = await openMetadataStore('postgres://me:secret@127.0.0.1:1/none').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'UNAVAILABLE' });
      expect((err as Error).message).toContain('me:***@');
      expect((err as Error).message).not.toContain('secret');
    });
  });
});
