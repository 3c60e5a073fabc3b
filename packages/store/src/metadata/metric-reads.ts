/**
 * Metric history reads through the history's primary key (run_id, key, step, timestamp, …).
 * Points come back as three JSON arrays aggregated in SQL (steps, timestamps, values) rather
 * than one row object per point: both drivers build row objects at roughly a microsecond per
 * row, which would dominate a 1,000,000-point read, while `JSON.parse` of arrays of numbers
 * is several times faster. Where the engine can (PostgreSQL), the arrays are packed doubles
 * instead of JSON: no number is formatted as text on the server or parsed on the client.
 */
import { sql } from 'kysely';
import type { Expression, Kysely, RawBuilder } from 'kysely';
import type { Metric } from '@trestle/core';
import type { SqlDialect } from './dialects.js';
import type { HistoryCursor } from './history-token.js';
import type { HistoryReader } from './downsample.js';
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

/** An aggregated column: JSON text ({@link SqlDialect.jsonArrayAgg}) or packed doubles ({@link SqlDialect.packedDoubleAgg}). */
type Column = string | Uint8Array | null;

/** Reads the numbers of an aggregated column, whichever its encoding. */
function columnReader(column: Column): { length: number; at(i: number): number } {
  if (column === null) return { length: 0, at: () => NaN };
  if (typeof column === 'string') {
    const items = JSON.parse(column) as unknown[];
    return { length: items.length, at: (i) => toNumber(items[i]) };
  }
  const view = new DataView(column.buffer, column.byteOffset, column.byteLength);
  return { length: column.byteLength / 8, at: (i) => view.getFloat64(i * 8) };
}

/** JSON numbers, `null` for NaN and, from PostgreSQL, `"Infinity"`/`"-Infinity"` strings. */
function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === null) return NaN;
  return Number(v);
}

function comparePoints(a: Point, b: Point): number {
  if (a.step !== b.step) return a.step - b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp - b.timestamp;
  const an = Number.isNaN(a.value);
  const bn = Number.isNaN(b.value);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Points of one (run, key) in history order (step, timestamp, value), as metrics of `key`. */
export async function readHistory(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  runId: string,
  key: string,
  query: HistoryQuery = {},
): Promise<Metric[]> {
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
  const agg = dialect.packedDoubleAgg ?? ((expr: Expression<unknown>) => dialect.jsonArrayAgg(expr));
  const result = await sql<{ s: Column; t: Column; v: Column }>`
    SELECT ${agg(sql.ref('h.step'))} AS s, ${agg(sql.ref('h.timestamp'))} AS t, ${agg(sql.ref('h.v'))} AS v
    FROM (SELECT step, "timestamp", CASE WHEN is_nan = 1 THEN NULL ELSE value END AS v
          FROM metrics WHERE ${sql.join(conditions, sql` AND `)}
          ORDER BY step, "timestamp", value, is_nan ${limitClause}) h`.execute(db);
  const row = result.rows[0];
  if (row === undefined) return [];
  const steps = columnReader(row.s);
  const times = columnReader(row.t);
  const values = columnReader(row.v);
  const points: Metric[] = new Array<Metric>(steps.length);
  let ordered = true;
  for (let i = 0; i < steps.length; i++) {
    points[i] = { key, value: values.at(i), timestamp: times.at(i), step: steps.at(i) };
    if (i > 0 && ordered && comparePoints(points[i - 1]!, points[i]!) > 0) ordered = false;
  }
  // Aggregates follow the ordered subquery on both engines in practice, but SQL does not
  // promise it: check, and sort if it ever does not hold.
  if (!ordered) points.sort(comparePoints);
  return points;
}

/** Largest finite double: a stored value beyond it is ±Infinity (SQLite would write those as `9e999`). */
const MAX_DOUBLE = sql.lit(Number.MAX_VALUE);

/**
 * The whole history of one (run, key) as the text of a JSON array of `{"key", "value",
 * "timestamp", "step"}` objects in history order, NaN and ±Infinity as the strings `"NaN"`,
 * `"Infinity"` and `"-Infinity"`: what `JSON.stringify` makes of {@link readHistory}'s points in
 * that encoding, numbers possibly written differently (`1.0` for `1`) but reading back the
 * same. The text is built by the database, so a large history costs no object per point on
 * either side. Like {@link readHistory}, it relies on the aggregate following the ordered
 * subquery (an `ORDER BY` inside the aggregate would sort the rows again, doubling the time).
 */
export async function readHistoryJson(
  db: Kysely<MetadataDatabase>,
  dialect: SqlDialect,
  runId: string,
  key: string,
): Promise<string> {
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

/** The position of `p` for keyset paging. */
export function cursorOf(p: Point): HistoryCursor {
  return Number.isNaN(p.value)
    ? { step: p.step, timestamp: p.timestamp, value: 0, isNan: 1 }
    : { step: p.step, timestamp: p.timestamp, value: p.value, isNan: 0 };
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
