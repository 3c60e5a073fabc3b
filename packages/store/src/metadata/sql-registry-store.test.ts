import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import { registryStoreContract } from '../testing/registry-contract.js';
import { openMetadataStore } from './index.js';
import { createTestDatabase, postgresUnavailable, testPostgresUri } from './postgres-test-database.js';

registryStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-registry-'));
  const store = await openMetadataStore(join(dir, 'trestle.db'), { artifactRoot: join(dir, 'artifacts') });
  return {
    tracking: store,
    registry: store.registry,
    // No second instance: better-sqlite3 waits for a lock synchronously, so two connections
    // in one process would block each other (several processes are fine).
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const baseUri = testPostgresUri();
const unavailable = await postgresUnavailable(baseUri);
if (unavailable !== undefined && process.env['CI'] !== 'true') {
  console.warn(`skipping the PostgreSQL registry tests: ${unavailable}`);
  describe.skip(`postgres registry store (${unavailable})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
} else if (unavailable !== undefined) {
  describe('postgres registry store', () => {
    beforeAll(() => {
      throw new Error(`CI=true but ${unavailable}: start PostgreSQL or set TRESTLE_TEST_PG`);
    });
    it('needs PostgreSQL', () => undefined);
  });
} else {
  registryStoreContract('postgres', async () => {
    const database = await createTestDatabase(baseUri);
    const store = await openMetadataStore(database.uri, { artifactRoot: '/srv/trestle/artifacts' });
    return {
      tracking: store,
      registry: store.registry,
      openAnother: async () => {
        const other = await openMetadataStore(database.uri, { artifactRoot: '/srv/trestle/artifacts' });
        return { registry: other.registry, close: () => other.close() };
      },
      cleanup: async () => {
        await store.close();
        await database.drop();
      },
    };
  });
}
