/**
 * Metric history reads, in history order (step, timestamp, value, NaN after an equal stored
 * value of 0), an identical point once, over either layout (`SqlDialect.metricHistory`):
 *
 * - chunks (PostgreSQL): the `metric_chunks` rows of one (run, key) whose step range meets the
 *   wanted one, in order of their first step, decoded in JavaScript (see `metric-chunks.ts`): a
 *   1,000,000-point history is ~1,000 rows of packed doubles, no row object per point;
 * - rows (SQLite): through the `metrics` primary key (run_id, key, step, timestamp, …), the
 *   points as three JSON arrays aggregated in SQL (steps, timestamps, values) rather than one
 *   row object per point: the driver builds row objects at roughly a microsecond per row,
 *   which would dominate a 1,000,000-point read, while `JSON.parse` of arrays of numbers is
 *   several times faster.
 */
import { sql } from 'kysely';
import type { Expression, Kysely, RawBuilder } from 'kysely';
import type { Metric } from '@trestle/core';
import type { SqlDialect } from './dialects.js';
import type { HistoryCursor } from './history-token.js';
import type { HistoryReader } from './downsample.js';
import { comparePoints, compareToCursor, decodeChunk, sortUnique } from './metric-chunks.js';
import type { BucketSummary, Point } from './rollups.js';
import type { MetadataDatabase } from './schema.js';

/** Which slice of a history to read. */
export interface HistoryQuery {
  /** Points strictly after this position. */
  after?: HistoryCursor;
  fromStep?: number;
  toStep?: number;
  limit?: number;
}

/** A JSON array of numbers aggregated in SQL ({@link SqlDialect.jsonArrayAgg}): `null` for NaN, from PostgreSQL `"Infinity"`. */
function numbers(column: string | null): number[] {
  if (column === null) return [];
  return (JSON.parse(column) as unknown[]).map((v) => (typeof v === 'number' ? v : v === null ? NaN : Number(v)));
}

/** Chunks read per query when a limit may stop the read early. */
const CHUNKS_PER_QUERY = 64;

/** Points of `key` in its `metric_chunks` rows within `query`. */
async function readChunks(
  db: Kysely<MetadataDatabase>,
  runId: string,
  key: string,
  query: HistoryQuery,
): Promise<Metric[]> {
  const { after, fromStep, toStep, limit } = query;
  const lo = Math.max(fromStep ?? -Infinity, after?.step ?? -Infinity);
  const wanted = (p: Point) =>
    p.step >= lo &&
    (toStep === undefined || p.step <= toStep) &&
    (after === undefined || compareToCursor(p, after) > 0);
  let points: Metric[] = [];
  let from: { step: number; id: number } | undefined;
  for (;;) {
    let q = db
      .selectFrom('metric_chunks')
      .select(['chunk_id', 'first_step', 'points'])
      .where('run_id', '=', runId)
      .where('key', '=', key);
    if (lo > -Infinity) q = q.where('last_step', '>=', lo);
    if (toStep !== undefined) q = q.where('first_step', '<=', toStep);
    if (from !== undefined) q = q.where(sql<boolean>`(first_step, chunk_id) > (${from.step}, ${from.id})`);
    q = q.orderBy('first_step').orderBy('chunk_id');
    if (limit !== undefined) q = q.limit(CHUNKS_PER_QUERY);
    const rows = await q.execute();
    const before = points.length;
    for (const r of rows) decodeChunk(key, r.points, points);
    if (after !== undefined || fromStep !== undefined || toStep !== undefined) {
      let n = before;
      for (let i = before; i < points.length; i++) if (wanted(points[i]!)) points[n++] = points[i]!;
      points.length = n;
    }
    points = sortUnique(points);
    if (limit === undefined || rows.length < CHUNKS_PER_QUERY) break;
    const last = rows[rows.length - 1]!;
    from = { step: Number(last.first_step), id: Number(last.chunk_id) };
    // Chunks not read yet start at this step or later: the points before it are all here.
    let settled = 0;
    while (settled < points.length && points[settled]!.step < from.step) settled++;
    if (settled >= limit) break;
  }
  if (limit !== undefined && points.length > limit) points.length = limit;
  return points;
}

