/**
 * Exact drift from raw values: what Evidently computes on two data frames, test for test, with
 * SciPy's statistics (KS, Wasserstein on the sorted values; NumPy's Sturges bins for the binned
 * distances of numeric features with more than 20 reference values; value counts otherwise).
 * Use it when the rows are at hand (a training set against a test set, a backfill); live
 * traffic uses `driftFromSummary`.
 */
import {
  columnKind,
  columnLength,
  isDictionaryColumn,
  toDictionary,
  type Column,
  type FeatureKind,
} from '../profile/columns.js';
import { ksTwoSample } from '../stats/ks.js';
import { wassersteinSorted } from '../stats/distances.js';
import { sortedPresent } from '../stats/sort.js';
import { AUTO_UNIQUE_LIMIT, chooseMethod, isDrift, METHODS, type DriftMethod, type DriftOptions } from './methods.js';
import { histogram, sturgesEdges } from './numpy-histogram.js';
import { summarize, type DatasetDrift, type FeatureDrift } from './result.js';
import { scoreBuckets, type Score } from './score.js';
import { TrestleError } from '@trestle/core';

export interface RawDriftOptions extends DriftOptions {
  /** Forces a kind per column (a numeric code column that is really categorical). */
  kinds?: Readonly<Record<string, FeatureKind>>;
}

/** Distinct values and their counts in two sorted samples, on their union. */
function valueCounts(a: Float64Array, b: Float64Array): { ref: Float64Array; cur: Float64Array; unique: number } {
  const ref: number[] = [];
  const cur: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    let ca = 0;
    let cb = 0;
    while (i < a.length && a[i] === x) {
      i++;
      ca++;
    }
    while (j < b.length && b[j] === x) {
      j++;
      cb++;
    }
    ref.push(ca);
    cur.push(cb);
  }
  return { ref: Float64Array.from(ref), cur: Float64Array.from(cur), unique: ref.length };
}

function countDistinct(sorted: Float64Array): number {
  let d = sorted.length === 0 ? 0 : 1;
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) d++;
  return d;
}

/**
 * The number of distinct values in the union of two sorted samples, counted up to `limit`
 * (the count stops there: the automatic choice only asks whether it is above 5).
 */
function distinctInUnion(a: Float64Array, b: Float64Array, limit: number): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while ((i < a.length || j < b.length) && d < limit) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    d++;
    while (i < a.length && a[i] === x) i++;
    while (j < b.length && b[j] === x) j++;
  }
  return d;
}

function std(sorted: Float64Array): number {
  if (sorted.length === 0) return 0;
  let s = 0;
  for (let i = 0; i < sorted.length; i++) s += sorted[i]!;
  const mean = s / sorted.length;
  let ss = 0;
  for (let i = 0; i < sorted.length; i++) ss += (sorted[i]! - mean) ** 2;
  return Math.sqrt(ss / sorted.length);
}

function numericScore(method: DriftMethod, ref: Float64Array, cur: Float64Array): Score {
  switch (method) {
    case 'ks': {
      const r = ksTwoSample(ref, cur);
      return { score: r.pValue, statistic: r.statistic };
    }
    case 'wasserstein':
      return { score: wassersteinSorted(ref, cur) / Math.max(std(ref), 0.001) };
    case 'jensenshannon':
    case 'psi':
    case 'kl_div': {
      if (countDistinct(ref) > 20) {
        const edges = sturgesEdges(
          Math.min(ref[0]!, cur[0]!),
          Math.max(ref.at(-1)!, cur.at(-1)!),
          ref.length + cur.length,
        );
        return scoreBuckets(method, { ref: histogram(ref, edges), cur: histogram(cur, edges) });
      }
      const vc = valueCounts(ref, cur);
      return scoreBuckets(method, { ref: vc.ref, cur: vc.cur });
    }
    case 'hellinger': {
      // Evidently bins numeric Hellinger on the distinct values of both samples.
      const vc = valueCounts(ref, cur);
      const edges = sturgesEdges(Math.min(ref[0]!, cur[0]!), Math.max(ref.at(-1)!, cur.at(-1)!), vc.unique);
      return scoreBuckets(method, { ref: histogram(ref, edges), cur: histogram(cur, edges) });
    }
    case 'chisquare':
    case 'z': {
      const vc = valueCounts(ref, cur);
      return scoreBuckets(method, { ref: vc.ref, cur: vc.cur });
    }
  }
}

