/**
 * Distances between two distributions given as counts (or frequencies) over the same bins,
 * with SciPy's and Evidently's definitions (natural logarithms throughout).
 */

function normalize(counts: ArrayLike<number>): Float64Array {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i]!;
  const out = new Float64Array(counts.length);
  if (sum > 0) for (let i = 0; i < counts.length; i++) out[i] = counts[i]! / sum;
  return out;
}

/** x·ln(x/y) with SciPy's `rel_entr` conventions (0 when x = 0, ∞ when y = 0 < x). */
function relEntr(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  if (x === 0 && y >= 0) return 0;
  return Infinity;
}

/** Jensen–Shannon distance (the square root of the divergence), as `scipy.spatial.distance.jensenshannon`. */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const a = normalize(p);
  const b = normalize(q);
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i]! + b[i]!) / 2;
    js += relEntr(a[i]!, m) + relEntr(b[i]!, m);
  }
  return Math.sqrt(Math.max(0, js / 2));
}

/**
 * Evidently's fill of empty bins before PSI and KL: zero frequencies become 0.0001, or the
 * smallest non-zero frequency / 10⁶ when that is smaller.
 */
function fillZeros(freq: Float64Array): Float64Array {
  let min = Infinity;
  for (const v of freq) if (v > 0 && v < min) min = v;
  const fill = min < 0.0001 ? min / 1e6 : 0.0001;
  return freq.map((v) => (v === 0 ? fill : v));
}

/** Population Stability Index Σ (r − c)·ln(r / c) over frequencies with empty bins filled. */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const r = fillZeros(normalize(reference));
  const c = fillZeros(normalize(current));
  let s = 0;
  for (let i = 0; i < r.length; i++) s += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return s;
}

/** Kullback–Leibler divergence KL(reference ‖ current) (`scipy.stats.entropy`) over filled frequencies. */
export function klDivergence(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const r = normalize(fillZeros(normalize(reference)));
  const c = normalize(fillZeros(normalize(current)));
  let s = 0;
  for (let i = 0; i < r.length; i++) s += relEntr(r[i]!, c[i]!);
  return s;
}

/** Hellinger distance √(1 − Σ √(p·q)) (Evidently's form, Bhattacharyya coefficient clipped to [0, 1]). */
export function hellinger(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const a = normalize(p);
  const b = normalize(q);
  let bc = 0;
  for (let i = 0; i < a.length; i++) bc += Math.sqrt(a[i]! * b[i]!);
  return Math.sqrt(1 - Math.min(1, Math.max(0, bc)));
}

/**
 * First Wasserstein distance between two sorted samples, as `scipy.stats.wasserstein_distance`
 * (∫ |F_u − F_v| over the line), computed as ∫₀¹ |F_u⁻¹(t) − F_v⁻¹(t)| dt: the quantile
 * functions step at k/nu and k/nv, so the walk compares integers instead of values and its
 * branches follow the sizes, not the data (2–3× faster than merging the values on a million).
 */
export function wassersteinSorted(u: ArrayLike<number>, v: ArrayLike<number>): number {
  const nu = u.length;
  const nv = v.length;
  if (nu === nv) {
    let sum = 0;
    for (let i = 0; i < nu; i++) sum += Math.abs(u[i]! - v[i]!);
    return sum / nu;
  }
  // The quantile step of u ends at (i + 1)/nu = (i + 1)·nv/(nu·nv), that of v at (j + 1)·nu/(nu·nv):
  // integer positions on a grid of nu·nv (exact in doubles below 2⁵³).
  let i = 0;
  let j = 0;
  let t = 0;
  let sum = 0;
  while (i < nu && j < nv) {
    const endU = (i + 1) * nv;
    const endV = (j + 1) * nu;
    const end = endU < endV ? endU : endV;
    sum += Math.abs(u[i]! - v[j]!) * (end - t);
    t = end;
    if (endU === end) i++;
    if (endV === end) j++;
  }
  return sum / nu / nv;
}

/**
 * A distribution on the line known through bins: `segments` spread their mass uniformly over
 * [lo, hi] (a point when lo = hi). Windows of live traffic are only known this way.
 */
export interface BinnedLine {
  lo: ArrayLike<number>;
  hi: ArrayLike<number>;
  mass: ArrayLike<number>;
}

function cdfAt(d: BinnedLine, total: number, x: number, inclusive: boolean): number {
  let f = 0;
  for (let i = 0; i < d.mass.length; i++) {
    const m = d.mass[i]!;
    if (m === 0) continue;
    const lo = d.lo[i]!;
    const hi = d.hi[i]!;
    if (hi <= lo) {
      if (lo < x || (inclusive && lo === x)) f += m;
    } else if (x >= hi) f += m;
    else if (x > lo) f += (m * (x - lo)) / (hi - lo);
  }
  return total > 0 ? f / total : 0;
}

/** ∫|a + (b − a)t/L| dt over [0, L]: the area between two CDFs that are linear on a segment. */
function absLinearArea(a: number, b: number, len: number): number {
  if ((a >= 0 && b >= 0) || (a <= 0 && b <= 0)) return (Math.abs(a + b) / 2) * len;
  const t = (a / (a - b)) * len;
  return (Math.abs(a) * t) / 2 + (Math.abs(b) * (len - t)) / 2;
}

/** First Wasserstein distance between two binned distributions (exact for the binned shapes). */
export function wassersteinBinned(p: BinnedLine, q: BinnedLine): number {
  const sum = (d: BinnedLine): number => {
    let s = 0;
    for (let i = 0; i < d.mass.length; i++) s += d.mass[i]!;
    return s;
  };
  const tp = sum(p);
  const tq = sum(q);
  const points: number[] = [];
  for (const d of [p, q]) {
    for (let i = 0; i < d.mass.length; i++) {
      if (d.mass[i] === 0) continue;
      points.push(d.lo[i]!, d.hi[i]!);
    }
  }
  points.sort((a, b) => a - b);
  let area = 0;
  for (let k = 1; k < points.length; k++) {
    const x0 = points[k - 1]!;
    const x1 = points[k]!;
    if (x1 <= x0) continue;
    const a = cdfAt(p, tp, x0, true) - cdfAt(q, tq, x0, true);
    const b = cdfAt(p, tp, x1, false) - cdfAt(q, tq, x1, false);
    area += absLinearArea(a, b, x1 - x0);
  }
  return area;
}
