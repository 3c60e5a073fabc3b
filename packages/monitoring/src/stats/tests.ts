/**
 * Tests on counts: Pearson's chi-square (goodness of fit as Evidently uses it, and the
 * contingency table as `scipy.stats.chi2_contingency`) and the two-proportion Z-test.
 */
import { chi2Sf, normalSf } from './special.js';

export interface TestResult {
  statistic: number;
  pValue: number;
}

/** `scipy.stats.chisquare(observed, expected)`: Σ (o − e)² / e with k − 1 degrees of freedom. */
export function chiSquareGof(observed: ArrayLike<number>, expected: ArrayLike<number>): TestResult {
  let stat = 0;
  for (let i = 0; i < observed.length; i++) {
    const e = expected[i]!;
    const d = observed[i]! - e;
    stat += e === 0 ? (d === 0 ? 0 : Infinity) : (d * d) / e;
  }
  const dof = observed.length - 1;
  if (dof < 1) return { statistic: stat, pValue: 1 };
  return { statistic: stat, pValue: stat === Infinity ? 0 : chi2Sf(stat, dof) };
}

/**
 * Evidently's `chisquare` drift test: the current counts against the reference counts scaled
 * to the current total, over the categories of either.
 */
export function chiSquareDrift(reference: ArrayLike<number>, current: ArrayLike<number>): TestResult {
  let nr = 0;
  let nc = 0;
  for (let i = 0; i < reference.length; i++) nr += reference[i]!;
  for (let i = 0; i < current.length; i++) nc += current[i]!;
  const obs: number[] = [];
  const exp: number[] = [];
  for (let i = 0; i < reference.length; i++) {
    if (reference[i] === 0 && current[i] === 0) continue;
    obs.push(current[i]!);
    exp.push((reference[i]! * nc) / nr);
  }
  return chiSquareGof(obs, exp);
}

/**
 * `scipy.stats.chi2_contingency(table)` for a 2 × k table of counts (rows: the two samples), with
 * Yates' correction when there is one degree of freedom. Columns empty in both rows are dropped
 * (SciPy refuses them).
 */
export function chi2Contingency(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  correction = true,
): TestResult & { dof: number } {
  const cols: [number, number][] = [];
  for (let i = 0; i < a.length; i++) if (a[i]! + b[i]! > 0) cols.push([a[i]!, b[i]!]);
  let ra = 0;
  let rb = 0;
  for (const [x, y] of cols) {
    ra += x;
    rb += y;
  }
  const total = ra + rb;
  const dof = cols.length - 1;
  if (dof < 1 || ra === 0 || rb === 0) return { statistic: 0, pValue: 1, dof: Math.max(0, dof) };
  let stat = 0;
  for (const [x, y] of cols) {
    const c = x + y;
    for (const [o0, r] of [
      [x, ra],
      [y, rb],
    ] as const) {
      const e = (r * c) / total;
      let o = o0;
      if (dof === 1 && correction) {
        const diff = e - o;
        o += Math.sign(diff) * Math.min(0.5, Math.abs(diff));
      }
      stat += ((o - e) * (o - e)) / e;
    }
  }
  return { statistic: stat, pValue: chi2Sf(stat, dof), dof };
}

/**
 * Evidently's `z` test for a binary feature: the difference of the share of one category between
 * the two samples, pooled standard error, two-sided.
 */
export function zTestProportions(k1: number, n1: number, k2: number, n2: number): TestResult {
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const p = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se === 0 || !Number.isFinite(se)) return { statistic: 0, pValue: p1 === p2 ? 1 : 0 };
  const z = (p1 - p2) / se;
  return { statistic: z, pValue: 2 * normalSf(Math.abs(z)) };
}
