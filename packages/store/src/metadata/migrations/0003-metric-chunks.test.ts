import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Metric } from '@trestle/core';
import { openMetadataStore } from '../open.js';
import { postgresDialect } from '../dialects.js';
import type { MetadataDatabase } from '../schema.js';
import { createTestDatabase, postgresTests } from '../postgres-test-database.js';
import { createMetadataMigrator } from './index.js';
import { metricChunksMigration } from './0003-metric-chunks.js';

const postgres = await postgresTests('the PostgreSQL metric chunks migration test');

const RUN = 'a'.repeat(32);
const OTHER = 'b'.repeat(32);

describe.runIf(postgres.run)('migration 0003-metric-chunks: postgres', () => {
  it('converts every stored point into chunks, in history order, and back on the way down', async () => {
    postgres.assertReachable();
    const database = await createTestDatabase(postgres.baseUri);
    const pool = new pg.Pool({ connectionString: database.uri, max: 2 });
    const db = new Kysely<MetadataDatabase>({ dialect: new PostgresDialect({ pool }) });
    try {
      const ctx = { dialect: postgresDialect, artifactRoot: '/srv/artifacts', now: Date.now };
      expect((await createMetadataMigrator(db, ctx).migrateTo('0003-idempotency-keys')).error).toBeUndefined();
      for (const run of [RUN, OTHER]) {
        await sql`INSERT INTO runs (run_id, experiment_id, run_name, user_id, status, start_time, artifact_uri, lifecycle_stage)
          VALUES (${run}, 0, 'r', 'u', 'RUNNING', 1, '/srv/artifacts/0', 'active')`.execute(db);
      }
      // 'loss' over more points than a chunk holds (and than a page of the conversion reads),
      // inserted in reverse; NaN as is_nan = 1, ±Infinity, two points on one (step, timestamp).
      const loss: Metric[] = Array.from({ length: 12_345 }, (_, i) => ({
        key: 'loss',
        value: i === 7 ? NaN : i === 8 ? Infinity : i === 9 ? -Infinity : 1 / (i + 1),
        timestamp: 1_000 + i,
        step: i,
      }));
      loss.splice(10, 0, { key: 'loss', value: -0.5, timestamp: 1_010, step: 10 });
      const rows = [
        ...loss.map((m) => [RUN, m.key, m.step, m.timestamp, m.value] as const),
        [RUN, 'acc', 3, 5, 0.9] as const,
        [OTHER, 'loss', 0, 5, 2] as const,
      ].reverse();
      for (let i = 0; i < rows.length; i += 5_000) {
        const part = rows.slice(i, i + 5_000);
        await sql`INSERT INTO metrics (run_id, key, step, "timestamp", value, is_nan)
          SELECT * FROM unnest(${part.map((r) => r[0])}::text[], ${part.map((r) => r[1])}::text[],
            ${part.map((r) => r[2])}::int8[], ${part.map((r) => r[3])}::int8[],
            ${part.map((r) => (Number.isNaN(r[4]) ? 0 : r[4]))}::float8[], ${part.map((r) => (Number.isNaN(r[4]) ? 1 : 0))}::int2[])`.execute(
          db,
        );
      }
      expect((await createMetadataMigrator(db, ctx).migrateToLatest()).error).toBeUndefined();
      const tables = await sql<{ n: string }>`SELECT count(*) AS n FROM pg_tables WHERE tablename = 'metrics'`.execute(
        db,
      );
      expect(Number(tables.rows[0]!.n)).toBe(0);
      const chunks = await sql<{
        n: string;
        points: string;
      }>`SELECT count(*) AS n, sum(count) AS points FROM metric_chunks`.execute(db);
      expect(Number(chunks.rows[0]!.points)).toBe(loss.length + 2);
      // Up to 1,000 points a chunk (one more where a page of the conversion ends), one per (run, key) at least.
      const fewest = Math.ceil(loss.length / 1_000) + 2;
      expect(Number(chunks.rows[0]!.n)).toBeGreaterThanOrEqual(fewest);
      expect(Number(chunks.rows[0]!.n)).toBeLessThanOrEqual(fewest + 1);

      const store = await openMetadataStore(database.uri);
      try {
        expect((await store.getMetricHistory(RUN, 'loss')).items).toEqual(loss);
        expect((await store.getMetricHistory(RUN, 'acc')).items).toEqual([
          { key: 'acc', value: 0.9, timestamp: 5, step: 3 },
        ]);
        expect((await store.getMetricHistory(OTHER, 'loss')).items).toEqual([
          { key: 'loss', value: 2, timestamp: 5, step: 0 },
        ]);
        const page = await store.getMetricHistory(RUN, 'loss', { maxResults: 10 });
        const next = await store.getMetricHistory(RUN, 'loss', { maxResults: 3, pageToken: page.nextPageToken! });
        expect([...page.items, ...next.items]).toEqual(loss.slice(0, 13));
      } finally {
        await store.close();
      }

      await metricChunksMigration(ctx).down!(db as Kysely<unknown>);
      const back = await sql<{ n: string }>`SELECT count(*) AS n FROM metrics`.execute(db);
      expect(Number(back.rows[0]!.n)).toBe(rows.length);
      const nan = await sql<{
        value: number;
        is_nan: number;
      }>`SELECT value, is_nan FROM metrics WHERE run_id = ${RUN} AND step = 7`.execute(db);
      expect(nan.rows).toEqual([{ value: 0, is_nan: 1 }]);
    } finally {
      await db.destroy();
      await database.drop();
    }
  });
});