/** Points of one (run, key) in history order (step, timestamp, value), as metrics of `key`. */
export async function readHistory(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  runId: string,
  key: string,
  query: HistoryQuery = {},
): Promise<Metric[]> {
  if (dialect.metricHistory === 'chunks') return readChunks(db, runId, key, query);
  const conditions: RawBuilder<unknown>[] = [sql`run_id = ${runId}`, sql`key = ${key}`];
  const { after, fromStep, toStep, limit } = query;
  if (after !== undefined) {
    conditions.push(
      sql`(step, "timestamp", value, is_nan) > (${after.step}, ${after.timestamp}, ${after.value}, ${after.isNan})`,
    );
  }
  if (fromStep !== undefined) conditions.push(sql`step >= ${fromStep}`);
  if (toStep !== undefined) conditions.push(sql`step <= ${toStep}`);
  const limitClause = limit === undefined ? sql`` : sql`LIMIT ${limit}`;
  const agg = (expr: Expression<unknown>) => dialect.jsonArrayAgg(expr);
  const result = await sql<{ s: string | null; t: string | null; v: string | null }>`
    SELECT ${agg(sql.ref('h.step'))} AS s, ${agg(sql.ref('h.timestamp'))} AS t, ${agg(sql.ref('h.v'))} AS v
    FROM (SELECT step, "timestamp", CASE WHEN is_nan = 1 THEN NULL ELSE value END AS v
          FROM metrics WHERE ${sql.join(conditions, sql` AND `)}
          ORDER BY step, "timestamp", value, is_nan ${limitClause}) h`.execute(db);
  const row = result.rows[0];
  if (row === undefined) return [];
  const steps = numbers(row.s);
  const times = numbers(row.t);
  const values = numbers(row.v);
  const points: Metric[] = new Array<Metric>(steps.length);
  let ordered = true;
  for (let i = 0; i < steps.length; i++) {
    points[i] = { key, value: values[i]!, timestamp: times[i]!, step: steps[i]! };
    if (i > 0 && ordered && comparePoints(points[i - 1]!, points[i]!) > 0) ordered = false;
  }
  // Aggregates follow the ordered subquery on both engines in practice, but SQL does not
  // promise it: check, and sort if it ever does not hold.
  if (!ordered) points.sort(comparePoints);
  return points;
}

/**
 * `JSON.stringify` with NaN and ±Infinity as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`:
 * the rule of core's `encodeJson` (`@trestle/core/rest`), which the store does not import
 * because that entry point loads every REST schema.
 */
const wireNumbers = (_key: string, v: unknown): unknown =>
  typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;

/** Largest finite double: a stored value beyond it is ±Infinity (SQLite would write those as `9e999`). */
const MAX_DOUBLE = sql.lit(Number.MAX_VALUE);

/**
 * The whole history of one (run, key) as the text of a JSON array of `{"key", "value",
 * "timestamp", "step"}` objects in history order, NaN and ±Infinity as the strings `"NaN"`,
 * `"Infinity"` and `"-Infinity"`: what `JSON.stringify` makes of {@link readHistory}'s points in
 * that encoding, numbers possibly written differently (`1.0` for `1`) but reading back the
 * same. From rows the text is built by the database, so a large history costs no object per
 * point on either side; like {@link readHistory}, it relies on the aggregate following the
 * ordered subquery (an `ORDER BY` inside the aggregate would sort the rows again, doubling the
 * time). From chunks it is built from the decoded points.
 */
export async function readHistoryJson(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  runId: string,
  key: string,
): Promise<string> {
  if (dialect.metricHistory === 'chunks') return JSON.stringify(await readChunks(db, runId, key, {}), wireNumbers);
  const value = sql.ref('h.value');
  // The key is serialised here, so that it is escaped exactly as JSON.stringify does.
  const point = sql<string>`'{"key":' || CAST(${JSON.stringify(key)} AS text) || ',"value":' || CASE
      WHEN h.is_nan = 1 THEN '"NaN"'
      WHEN ${value} > ${MAX_DOUBLE} THEN '"Infinity"'
      WHEN ${value} < -${MAX_DOUBLE} THEN '"-Infinity"'
      WHEN ${value} = 0 THEN '0'
      ELSE ${dialect.jsonNumber(value)} END
    || ',"timestamp":' || h."timestamp" || ',"step":' || h.step || '}'`;
  const result = await sql<{ j: string | null }>`
    SELECT ${dialect.stringAgg(point, ',', sql`h.step, h."timestamp", h.value, h.is_nan`)} AS j
    FROM (SELECT step, "timestamp", value, is_nan FROM metrics
          WHERE run_id = ${runId} AND key = ${key}
          ORDER BY step, "timestamp", value, is_nan) h`.execute(db);
  const text = result.rows[0]?.j ?? null;
  return text === null ? '[]' : `[${text}]`;
}

/** A {@link HistoryReader} over the store's tables for one (run, key). */
export function sqlHistoryReader(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  runId: string,
  key: string,
): HistoryReader {
  return {
    async rollups(width, fromBucket, toBucket): Promise<BucketSummary[]> {
      let q = db
        .selectFrom('metric_rollups')
        .selectAll()
        .where('run_id', '=', runId)
        .where('key', '=', key)
        .where('width', '=', width);
      if (fromBucket !== undefined) q = q.where('bucket', '>=', fromBucket);
      if (toBucket !== undefined) q = q.where('bucket', '<=', toBucket);
      const rows = await q.orderBy('bucket').execute();
      const value = (v: number | null) => (v === null ? NaN : Number(v));
      return rows.map((r) => ({
        count: Number(r.count),
        first: { step: Number(r.first_step), timestamp: Number(r.first_timestamp), value: value(r.first_value) },
        last: { step: Number(r.last_step), timestamp: Number(r.last_timestamp), value: value(r.last_value) },
        min:
          r.min_value === null
            ? null
            : { step: Number(r.min_step), timestamp: Number(r.min_timestamp), value: Number(r.min_value) },
        max:
          r.max_value === null
            ? null
            : { step: Number(r.max_step), timestamp: Number(r.max_timestamp), value: Number(r.max_value) },
      }));
    },
    raw: (fromStep, toStep) => readHistory(db, dialect, runId, key, { fromStep, toStep }),
  };
}
