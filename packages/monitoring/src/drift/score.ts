/**
 * Scores one method on a feature seen as counts over shared buckets (categories, or ordered
 * numeric bins with their positions for Wasserstein). Both the summary path (reference bins)
 * and the raw path (Evidently's bins) end here, except KS and Wasserstein on raw values.
 */
import { hellinger, jensenShannon, klDivergence, psi, wassersteinBinned, type BinnedLine } from '../stats/distances.js';
import { ksFromStatistic } from '../stats/ks.js';
import { chiSquareDrift, zTestProportions } from '../stats/tests.js';
import type { DriftMethod } from './methods.js';

export interface Buckets {
  ref: ArrayLike<number>;
  cur: ArrayLike<number>;
  /** Positions of ordered numeric buckets (for Wasserstein). */
  line?: { ref: BinnedLine; cur: BinnedLine };
  /** Standard deviation of the reference (Wasserstein is normed by it, floored at 0.001). */
  refStd?: number;
}

export interface Score {
  score: number;
  statistic?: number;
}

function total(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Drops buckets empty on both sides (they are no category of either sample). */
function nonEmpty(b: Buckets): { ref: number[]; cur: number[] } {
  const ref: number[] = [];
  const cur: number[] = [];
  for (let i = 0; i < b.ref.length; i++) {
    if (b.ref[i] === 0 && b.cur[i] === 0) continue;
    ref.push(b.ref[i]!);
    cur.push(b.cur[i]!);
  }
  return { ref, cur };
}

/** Largest gap between the cumulative shares of ordered buckets (KS D on binned data). */
function binnedKsStatistic(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  const nr = total(ref);
  const nc = total(cur);
  let fr = 0;
  let fc = 0;
  let d = 0;
  for (let i = 0; i < ref.length; i++) {
    fr += ref[i]!;
    fc += cur[i]!;
    d = Math.max(d, Math.abs(fr / nr - fc / nc));
  }
  return d;
}

export function scoreBuckets(method: DriftMethod, b: Buckets): Score {
  const { ref, cur } = nonEmpty(b);
  switch (method) {
    case 'ks': {
      const d = binnedKsStatistic(b.ref, b.cur);
      const r = ksFromStatistic(d, total(b.ref), total(b.cur));
      return { score: r.pValue, statistic: r.statistic };
    }
    case 'chisquare': {
      const r = chiSquareDrift(ref, cur);
      return { score: r.pValue, statistic: r.statistic };
    }
    case 'z': {
      // One value on both sides, the same one: nothing to compare (Evidently answers 1).
      if (ref.length <= 1) return { score: 1, statistic: 0 };
      const r = zTestProportions(ref[0]!, total(ref), cur[0]!, total(cur));
      return { score: r.pValue, statistic: r.statistic };
    }
    case 'wasserstein': {
      if (b.line === undefined) throw new Error('wasserstein needs bucket positions');
      return { score: wassersteinBinned(b.line.ref, b.line.cur) / Math.max(b.refStd ?? 0, 0.001) };
    }
    case 'jensenshannon':
      return { score: jensenShannon(ref, cur) };
    case 'psi':
      return { score: psi(ref, cur) };
    case 'kl_div':
      return { score: klDivergence(ref, cur) };
    case 'hellinger':
      return { score: hellinger(ref, cur) };
  }
}
