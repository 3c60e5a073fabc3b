import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openMetadataStore } from '../open.js';
import { sqliteDialect } from '../dialects.js';
import type { MetadataDatabase } from '../schema.js';
import { createMetadataMigrator } from './index.js';

describe('migration 0007-monitoring-stored-batches', () => {
  it('moves per-row inference logs into batches with their labels, keys and outputs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trestle-batches-migration-'));
    try {
      const file = join(dir, 't.db');
      const db = new Kysely<MetadataDatabase>({ dialect: new SqliteDialect({ database: new Database(file) }) });
      const ctx = { dialect: sqliteDialect, artifactRoot: join(dir, 'artifacts'), now: Date.now };
      expect((await createMetadataMigrator(db, ctx).migrateTo('0007-monitoring-pending-labels')).error).toBeUndefined();
      // Three predictions of two versions as the old table held them; r1 is labelled, r2 has a key.
      for (const [v, id, time, key, out, label] of [
        ['1', 'r1', 1000, null, '{"label":"1","probability":0.9}', '"1"'],
        ['1', 'r2', 1100, 'order-7', '{"label":"0","probability":0.2}', null],
        ['2', 'r3', 1200, null, '{"label":"0"}', null],
      ] as const) {
        await sql`insert into inference_logs (model_name, model_version, request_id, alias, key, time, inputs, outputs, latency_ms, label, label_time)
          values ('flights', ${v}, ${id}, 'champion', ${key}, ${time}, '{"x":1}', ${out}, 0.5, ${label}, ${label === null ? null : 5000})`.execute(
          db,
        );
      }
      expect((await createMetadataMigrator(db, ctx).migrateToLatest()).error).toBeUndefined();
      await db.destroy();

      const store = await openMetadataStore(file);
      const m = store.monitoring;
      const found = await m.findInferences({ requestIds: ['r1', 'r3'], keys: ['order-7'] });
      expect(found.map((f) => [f.requestId, f.version, f.key, f.time]).sort()).toEqual([
        ['r1', '1', null, 1000],
        ['r2', '1', 'order-7', 1100],
        ['r3', '2', null, 1200],
      ]);
      expect(await m.labelledInferences({ name: 'flights', version: '1', start: 0, end: 2000 })).toEqual([
        { requestId: 'r1', time: 1000, outputs: { label: '1', probability: 0.9 }, label: '1' },
      ]);
      // Moved request ids are still known: logging them again counts duplicates.
      expect(
        await m.logInferences({ name: 'flights', version: '1' }, [
          { requestId: 'r2', time: 1, inputs: {}, outputs: {} },
        ]),
      ).toEqual({ accepted: 0, duplicates: 1 });
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
