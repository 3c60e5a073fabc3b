/**
 * The one binning rule for numeric features, used by the reference profile, the live window
 * accumulator and the raw-row drift path alike (see `schema.ts`).
 */

/** Bin of `x` for ascending `cuts`: the number of cuts `<= x` (0 … cuts.length). */
export function binOf(cuts: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Inner cut points for a sorted array of non-missing values: each distinct value its own bin
 * when there are at most `maxBins` of them, else deduplicated quantiles at i/maxBins.
 */
export function quantileCuts(sorted: Float64Array, distinct: number, maxBins: number): number[] {
  const n = sorted.length;
  if (n === 0) return [];
  const cuts: number[] = [];
  if (distinct <= maxBins) {
    for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) cuts.push(sorted[i]!);
    return cuts;
  }
  const min = sorted[0]!;
  for (let b = 1; b < maxBins; b++) {
    const q = sorted[Math.min(n - 1, Math.floor((b * n) / maxBins))]!;
    if (q > min && (cuts.length === 0 || q > cuts[cuts.length - 1]!)) cuts.push(q);
  }
  return cuts;
}

/** Lower and upper bound of every bin, for plots and for distances that need positions. */
export function binBounds(min: number, max: number, cuts: readonly number[]): { lower: number[]; upper: number[] } {
  const lower = [min, ...cuts];
  const upper = [...cuts, max];
  return { lower, upper };
}
