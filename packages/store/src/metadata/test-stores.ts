/**
 * Test support: a fresh metadata store on each engine, so a suite written once runs on SQLite
 * and PostgreSQL (the latter under {@link postgresTests}' rule: skipped with a reason outside
 * CI when the server does not answer, failing loudly in CI).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetadataStore } from '@trestle/core';
import { openMetadataStore } from './open.js';
import { createTestDatabase, postgresTests } from './postgres-test-database.js';

export interface TestStore {
  store: MetadataStore;
  close(): Promise<void>;
}

/**
 * Registers `suite` once per engine; `open` gives a new empty store each time it is called.
 *
 * @example await onEachEngine('the trace store tests', (engine, open) => describe(engine, () => { … }));
 */
export async function onEachEngine(
  what: string,
  suite: (engine: 'sqlite' | 'postgres', open: () => Promise<TestStore>) => void,
): Promise<void> {
  suite('sqlite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trestle-store-'));
    const store = await openMetadataStore(join(dir, 't.db'), { artifactRoot: join(dir, 'a') });
    return {
      store,
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
  const pg = await postgresTests(`the PostgreSQL ${what}`);
  if (!pg.run) return;
  suite('postgres', async () => {
    pg.assertReachable();
    const database = await createTestDatabase(pg.baseUri);
    const store = await openMetadataStore(database.uri, { artifactRoot: '/srv/a' });
    return {
      store,
      close: async () => {
        await store.close();
        await database.drop();
      },
    };
  });
}
