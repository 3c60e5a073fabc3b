import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metadataStoreContract } from '../testing/metadata-contract.js';
import { openMetadataStore } from './index.js';
import { createTestDatabase, postgresUnavailable, testPostgresUri } from './postgres-test-database.js';
import type { TestDatabase } from './postgres-test-database.js';

const baseUri = testPostgresUri();
const unavailable = await postgresUnavailable(baseUri);
const inCi = process.env['CI'] === 'true';

if (unavailable !== undefined && !inCi) {
  console.warn(
    `skipping the PostgreSQL metadata store tests: ${unavailable} (set TRESTLE_TEST_PG to point at a server)`,
  );
  describe.skip(`postgres metadata store (${unavailable})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
} else {
  if (unavailable !== undefined) {
    describe('postgres metadata store', () => {
      beforeAll(() => {
        throw new Error(`CI=true but ${unavailable}: start PostgreSQL or set TRESTLE_TEST_PG`);
      });
      it('needs PostgreSQL', () => undefined);
    });
  } else {
    metadataStoreContract('postgres', async () => {
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
  }
}
