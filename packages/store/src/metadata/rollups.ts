/**
 * Metric rollups: per step bucket, the count and the first, last, smallest and largest point.
 * Computed in JavaScript for each logged batch (one summary per key, width and bucket) and
 * merged into the `metric_rollups` table with one upsert, so that a downsampled read of a
 * 1,000,000-point history reads a few hundred rows.
 */

/** A point of a metric history; `value` may be NaN or ±Infinity. */
export interface Point {
  step: number;
  timestamp: number;
  value: number;
}

/** Summary of the points of one bucket. `min`/`max` skip NaN and are null if every value is NaN. */
export interface BucketSummary {
  count: number;
  first: Point;
  last: Point;
  min: Point | null;
  max: Point | null;
}

/**
 * Bucket widths in steps, finest first: powers of two (each width's buckets nest in the next),
 * a factor 4 apart so a read can always find a width within 4× of the rows it wants.
 * Stored data depends on them: changing the list needs a migration that rebuilds the rollups.
 */
export const ROLLUP_WIDTHS = [256, 1024, 4096, 16384, 65536] as const;

/** True when `a` comes before `b` in history order (step, then timestamp). */
export function isBefore(a: Point, b: Point): boolean {
  return a.step < b.step || (a.step === b.step && a.timestamp < b.timestamp);
}

/** The bucket of `step` at `width` (floor division, also for negative steps). */
export function bucketOf(step: number, width: number): number {
  return Math.floor(step / width);
}

/** A summary of one point. */
export function summaryOf(point: Point): BucketSummary {
  const finite = !Number.isNaN(point.value);
  return { count: 1, first: point, last: point, min: finite ? point : null, max: finite ? point : null };
}

/** Folds `b` into `a` (mutates and returns `a`). Ties keep `a`'s first, min and max and take `b`'s last. */
export function mergeInto(a: BucketSummary, b: BucketSummary): BucketSummary {
  a.count += b.count;
  if (isBefore(b.first, a.first)) a.first = b.first;
  if (!isBefore(b.last, a.last)) a.last = b.last;
  if (b.min !== null && (a.min === null || b.min.value < a.min.value)) a.min = b.min;
  if (b.max !== null && (a.max === null || b.max.value > a.max.value)) a.max = b.max;
  return a;
}

/** Rollup rows of one key's points in a batch: for each width, bucket → summary. */
export function rollupPoints(points: readonly Point[]): { width: number; bucket: number; summary: BucketSummary }[] {
  const out: { width: number; bucket: number; summary: BucketSummary }[] = [];
  for (const width of ROLLUP_WIDTHS) {
    const buckets = new Map<number, BucketSummary>();
    for (const p of points) {
      const bucket = bucketOf(p.step, width);
      const s = buckets.get(bucket);
      if (s === undefined) buckets.set(bucket, summaryOf(p));
      else mergeInto(s, summaryOf(p));
    }
    for (const [bucket, summary] of [...buckets].sort((x, y) => x[0] - y[0])) out.push({ width, bucket, summary });
  }
  return out;
}

/**
 * The latest point by MLflow's rule: greatest step, then timestamp, then value (NaN lowest).
 * `undefined` for no points.
 */
export function latestPoint(points: readonly Point[]): Point | undefined {
  let best: Point | undefined;
  for (const p of points) if (best === undefined || isLater(p, best)) best = p;
  return best;
}

function isLater(a: Point, b: Point): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  if (Number.isNaN(a.value)) return false;
  return Number.isNaN(b.value) || a.value > b.value;
}