/** Counts per category of two categorical columns on the union of their categories (first seen first). */
function categoryCounts(name: string, a: Column, b: Column): { ref: Float64Array; cur: Float64Array } {
  const index = new Map<string, number>();
  const tally = (column: Column): number[] => {
    const { codes, dictionary } = toDictionary(name, column);
    const perCode = new Float64Array(dictionary.length);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c >= 0 && c < dictionary.length) perCode[c]!++;
    }
    const out: number[] = [];
    dictionary.forEach((key, c) => {
      if (perCode[c] === 0) return;
      let k = index.get(key);
      if (k === undefined) index.set(key, (k = index.size));
      out[k] = (out[k] ?? 0) + perCode[c]!;
    });
    return out;
  };
  const ra = tally(a);
  const rb = tally(b);
  const ref = new Float64Array(index.size);
  const cur = new Float64Array(index.size);
  ra.forEach((v, k) => (ref[k] = v ?? 0));
  rb.forEach((v, k) => (cur[k] = v ?? 0));
  return { ref, cur };
}

function sum(a: Float64Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

/**
 * Exact drift between the columns of a reference and a current table (same column names).
 *
 * @example
 * const drift = driftFromColumns({ distance: trainDistance, origin: trainOrigin }, { distance, origin });
 */
export function driftFromColumns(
  reference: Readonly<Record<string, Column>>,
  current: Readonly<Record<string, Column>>,
  options: RawDriftOptions = {},
): DatasetDrift {
  const features: FeatureDrift[] = [];
  for (const [name, refColumn] of Object.entries(reference)) {
    const curColumn = current[name];
    if (curColumn === undefined) {
      throw new TrestleError('INVALID_ARGUMENT', `column '${name}' is in the reference but not in the current data`, {
        column: name,
      });
    }
    const kind = options.kinds?.[name] ?? columnKind(name, refColumn);
    const refRows = columnLength(refColumn);
    let method: DriftMethod;
    let threshold: number;
    let s: Score | undefined;
    let nRef: number;
    let nCur: number;
    if (kind === 'numeric' && !isDictionaryColumn(refColumn)) {
      const a = sortedPresent(asNumbers(name, refColumn));
      const b = sortedPresent(asNumbers(name, curColumn));
      // Evidently counts the distinct values of both samples to choose (more than 5 or not).
      const unionUnique = distinctInUnion(a, b, AUTO_UNIQUE_LIMIT);
      ({ method, threshold } = chooseMethod(name, 'numeric', refRows, unionUnique, options));
      nRef = a.length;
      nCur = b.length;
      if (nRef > 0 && nCur > 0) s = numericScore(method, a, b);
    } else {
      const counts = categoryCounts(name, refColumn, curColumn);
      ({ method, threshold } = chooseMethod(name, 'categorical', refRows, counts.ref.length, options));
      nRef = sum(counts.ref);
      nCur = sum(counts.cur);
      if (nRef > 0 && nCur > 0) s = scoreBuckets(method, counts);
    }
    const base = {
      name,
      kind: kind === 'numeric' && !isDictionaryColumn(refColumn) ? ('numeric' as const) : ('categorical' as const),
      method,
      scoreKind: METHODS[method].score,
      threshold,
      referenceCount: nRef,
      currentCount: nCur,
      basis: 'raw' as const,
    };
    if (s === undefined) {
      features.push({
        ...base,
        score: null,
        drifted: false,
        skipped: nRef === 0 ? 'no values in the reference' : 'no values in the current data',
      });
    } else {
      features.push({
        ...base,
        score: s.score,
        ...(s.statistic === undefined ? {} : { statistic: s.statistic }),
        drifted: isDrift(method, s.score, threshold),
      });
    }
  }
  return summarize(features, [], options.driftShare ?? 0.5);
}

function asNumbers(name: string, column: Column): ArrayLike<number> {
  if (isDictionaryColumn(column))
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `column '${name}' is categorical in one table and numeric in the other`,
      { column: name },
    );
  if (ArrayBuffer.isView(column)) return column;
  return (column as readonly unknown[]).map((v) => (typeof v === 'number' ? v : NaN));
}
