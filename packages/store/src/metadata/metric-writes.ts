/**
 * Metric ingest: the history in one bulk insert (one row per point, or one chunk row per key:
 * `SqlDialect.metricHistory`), the latest
 * point per key in one upsert (MLflow's rule, decided in SQL against the stored row), and one
 * rollup row per (key, width, bucket) merged in SQL, so the three stay consistent even with
 * concurrent writers on PostgreSQL. Rows are written in (key, …) order so that concurrent
 * transactions lock rows in the same order and cannot deadlock. SQLite runs the three inserts in
 * a write transaction; PostgreSQL runs them as one statement (`insertsIfRunActive`), one round
 * trip with the run check.
 */
import type { Kysely } from 'kysely';
import type { Metric } from '@trestle/core';
import type { BulkColumnType, BulkInsert, BulkValue, SqlDialect } from './dialects.js';
import { encodeChunk } from './metric-chunks.js';
import { latestPoint, rollupPoints } from './rollups.js';
import type { Point } from './rollups.js';
import type { MetadataDatabase } from './schema.js';

function nanFree(value: number): [value: number, isNan: 0 | 1] {
  return Number.isNaN(value) ? [0, 1] : [value, 0];
}

function nullableValue(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

const CHUNK_COLUMNS = ['run_id', 'key', 'first_step', 'last_step', 'count', 'points'];
const CHUNK_TYPES: readonly BulkColumnType[] = ['text', 'text', 'bigint', 'bigint', 'bigint', 'blob'];
const POINT_COLUMNS = ['run_id', 'key', 'step', '"timestamp"', 'value', 'is_nan'];
const POINT_TYPES: readonly BulkColumnType[] = ['text', 'text', 'bigint', 'bigint', 'double', 'smallint'];
// prettier-ignore
const ROLLUP_COLUMNS = [
  'run_id', 'key', 'width', 'bucket', 'count',
  'first_step', 'first_timestamp', 'first_value', 'last_step', 'last_timestamp', 'last_value',
  'min_step', 'min_timestamp', 'min_value', 'max_step', 'max_timestamp', 'max_value',
];
// prettier-ignore
const ROLLUP_TYPES: readonly BulkColumnType[] = [
  'text', 'text', 'bigint', 'bigint', 'bigint',
  'bigint', 'bigint', 'double',
  'bigint', 'bigint', 'double',
  'bigint', 'bigint', 'double',
  'bigint', 'bigint', 'double',
];

/** Keeps the stored latest point unless the new one wins by MLflow's rule (step, timestamp, value; NaN lowest). */
const LATEST_UPSERT = `ON CONFLICT (run_id, key) DO UPDATE SET
        step = excluded.step, "timestamp" = excluded."timestamp", value = excluded.value, is_nan = excluded.is_nan
      WHERE excluded.step > lm.step
        OR (excluded.step = lm.step AND (excluded."timestamp" > lm."timestamp"
          OR (excluded."timestamp" = lm."timestamp" AND excluded.is_nan = 0 AND (lm.is_nan = 1 OR excluded.value > lm.value))))`;

/** Merges a batch's bucket summary into the stored one (the same rules as `mergeInto`). */
const ROLLUP_UPSERT = (() => {
  const firstWins = `(excluded.first_step < mr.first_step OR (excluded.first_step = mr.first_step AND excluded.first_timestamp < mr.first_timestamp))`;
  const lastWins = `(excluded.last_step > mr.last_step OR (excluded.last_step = mr.last_step AND excluded.last_timestamp >= mr.last_timestamp))`;
  const minWins = `(excluded.min_value IS NOT NULL AND (mr.min_value IS NULL OR excluded.min_value < mr.min_value))`;
  const maxWins = `(excluded.max_value IS NOT NULL AND (mr.max_value IS NULL OR excluded.max_value > mr.max_value))`;
  const pick = (wins: string, columns: string[]) =>
    columns.map((c) => `${c} = CASE WHEN ${wins} THEN excluded.${c} ELSE mr.${c} END`);
  const updates = [
    'count = mr.count + excluded.count',
    ...pick(firstWins, ['first_step', 'first_timestamp', 'first_value']),
    ...pick(lastWins, ['last_step', 'last_timestamp', 'last_value']),
    ...pick(minWins, ['min_step', 'min_timestamp', 'min_value']),
    ...pick(maxWins, ['max_step', 'max_timestamp', 'max_value']),
  ];
  return `ON CONFLICT (run_id, key, width, bucket) DO UPDATE SET ${updates.join(', ')}`;
})();

/** Groups validated metrics by key (keys sorted), each key's points in history order. */
function groupByKey(metrics: readonly Metric[]): [key: string, points: Point[]][] {
  const byKey = new Map<string, Point[]>();
  for (const m of metrics) {
    const list = byKey.get(m.key);
    const p = { step: m.step, timestamp: m.timestamp, value: m.value };
    if (list === undefined) byKey.set(m.key, [p]);
    else list.push(p);
  }
  const keys = [...byKey.keys()].sort();
  return keys.map((k) => {
    const points = byKey.get(k)!;
    points.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    return [k, points];
  });
}

/**
 * The inserts that append `metrics` to the run's history and update latest metrics and
 * rollups, in that order (none for no metrics). A point identical to a stored one (same step,
 * timestamp and value) is kept once, as in MLflow: chunks are read without repeats (see
 * `metric-chunks.ts`); rows have a unique key, and with `dedupe = false` their insert is a
 * plain INSERT, which fails with a unique violation on such a point (the caller then retries
 * with `true`): `ON CONFLICT` speculative insertion costs about a third more per row, and
 * re-logged points are rare.
 */
export function metricInserts(
  runId: string,
  metrics: readonly Metric[],
  layout: SqlDialect['metricHistory'],
  dedupe: boolean,
): BulkInsert[] {
  if (metrics.length === 0) return [];
  const groups = groupByKey(metrics);

  const history: BulkValue[][] = [];
  const latest: BulkValue[][] = [];
  const rollups: BulkValue[][] = [];
  for (const [key, points] of groups) {
    if (layout === 'chunks')
      history.push([runId, key, points[0]!.step, points[points.length - 1]!.step, points.length, encodeChunk(points)]);
    else for (const p of points) history.push([runId, key, p.step, p.timestamp, ...nanFree(p.value)]);
    const last = latestPoint(points)!;
    latest.push([runId, key, last.step, last.timestamp, ...nanFree(last.value)]);
    for (const { width, bucket, summary: s } of rollupPoints(points)) {
      // prettier-ignore
      rollups.push([
        runId, key, width, bucket, s.count,
        s.first.step, s.first.timestamp, nullableValue(s.first.value),
        s.last.step, s.last.timestamp, nullableValue(s.last.value),
        s.min?.step ?? null, s.min?.timestamp ?? null, s.min?.value ?? null,
        s.max?.step ?? null, s.max?.timestamp ?? null, s.max?.value ?? null,
      ]);
    }
  }
  return [
    layout === 'chunks'
      ? { into: 'metric_chunks', columns: CHUNK_COLUMNS, types: CHUNK_TYPES, rows: history, tail: '' }
      : {
          into: 'metrics',
          columns: POINT_COLUMNS,
          types: POINT_TYPES,
          rows: history,
          tail: dedupe ? 'ON CONFLICT DO NOTHING' : '',
        },
    { into: 'latest_metrics AS lm', columns: POINT_COLUMNS, types: POINT_TYPES, rows: latest, tail: LATEST_UPSERT },
    { into: 'metric_rollups AS mr', columns: ROLLUP_COLUMNS, types: ROLLUP_TYPES, rows: rollups, tail: ROLLUP_UPSERT },
  ];
}

/** Runs {@link metricInserts} statement by statement. Call inside a write transaction. */
export async function writeMetrics(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  runId: string,
  metrics: readonly Metric[],
  dedupe: boolean,
): Promise<void> {
  for (const insert of metricInserts(runId, metrics, dialect.metricHistory, dedupe))
    for (const q of dialect.bulkInsert(insert)) await db.executeQuery(q);
}
