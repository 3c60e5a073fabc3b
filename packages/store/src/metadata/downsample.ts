/**
 * Downsampled metric history for charts. The read never scans a long history: it reads
 * rollup rows (see `rollups.ts`) of the finest bucket width that keeps the row count near
 * the requested number of points, covers partial buckets at the edges of a step range with
 * finer widths and finally raw points, then emits per group of buckets the first, smallest,
 * largest and last point, so spikes survive. Short histories come back raw.
 */
import { ROLLUP_WIDTHS, bucketOf, isBefore, mergeInto, summaryOf } from './rollups.js';
import type { BucketSummary, Point } from './rollups.js';

/** Reads the stored history of one (run, key); implemented over SQL by the store. */
export interface HistoryReader {
  /** Rollup summaries at `width` for buckets in [fromBucket, toBucket] (all when absent), ordered by bucket. */
  rollups(width: number, fromBucket?: number, toBucket?: number): Promise<BucketSummary[]>;
  /** Raw points with step in [fromStep, toStep], in history order. */
  raw(fromStep: number, toStep: number): Promise<Point[]>;
}

/** Options of {@link downsampleHistory}; see `DownsampleOptions` in core. */
export interface DownsampleRequest {
  points: number;
  startStep?: number;
  endStep?: number;
}

/** A rollup range to read, or a raw step range. */
export type Piece =
  | { kind: 'rollup'; width: number; fromBucket: number; toBucket: number }
  | { kind: 'raw'; fromStep: number; toStep: number };

/** Histories with at most this many points (times the requested points, capped) are read raw. */
const RAW_FACTOR = 20;
const RAW_CAP = 100_000;
/** Rollup rows read are at most this many times the requested points. */
const ROWS_FACTOR = 2;
/** Points emitted per group: first, min, max, last. */
const POINTS_PER_GROUP = 4;

/**
 * Index into {@link ROLLUP_WIDTHS} of the finest width whose bucket count over [lo, hi] is
 * at most `maxRows`; the coarsest if none is.
 */
export function chooseWidth(lo: number, hi: number, maxRows: number): number {
  for (let i = 0; i < ROLLUP_WIDTHS.length; i++) {
    const w = ROLLUP_WIDTHS[i]!;
    if (bucketOf(hi, w) - bucketOf(lo, w) + 1 <= maxRows) return i;
  }
  return ROLLUP_WIDTHS.length - 1;
}

/**
 * Covers the step range [lo, hi] with whole buckets of `ROLLUP_WIDTHS[widthIndex]`, the
 * partial buckets at both ends with finer widths, and what is left (fewer than
 * `ROLLUP_WIDTHS[0]` steps at each end) with raw ranges. Pieces come in step order.
 */
export function planPieces(lo: number, hi: number, widthIndex: number): Piece[] {
  if (lo > hi) return [];
  if (widthIndex < 0) return [{ kind: 'raw', fromStep: lo, toStep: hi }];
  const w = ROLLUP_WIDTHS[widthIndex]!;
  const firstFull = Math.ceil(lo / w);
  const lastFull = Math.floor((hi + 1) / w) - 1;
  if (firstFull > lastFull) return planPieces(lo, hi, widthIndex - 1);
  return [
    ...planPieces(lo, firstFull * w - 1, widthIndex - 1),
    { kind: 'rollup', width: w, fromBucket: firstFull, toBucket: lastFull },
    ...planPieces((lastFull + 1) * w, hi, widthIndex - 1),
  ];
}

/**
 * Reads a downsampled history through `reader`: at most about `points` points (and at
 * least first and last, so never more than `max(points, 4)`), in history order, with each
 * group's extremes kept. A step-less metric (every step 0) comes back as its first, smallest,
 * largest and last point.
 */
