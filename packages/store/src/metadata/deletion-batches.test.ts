import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '@trestle/core';
import { openMetadataStore } from './index.js';
import { createTestDatabase, postgresTests, type TestDatabase } from './postgres-test-database.js';

/**
 * Deleting an experiment records a deletion batch on it and on the runs it takes along;
 * restoring it brings back exactly that batch, never runs deleted on their own, with no
 * reliance on timestamps (the rule before: runs whose deleted_time equalled the experiment's
 * last_update_time, which made deleteExperiment move its own time past every earlier deletion).
 */

/** One engine under test: open a store on one database with a clock, and run raw SQL on it. */
interface Engine {
  open(now?: () => number): Promise<MetadataStore>;
  exec(statements: string[]): Promise<void>;
  cleanup(): Promise<void>;
}

const sqliteEngine = (): Engine => {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-deletion-batches-'));
  const file = join(dir, 't.db');
  return {
    open: (now) => openMetadataStore(file, { ...(now === undefined ? {} : { now }) }),
    exec: (statements) => {
      const db = new Database(file);
      try {
        for (const statement of statements) db.exec(statement);
      } finally {
        db.close();
      }
      return Promise.resolve();
    },
    cleanup: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
};

const postgresEngine = (database: TestDatabase): Engine => ({
  open: (now) => openMetadataStore(database.uri, { poolSize: 2, ...(now === undefined ? {} : { now }) }),
  exec: async (statements) => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: database.uri });
    await client.connect();
    try {
      for (const statement of statements) await client.query(statement);
    } finally {
      await client.end();
    }
  },
  cleanup: () => database.drop(),
});

function deletionBatchSuite(name: string, makeEngine: () => Promise<Engine>): void {
  describe(`deletion batches: ${name}`, () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await makeEngine();
    });
    afterAll(async () => {
      await engine?.cleanup();
    });

    const stage = async (store: MetadataStore, runId: string): Promise<string> =>
      (await store.getRun(runId)).info.lifecycleStage;

    it('keeps the real deletion time and restores only the runs deleted with the experiment, on one clock tick', async () => {
      const T = 1_800_000_000_000;
      // Everything in the same millisecond: times cannot tell the two deletions apart.
      const store = await engine.open(() => T);
      try {
        const exp = await store.createExperiment({ name: 'same-tick' });
        const kept = await store.createRun({ experimentId: exp.experimentId });
        const alone = await store.createRun({ experimentId: exp.experimentId });
        await store.deleteRun(alone.info.runId);
        await store.deleteExperiment(exp.experimentId);
        // Before: the experiment's time was moved to T + 1 so that it differed from the run's.
        expect((await store.getExperiment(exp.experimentId)).lastUpdateTime).toBe(T);
        expect(await stage(store, kept.info.runId)).toBe('deleted');

        await store.restoreExperiment(exp.experimentId);
        expect(await stage(store, kept.info.runId)).toBe('active');
        expect(await stage(store, alone.info.runId)).toBe('deleted');
      } finally {
        await store.close();
      }
    });

    it('restores the right runs over several delete and restore cycles, whatever the clock does', async () => {
      // A clock that goes backwards (another replica's, an NTP step): deletions can be older than earlier ones.
      let t = 1_900_000_000_000;
      const store = await engine.open(() => (t -= 1000));
      try {
        const exp = await store.createExperiment({ name: 'cycles' });
        const [a, b, c] = await Promise.all([1, 2, 3].map(() => store.createRun({ experimentId: exp.experimentId })));
        await store.deleteExperiment(exp.experimentId);
        await store.restoreExperiment(exp.experimentId);
        expect(await Promise.all([a, b, c].map((r) => stage(store, r!.info.runId)))).toEqual([
          'active',
          'active',
          'active',
        ]);
        await store.deleteRun(b!.info.runId);
        await store.deleteExperiment(exp.experimentId);
        await store.restoreExperiment(exp.experimentId);
        expect(await Promise.all([a, b, c].map((r) => stage(store, r!.info.runId)))).toEqual([
          'active',
          'deleted',
          'active',
        ]);
        // A run restored on its own leaves no batch behind: the next cycle treats it as any active run.
        await store.restoreRun(b!.info.runId);
        await store.deleteExperiment(exp.experimentId);
        await store.restoreExperiment(exp.experimentId);
        expect(await stage(store, b!.info.runId)).toBe('active');
      } finally {
        await store.close();
      }
    });

    it('gives experiments deleted before the migration a batch made of the runs deleted with them', async () => {
      const store = await engine.open();
      let exp: string;
      let kept: string;
      let alone: string;
      try {
        exp = (await store.createExperiment({ name: 'legacy' })).experimentId;
        kept = (await store.createRun({ experimentId: exp })).info.runId;
        alone = (await store.createRun({ experimentId: exp })).info.runId;
      } finally {
        await store.close();
      }
      // The database as it was before 0003-deletion-batches, deleted the old way.
      await engine.exec([
        `ALTER TABLE runs DROP COLUMN deleted_batch`,
        `ALTER TABLE experiments DROP COLUMN deleted_batch`,
        `DELETE FROM trestle_migrations WHERE name = '0003-deletion-batches'`,
        `UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = 5000 WHERE experiment_id = ${exp}`,
        `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = 5000 WHERE run_id = '${kept}'`,
        `UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = 4000 WHERE run_id = '${alone}'`,
      ]);
      const migrated = await engine.open();
      try {
        expect((await migrated.migrationStatus()).pending).toEqual([]);
        await migrated.restoreExperiment(exp);
        expect(await stage(migrated, kept)).toBe('active');
        expect(await stage(migrated, alone)).toBe('deleted');
      } finally {
        await migrated.close();
      }
    });
  });
}

deletionBatchSuite('sqlite', () => Promise.resolve(sqliteEngine()));

const pg = await postgresTests('the PostgreSQL deletion-batch tests');
if (pg.run) {
  deletionBatchSuite('postgres', async () => {
    pg.assertReachable();
    return postgresEngine(await createTestDatabase(pg.baseUri));
  });
}
