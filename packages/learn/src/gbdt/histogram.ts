import { BINS_PER_FEATURE } from './binning.js';

/**
 * Gradient histograms: per feature and bin, the sums of gradients and hessians and the
 * row count, interleaved (`[(f * 256 + bin) * 3 + 0|1|2]`) so one row's update touches
 * three adjacent numbers per feature.
 */
export const HIST_STRIDE = 3;

/** Length of one node's histogram for `features` features. */
export function histogramLength(features: number): number {
  return features * BINS_PER_FEATURE * HIST_STRIDE;
}

/**
 * Sums gradients, hessians and counts of the rows `idx[start..end)` into `hist`
 * (overwriting it). `binned` is row-major rows × F.
 */
export function buildHistogram(
  hist: Float64Array,
  binned: Uint8Array,
  F: number,
  idx: Int32Array,
  start: number,
  end: number,
  grad: Float64Array,
  hess: Float64Array,
): void {
  hist.fill(0);
  if (F === 1) {
    for (let i = start; i < end; i++) {
      const r = idx[i]!;
      const o = binned[r]! * 3;
      hist[o] = hist[o]! + grad[r]!;
      hist[o + 1] = hist[o + 1]! + hess[r]!;
      hist[o + 2] = hist[o + 2]! + 1;
    }
    return;
  }
  for (let i = start; i < end; i++) {
    const r = idx[i]!;
    const g = grad[r]!;
    const h = hess[r]!;
    const base = r * F;
    for (let f = 0; f < F; f++) {
      const o = ((f << 8) | binned[base + f]!) * 3;
      hist[o] = hist[o]! + g;
      hist[o + 1] = hist[o + 1]! + h;
      hist[o + 2] = hist[o + 2]! + 1;
    }
  }
}

/** `parent −= child`: the sibling's histogram without touching its rows (the subtraction trick). */
export function subtractHistogram(parent: Float64Array, child: Float64Array): void {
  for (let i = 0; i < parent.length; i++) parent[i] = parent[i]! - child[i]!;
}