export async function downsampleHistory(reader: HistoryReader, request: DownsampleRequest): Promise<Point[]> {
  const { points, startStep, endStep } = request;
  const coarsest = ROLLUP_WIDTHS[ROLLUP_WIDTHS.length - 1]!;
  const coarse = await reader.rollups(
    coarsest,
    startStep === undefined ? undefined : bucketOf(startStep, coarsest),
    endStep === undefined ? undefined : bucketOf(endStep, coarsest),
  );
  if (coarse.length === 0) return [];
  const dataMin = Math.min(...coarse.map((s) => s.first.step));
  const dataMax = Math.max(...coarse.map((s) => s.last.step));
  const lo = Math.max(startStep ?? dataMin, dataMin);
  const hi = Math.min(endStep ?? dataMax, dataMax);
  if (lo > hi) return [];

  const upperBound = coarse.reduce((n, s) => n + s.count, 0);
  if (upperBound <= Math.max(points, Math.min(points * RAW_FACTOR, RAW_CAP))) {
    const raw = await reader.raw(lo, hi);
    return raw.length <= points ? raw : emitAbout(raw.map(summaryOf), lo, hi, points);
  }

  // Buckets that hold no point outside [lo, hi] count as whole: extend the range to the
  // coarsest boundary on the sides where it already reaches the data's first or last step.
  const alignedLo = lo === dataMin ? bucketOf(lo, coarsest) * coarsest : lo;
  const alignedHi = hi === dataMax ? (bucketOf(hi, coarsest) + 1) * coarsest - 1 : hi;
  const pieces = planPieces(alignedLo, alignedHi, chooseWidth(lo, hi, Math.max(1, points * ROWS_FACTOR)));
  const units: BucketSummary[] = [];
  for (const piece of pieces) {
    if (piece.kind === 'rollup') units.push(...(await reader.rollups(piece.width, piece.fromBucket, piece.toBucket)));
    else units.push(...(await reader.raw(Math.max(piece.fromStep, lo), Math.min(piece.toStep, hi))).map(summaryOf));
  }
  units.sort((a, b) => (isBefore(a.first, b.first) ? -1 : isBefore(b.first, a.first) ? 1 : 0));
  // A narrow range inside a long history may hold few points: those come back raw.
  if (units.length <= points && units.every((u) => u.count === 1)) return units.map((u) => u.first);
  return emitAbout(units, lo, hi, points);
}

/**
 * {@link emit} with the most groups that keep the output within `points`: groups of a smooth
 * series often yield two distinct points rather than four, so start at `points / 4` groups
 * and widen while the output stays small.
 */
function emitAbout(units: readonly BucketSummary[], lo: number, hi: number, points: number): Point[] {
  let target = Math.max(1, Math.floor(points / POINTS_PER_GROUP));
  let best = emit(units, lo, hi, target);
  for (let i = 0; i < 4 && best.length < points * 0.75 && target < units.length; i++) {
    const next = Math.min(units.length, Math.floor((target * points) / Math.max(1, best.length)) - 1);
    if (next <= target) break;
    const out = emit(units, lo, hi, next);
    if (out.length > points) break;
    best = out;
    target = next;
  }
  return best;
}

/** Groups consecutive units into at most `target` step intervals and emits each group's extremes. */
function emit(units: readonly BucketSummary[], lo: number, hi: number, target: number): Point[] {
  const groups: BucketSummary[] = [];
  if (units.length <= target) {
    for (const u of units) groups.push({ ...u });
  } else {
    const span = hi - lo + 1;
    let current: BucketSummary | undefined;
    let currentIndex = -1;
    for (const u of units) {
      const index = Math.min(target - 1, Math.max(0, Math.floor(((u.first.step - lo) * target) / span)));
      if (current === undefined || index !== currentIndex) {
        current = { ...u };
        currentIndex = index;
        groups.push(current);
      } else {
        mergeInto(current, u);
      }
    }
  }
  const out: Point[] = [];
  for (const g of groups) {
    const candidates = [g.first, g.min, g.max, g.last].filter((p): p is Point => p !== null);
    candidates.sort((a, b) => (isBefore(a, b) ? -1 : isBefore(b, a) ? 1 : 0));
    for (const p of candidates) {
      const prev = out[out.length - 1];
      if (
        prev !== undefined &&
        prev.step === p.step &&
        prev.timestamp === p.timestamp &&
        Object.is(prev.value, p.value)
      )
        continue;
      out.push(p);
    }
  }
  return out;
}
