import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryStoreContract } from '../testing/registry-contract.js';
import { openMetadataStore } from './index.js';
import { createTestDatabase, postgresTests } from './postgres-test-database.js';

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

const pg = await postgresTests('the PostgreSQL registry tests');
if (pg.run) {
  registryStoreContract('postgres', async () => {
    pg.assertReachable();
    const database = await createTestDatabase(pg.baseUri);
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
