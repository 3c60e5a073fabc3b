/**
 * The two-sample Kolmogorov–Smirnov test with SciPy's choice of p-value (`ks_2samp`,
 * `method='auto'`): the exact distribution when both samples have at most 10,000 values, else
 * the Kolmogorov distribution at n = m·n/(m+n) (Simard & L'Ecuyer's selection of formulas).
 */
import { logGamma } from './special.js';

/** Largest sample for which the exact p-value is computed (SciPy's `MAX_AUTO_N`). */
export const KS_EXACT_MAX = 10_000;

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

/** The KS statistic of two sorted samples: the largest gap between their empirical CDFs. */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const x = Math.min(a[i]!, b[j]!);
    while (i < n1 && a[i]! <= x) i++;
    while (j < n2 && b[j]! <= x) j++;
    const gap = Math.abs(i / n1 - j / n2);
    if (gap > d) d = gap;
  }
  return d;
}

/** Two-sample KS test on two sorted, non-empty samples (two-sided). */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  return ksFromStatistic(ksStatistic(a, b), a.length, b.length);
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** The p-value of a KS statistic `d` between samples of sizes n1 and n2. */
export function ksFromStatistic(d: number, n1: number, n2: number): KsResult {
  if (Math.max(n1, n2) <= KS_EXACT_MAX) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    const exactD = h / lcm;
    if (h === 0) return { statistic: exactD, pValue: 1, method: 'exact' };
    const p = n1 === n2 ? outsideSquare(n1, h) : outsideInside(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { statistic: exactD, pValue: p, method: 'exact' };
    d = exactD;
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = Math.round((m * n) / (m + n));
  return { statistic: d, pValue: clip(kolmogorovSf(en, d)), method: 'asymptotic' };
}

function clip(p: number): number {
  return p < 0 ? 0 : p > 1 ? 1 : p;
}

/** P(D_{n,n} >= h/n): the alternating sum of binomial ratios, evaluated Horner-style to avoid cancellation. */
function outsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let term = 1;
    for (let j = 0; j < h; j++) term = ((n - k * h - j) * term) / (n + k * h + j + 1);
    p = term * (1 - p);
  }
  return 2 * p;
}

/**
 * P(D_{m,n} >= h/lcm) for m != n by the lattice-path "inside" recursion kept directly as
 * 1 - p (Viehmann 2021, after Hodges 1958): one sliding column of the path table.
 */
function outsideInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const len = Math.min(2 * maxj + 2, n + 1);
  const col = new Float64Array(len).fill(1);
  for (let j = minj; j < maxj; j++) col[j] = 0;
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (col[jj + minj - lastminj]! * i + val * j) / (i + j);
      col[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) col.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return col[maxj - minj - 1]!;
}

/** One-sided Smirnov tail P(D+_n >= x), exact (Birnbaum–Tingey sum, in logs). */
function smirnovSf(n: number, x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  const last = Math.floor(n * (1 - x));
  let logC = 0;
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    if (j > 0) logC += Math.log(n - j + 1) - Math.log(j);
    const a = 1 - x - j / n;
    const b = x + j / n;
    if (a <= 0) break;
    sum += Math.exp(logC + (n - j) * Math.log(a) + (j - 1) * Math.log(b));
  }
  return x * sum;
}

const PI2 = Math.PI * Math.PI;
const PI4 = PI2 * PI2;
const PI6 = PI4 * PI2;
const SQRT2PI = Math.sqrt(2 * Math.PI);

/** Pelz–Good approximation of the Kolmogorov CDF P(D_n <= x). */
function pelzGoodCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z4 * z4;
  const k = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let kk = maxk; kk > 0; kk--) {
    const m = 2 * kk - 1;
    const m2 = m * m;
    const m4 = m2 * m2;
    const m6 = m4 * m2;
    const qp = Math.pow(q, 8 * kk);
    const coeffs = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6];
    for (let i = 0; i < 4; i++) k[i] = k[i]! * qp + coeffs[i]!;
  }
  const div = [z, 6 * z4, 72 * z4 * z2 * z, 6480 * z4 * z6];
  for (let i = 0; i < 4; i++) k[i] = (k[i]! * q * SQRT2PI) / div[i]!;
  q = Math.exp(-PI2 / 2 / z2);
  let k2extra = 0;
  let k3extra = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let kk = maxk; kk > 0; kk--) {
    const ks2 = kk * kk;
    const qp = Math.pow(q, ks2);
    k2extra += ks2 * qp;
    const kspi = Math.PI * kk;
    k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qp;
  }
  k[2] = k[2]! + (k2extra * PI2 * SQRT2PI) / (-36 * z2 * z);
  k[3] = k[3]! + (k3extra * PI2 * SQRT2PI) / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += k[i]! / Math.pow(n, i / 2);
  return sum;
}

/**
 * Survival function of the two-sided one-sample Kolmogorov statistic D_n, following SciPy's
 * `kstwo.sf` choice of formula. Where SciPy uses the Durbin matrix or Pomeranz recursions
 * (moderate n·x², no effect on a drift decision) this uses Pelz–Good.
 */
export function kolmogorovSf(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const logCdf = logGamma(n + 1) - n * Math.log(n) + n * Math.log(2 * t - 1);
    return 1 - Math.exp(logCdf);
  }
  if (t >= n - 1) return 2 * Math.pow(1 - x, n);
  if (x >= 0.5) return 2 * smirnovSf(n, x);
  const nx2 = t * x;
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2 || (n <= 140 && nx2 > 4)) return 2 * smirnovSf(n, x);
  if (nx2 >= 18) return 0;
  return 1 - pelzGoodCdf(n, x);
}
