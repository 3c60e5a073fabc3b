/**
 * PostgreSQL's stored form of a metric history (`SqlDialect.metricHistory = 'chunks'`):
 * `metric_chunks` rows, one per (run, key) of each logged batch, each holding that batch's
 * points of the key as packed little-endian doubles (step, timestamp, value: 24 bytes a
 * point; steps and timestamps are safe integers, so exact). One `metrics` row per point cost
 * PostgreSQL a btree entry of ~90 bytes a point in a six-column primary key, whose page
 * splits made a 1,000-point batch write ~340 kB of WAL (as chunks: ~18 kB).
 *
 * History order is that of the `metrics` primary key (run_id, key, step, timestamp, value,
 * is_nan), where NaN is stored as `value = 0, is_nan = 1`: step, timestamp, value, and NaN
 * right after an equal value of 0. A point identical to another one (same step, timestamp
 * and value) is returned once, as MLflow keeps it once: chunks have no index to refuse it, so
 * repeats are dropped when reading.
 */
import type { Metric } from '@trestle/core';
import type { HistoryCursor } from './history-token.js';
import type { Point } from './rollups.js';

const BYTES_PER_POINT = 24;

/** `points` (in any order) packed as a chunk's `points` column. */
export function encodeChunk(points: readonly Point[]): Buffer {
  const out = Buffer.allocUnsafe(points.length * BYTES_PER_POINT);
  let o = 0;
  for (const p of points) {
    out.writeDoubleLE(p.step, o);
    out.writeDoubleLE(p.timestamp, o + 8);
    out.writeDoubleLE(p.value, o + 16);
    o += BYTES_PER_POINT;
  }
  return out;
}

/** Appends the points of a chunk's `points` column to `into`, as metrics of `key`. */
export function decodeChunk(key: string, bytes: Uint8Array, into: Metric[]): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o + BYTES_PER_POINT <= bytes.byteLength; o += BYTES_PER_POINT) {
    into.push({
      key,
      value: view.getFloat64(o + 16, true),
      timestamp: view.getFloat64(o + 8, true),
      step: view.getFloat64(o, true),
    });
  }
}

/** `p` as the stored tuple (step, timestamp, value, is_nan) the history is ordered by. */
export function cursorOf(p: Point): HistoryCursor {
  return Number.isNaN(p.value)
    ? { step: p.step, timestamp: p.timestamp, value: 0, isNan: 1 }
    : { step: p.step, timestamp: p.timestamp, value: p.value, isNan: 0 };
}

/** Compares `p` with a stored position in history order. */
export function compareToCursor(p: Point, c: HistoryCursor): number {
  if (p.step !== c.step) return p.step < c.step ? -1 : 1;
  if (p.timestamp !== c.timestamp) return p.timestamp < c.timestamp ? -1 : 1;
  const nan = Number.isNaN(p.value);
  const v = nan ? 0 : p.value;
  if (v !== c.value) return v < c.value ? -1 : 1;
  return (nan ? 1 : 0) - c.isNan;
}

/** History order (see the module comment); 0 for identical points. */
export function comparePoints(a: Point, b: Point): number {
  if (a.step !== b.step) return a.step < b.step ? -1 : 1;
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  const an = Number.isNaN(a.value);
  const bn = Number.isNaN(b.value);
  const av = an ? 0 : a.value;
  const bv = bn ? 0 : b.value;
  if (av !== bv) return av < bv ? -1 : 1;
  return (an ? 1 : 0) - (bn ? 1 : 0);
}

/** Sorts `points` into history order (when not already) and drops repeats of identical points, in place. */
export function sortUnique<P extends Point>(points: P[]): P[] {
  let ordered = true;
  for (let i = 1; i < points.length && ordered; i++) if (comparePoints(points[i - 1]!, points[i]!) > 0) ordered = false;
  if (!ordered) points.sort(comparePoints);
  let n = 0;
  for (let i = 0; i < points.length; i++) {
    if (n > 0 && comparePoints(points[n - 1]!, points[i]!) === 0) continue;
    points[n++] = points[i]!;
  }
  points.length = n;
  return points;
}
