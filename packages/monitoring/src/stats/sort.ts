/**
 * Sorting large Float64Arrays: a bucket sort on the values (about two values per bucket spread
 * linearly over [min, max], tiny buckets by insertion, crowded ones bucketed again on their
 * own range), several times faster than the built-in sort and than an LSD radix sort on the
 * bits on a million values. Skewed data (heavy tails, a spike) is handled by the recursion; a
 * range that overflows (or underflows) and deep recursion fall back to the built-in sort. NaN must be removed
 * first.
 */

/** Below this many values the built-in sort is as fast. */
const SMALL = 64;
/** Buckets up to this size are sorted by insertion. */
const INSERTION = 48;
/** Recursion depth after which the built-in sort takes over (a pathological spread of values). */
const MAX_DEPTH = 4;

/**
 * Writes the values of `src` into `out` (same length) in ascending order; `min`/`max` are the
 * extremes of `src`. A writable `src` is scratch space afterwards; a read-only one (the caller's
 * array) is left as it was, and scratch is allocated only when a bucket needs another level.
 */
function sortInto(
  src: Float64Array,
  out: Float64Array,
  min: number,
  max: number,
  depth: number,
  writable: boolean,
): void {
  const n = src.length;
  if (min === max) {
    out.set(src);
    return;
  }
  const buckets = n >>> 1;
  const scale = buckets / (max - min);
  if (n <= SMALL || depth > MAX_DEPTH || !Number.isFinite(scale) || scale === 0) {
    out.set(src);
    out.sort();
    return;
  }
  const last = buckets - 1;
  // ends[b] counts bucket b, then holds its start, then (after the scatter) its end.
  const ends = new Int32Array(buckets);
  for (let i = 0; i < n; i++) {
    const b = ((src[i]! - min) * scale) | 0;
    ends[b > last ? last : b]!++;
  }
  let sum = 0;
  for (let b = 0; b < buckets; b++) {
    const c = ends[b]!;
    ends[b] = sum;
    sum += c;
  }
  for (let i = 0; i < n; i++) {
    const v = src[i]!;
    let b = ((v - min) * scale) | 0;
    if (b > last) b = last;
    out[ends[b]!++] = v;
  }
  let scratch = writable ? src : undefined;
  let lo = 0;
  for (let b = 0; b < buckets; b++) {
    const hi = ends[b]!;
    const len = hi - lo;
    if (len > INSERTION) {
      let bMin = out[lo]!;
      let bMax = bMin;
      for (let i = lo + 1; i < hi; i++) {
        const v = out[i]!;
        if (v < bMin) bMin = v;
        else if (v > bMax) bMax = v;
      }
      scratch ??= new Float64Array(n);
      const part = scratch.subarray(lo, hi);
      part.set(out.subarray(lo, hi));
      sortInto(part, out.subarray(lo, hi), bMin, bMax, depth + 1, true);
    } else if (len > 1) {
      for (let i = lo + 1; i < hi; i++) {
        const v = out[i]!;
        let j = i - 1;
        while (j >= lo && out[j]! > v) {
          out[j + 1] = out[j]!;
          j--;
        }
        out[j + 1] = v;
      }
    }
    lo = hi;
  }
}

/** Sorts `values` ascending (a new array; `values` is not changed). NaN must be removed first. */
export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  if (n === 0) return out;
  let min = values[0]!;
  let max = min;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  sortInto(values, out, min, max, 0, false);
  return out;
}

/** The non-missing values of a numeric column, sorted (a new array; the column is not changed). */
export function sortedPresent(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  let min = Infinity;
  let max = -Infinity;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) missing++;
    else {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  const out = new Float64Array(n - missing);
  if (out.length === 0) return out;
  if (missing === 0 && values instanceof Float64Array) {
    sortInto(values, out, min, max, 0, false);
    return out;
  }
  const present = new Float64Array(out.length);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v === v) present[k++] = v;
  }
  sortInto(present, out, min, max, 0, true);
  return out;
}
