import type { ColumnBatch, FeatureSpec } from '../columns.js';
import { findColumn, RemapCache } from '../columns.js';
import type { Random } from './random.js';

/** Bin index of a missing value (and of a category that lost its own bin), in every feature. */
export const MISSING_BIN = 255;
/** Histogram slots per feature: 255 value bins and the missing bin. */
export const BINS_PER_FEATURE = 256;

/**
 * How one feature's raw values map to bins, fitted on training rows.
 * Numeric: bin b holds values in (thresholds[b−1], thresholds[b]] (float32 comparison),
 * the last bin values above every threshold. Categorical: `codeToBin[code]`, where a
 * category beyond the `maxBins` most frequent shares the missing bin.
 */
export type Binner =
  | { readonly type: 'numeric'; readonly thresholds: Float64Array; readonly bins: number }
  | {
      readonly type: 'categorical';
      readonly codeToBin: Int32Array;
      readonly bins: number;
    };

/** Rows sampled to place numeric bin edges (scikit-learn samples 200 000 too). */
const SAMPLE_FOR_EDGES = 200_000;

/**
 * Fits a binner per feature on the training rows. Numeric edges are midpoints between
 * distinct values when there are at most `maxBins` of them, otherwise quantiles of a
 * sample (as scikit-learn's `_BinMapper`), rounded to float32.
 */
export function fitBinners(
  batch: ColumnBatch,
  specs: readonly FeatureSpec[],
  maxBins: number,
  random: Random,
): Binner[] {
  let rows: Int32Array | null = null;
  return specs.map((spec) => {
    const col = findColumn(batch, spec.name);
    if (col.type === 'categorical') return fitCategorical(col.codes, col.categories.length, maxBins);
    // One row sample serves every numeric feature.
    rows ??= sampleRows(batch.rows, random);
    return fitNumeric(col.values, rows, maxBins);
  });
}

/** A uniform sample of SAMPLE_FOR_EDGES rows without replacement (partial Fisher–Yates), or null for all rows. */
function sampleRows(n: number, random: Random): Int32Array | null {
  if (n <= SAMPLE_FOR_EDGES) return null;
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) index[i] = i;
  for (let i = 0; i < SAMPLE_FOR_EDGES; i++) {
    const j = i + Math.floor(random.next() * (n - i));
    const t = index[j]!;
    index[j] = index[i]!;
    index[i] = t;
  }
  return index.slice(0, SAMPLE_FOR_EDGES);
}

function fitNumeric(values: Float64Array | Float32Array, rows: Int32Array | null, maxBins: number): Binner {
  const sample = rows === null ? Float64Array.from(values) : Float64Array.from(rows, (r) => values[r]!);
  let m = 0;
  for (let i = 0; i < sample.length; i++) {
    const v = Math.fround(sample[i]!);
    if (!Number.isNaN(v)) sample[m++] = v;
  }
  const sorted = sample.subarray(0, m).sort();
  let distinct = 0;
  const uniq = new Float64Array(m);
  for (let i = 0; i < m; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) uniq[distinct++] = sorted[i]!;
  let raw: number[];
  if (distinct <= maxBins) {
    raw = [];
    for (let i = 0; i + 1 < distinct; i++) raw.push((uniq[i]! + uniq[i + 1]!) / 2);
  } else {
    raw = [];
    for (let k = 1; k < maxBins; k++) {
      // numpy's percentile with method='midpoint'.
      const pos = (k / maxBins) * (m - 1);
      const lo = Math.floor(pos);
      const hi = Math.ceil(pos);
      raw.push((sorted[lo]! + sorted[hi]!) / 2);
    }
  }
  const thresholds: number[] = [];
  for (const t of raw) {
    const f = Math.fround(t);
    if (Number.isFinite(f) && (thresholds.length === 0 || f > thresholds[thresholds.length - 1]!)) thresholds.push(f);
  }
  return { type: 'numeric', thresholds: Float64Array.from(thresholds), bins: thresholds.length + 1 };
}

function fitCategorical(codes: Int32Array, categories: number, maxBins: number): Binner {
  const codeToBin = new Int32Array(categories).fill(MISSING_BIN);
  if (categories <= maxBins) {
    for (let c = 0; c < categories; c++) codeToBin[c] = c;
    return { type: 'categorical', codeToBin, bins: categories };
  }
  const counts = new Float64Array(categories);
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c >= 0) counts[c]!++;
  }
  const order = Array.from({ length: categories }, (_, c) => c).sort((a, b) => counts[b]! - counts[a]! || a - b);
  for (let b = 0; b < maxBins; b++) codeToBin[order[b]!] = b;
  return { type: 'categorical', codeToBin, bins: maxBins };
}

/**
 * Bins the features of `batch` into a row-major Uint8Array (rows × features): one cache
 * line holds a row's bins, which is what histogram building reads per row.
 */
export function binBatch(batch: ColumnBatch, specs: readonly FeatureSpec[], binners: readonly Binner[]): Uint8Array {
  const n = batch.rows;
  const F = specs.length;
  const out = new Uint8Array(n * F);
  const cache = new RemapCache();
  for (let f = 0; f < F; f++) {
    const spec = specs[f]!;
    const col = findColumn(batch, spec.name);
    const binner = binners[f]!;
    if (binner.type === 'numeric' && col.type === 'numeric') {
      const thr = binner.thresholds;
      const values = col.values;
      const nt = thr.length;
      for (let i = 0, at = f; i < n; i++, at += F) {
        const x = Math.fround(values[i]!);
        if (x !== x) {
          out[at] = MISSING_BIN;
          continue;
        }
        let lo = 0;
        let hi = nt;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (thr[mid]! < x) lo = mid + 1;
          else hi = mid;
        }
        out[at] = lo;
      }
    } else if (binner.type === 'categorical' && col.type === 'categorical' && spec.type === 'categorical') {
      // Validation data may list categories differently: map its codes to the training ones.
      const remap = cache.remap(f, spec.categories, col.categories);
      const map = binner.codeToBin;
      const codes = col.codes;
      const k = map.length;
      for (let i = 0, at = f; i < n; i++, at += F) {
        let c = codes[i]!;
        if (remap !== null) c = c >= 0 && c < remap.length ? remap[c]! : -1;
        out[at] = c >= 0 && c < k ? map[c]! : MISSING_BIN;
      }
    } else {
      throw new Error(`column '${col.name}' changed type between fitting and binning`);
    }
  }
  return out;
}
