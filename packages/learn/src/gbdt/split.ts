import { BINS_PER_FEATURE, MISSING_BIN, type Binner } from './binning.js';
import { HIST_STRIDE } from './histogram.js';

/** Tree-growth constraints used when searching splits. */
export interface SplitParams {
  readonly l2: number;
  readonly minSamplesLeaf: number;
  readonly minHessianLeaf: number;
}

/**
 * The best split of a node: `goLeft[bin]` is 1 for the bins (the missing bin included)
 * that go to the left child.
 */
export interface Split {
  readonly gain: number;
  readonly feature: number;
  /** Numeric: bins ≤ this go left (a missing value follows `goLeft[255]`); −1 for categorical. */
  readonly bin: number;
  readonly goLeft: Uint8Array;
  readonly leftG: number;
  readonly leftH: number;
  readonly leftCount: number;
}

/** Categories seen fewer times than this in a node take no part in the ordering (as scikit-learn). */
const MIN_CATEGORY_SUPPORT = 10;

/**
 * Best split over the features with `mask[f] === 1`, or null when none has a positive
 * gain under the constraints. Gain = G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ).
 */
export function findBestSplit(
  hist: Float64Array,
  binners: readonly Binner[],
  mask: Uint8Array,
  G: number,
  H: number,
  C: number,
  p: SplitParams,
): Split | null {
  const { l2, minSamplesLeaf: minC, minHessianLeaf: minH } = p;
  const parent = (G * G) / (H + l2);
  let bestGain = 1e-12;
  let best: Split | null = null;

  for (let f = 0; f < binners.length; f++) {
    if (mask[f] !== 1) continue;
    const binner = binners[f]!;
    const base = f * BINS_PER_FEATURE * HIST_STRIDE;
    const mo = base + MISSING_BIN * HIST_STRIDE;
    const mg = hist[mo]!;
    const mh = hist[mo + 1]!;
    const mc = hist[mo + 2]!;

    if (binner.type === 'numeric') {
      const nb = binner.bins;
      let fBest = -1;
      let fGain = bestGain;
      let fMissingLeft = false;
      let fGL = 0;
      let fHL = 0;
      let fCL = 0;
      // Pass 0: missing values go right (and, if there are any, also "all values left,
      // missing right"); pass 1: missing values go left.
      for (let pass = 0; pass < (mc > 0 ? 2 : 1); pass++) {
        let gl = pass === 1 ? mg : 0;
        let hl = pass === 1 ? mh : 0;
        let cl = pass === 1 ? mc : 0;
        const last = pass === 0 && mc > 0 ? nb - 1 : nb - 2;
        for (let b = 0; b <= last; b++) {
          const o = base + b * HIST_STRIDE;
          gl += hist[o]!;
          hl += hist[o + 1]!;
          cl += hist[o + 2]!;
          if (cl < minC || hl < minH) continue;
          const cr = C - cl;
          const hr = H - hl;
          if (cr < minC || hr < minH) break;
          const gr = G - gl;
          const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parent;
          if (gain > fGain) {
            fGain = gain;
            fBest = b;
            fMissingLeft = pass === 1;
            fGL = gl;
            fHL = hl;
            fCL = cl;
          }
        }
      }
      if (fBest >= 0) {
        const goLeft = new Uint8Array(BINS_PER_FEATURE);
        for (let b = 0; b <= fBest; b++) goLeft[b] = 1;
        // No missing value in this node: send future ones to the bigger child.
        goLeft[MISSING_BIN] = (mc > 0 ? fMissingLeft : fCL >= C - fCL) ? 1 : 0;
        bestGain = fGain;
        best = { gain: fGain, feature: f, bin: fBest, goLeft, leftG: fGL, leftH: fHL, leftCount: fCL };
      }
    } else {
      const cats: number[] = [];
      for (let b = 0; b < binner.bins; b++) if (hist[base + b * HIST_STRIDE + 2]! >= MIN_CATEGORY_SUPPORT) cats.push(b);
      if (mc >= MIN_CATEGORY_SUPPORT) cats.push(MISSING_BIN);
      const m = cats.length;
      if (m < 2) continue;
      sortCategories(cats, hist, base);
      let fGain = bestGain;
      let fK = -1;
      let fDir = 0;
      let fGL = 0;
      let fHL = 0;
      let fCL = 0;
      for (let dir = 0; dir < 2; dir++) {
        let gl = 0;
        let hl = 0;
        let cl = 0;
        for (let k = 0; k < m - 1; k++) {
          const b = cats[dir === 0 ? k : m - 1 - k]!;
          const o = base + b * HIST_STRIDE;
          gl += hist[o]!;
          hl += hist[o + 1]!;
          cl += hist[o + 2]!;
          if (cl < minC || hl < minH) continue;
          const cr = C - cl;
          const hr = H - hl;
          if (cr < minC || hr < minH) break;
          const gr = G - gl;
          const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parent;
          if (gain > fGain) {
            fGain = gain;
            fK = k;
            fDir = dir;
            fGL = gl;
            fHL = hl;
            fCL = cl;
          }
        }
      }
      if (fK >= 0) {
        const goLeft = new Uint8Array(BINS_PER_FEATURE);
        for (let k = 0; k <= fK; k++) goLeft[cats[fDir === 0 ? k : m - 1 - k]!] = 1;
        if (mc === 0) goLeft[MISSING_BIN] = fCL >= C - fCL ? 1 : 0;
        bestGain = fGain;
        best = { gain: fGain, feature: f, bin: -1, goLeft, leftG: fGL, leftH: fHL, leftCount: fCL };
      }
    }
  }
  return best;
}

const sortKeys = new Float64Array(BINS_PER_FEATURE);
const sortFilled = new Uint8Array(BINS_PER_FEATURE);
const sortOut = new Int32Array(BINS_PER_FEATURE);

/**
 * Orders categories by G / (H + support), as scikit-learn does. A comparator sort cost as
 * much as building the histograms, so the keys go through the native Float64Array sort
 * and each category finds its slot by binary search (ties keep their order).
 */
function sortCategories(cats: number[], hist: Float64Array, base: number): void {
  const m = cats.length;
  const keys = sortKeys.subarray(0, m);
  for (let j = 0; j < m; j++) {
    const o = base + cats[j]! * HIST_STRIDE;
    keys[j] = hist[o]! / (hist[o + 1]! + MIN_CATEGORY_SUPPORT);
  }
  const sorted = Float64Array.from(keys).sort();
  sortFilled.fill(0, 0, m);
  for (let j = 0; j < m; j++) {
    const k = keys[j]!;
    let lo = 0;
    let hi = m;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    while (sortFilled[lo] === 1) lo++;
    sortFilled[lo] = 1;
    sortOut[lo] = cats[j]!;
  }
  for (let j = 0; j < m; j++) cats[j] = sortOut[j]!;
}
