/**
 * Drift from window summaries: the reference profile (or an earlier window) against a window,
 * feature by feature on the profile's bins, in O(features × bins) whatever the traffic.
 *
 * Categorical counts are exact, so chi-square, Z, JS, PSI, KL and Hellinger equal what the raw
 * rows would give on those categories. Numeric features are known by bin: KS uses the largest
 * gap of the binned CDFs (a lower bound of the exact D) and Wasserstein treats values as spread
 * evenly inside each bin (exact when every distinct reference value has its own bin); values
 * outside the reference range count at their mean.
 */
import { TrestleError } from '@trestle/core';
import type {
  CategoricalFeatureProfile,
  FeatureProfile,
  NumericFeatureProfile,
  ReferenceProfile,
  WindowFeature,
  WindowSummary,
} from '../profile/schema.js';
import { binsDigest } from '../profile/parse.js';
import type { BinnedLine } from '../stats/distances.js';
import { chooseMethod, isDrift, METHODS, type DriftOptions } from './methods.js';
import { summarize, type DatasetDrift, type FeatureDrift } from './result.js';
import { scoreBuckets, type Buckets } from './score.js';

/** One side of a comparison: the profile itself, or a window on its bins. */
type Side = { kind: 'profile'; rows: number } | { kind: 'window'; window: WindowSummary };

function numericBuckets(
  p: NumericFeatureProfile,
  f: WindowFeature | null,
): { counts: number[]; line: BinnedLine; n: number; std: number } {
  const min = p.min ?? 0;
  const max = p.max ?? 0;
  const lower = [min, ...p.cuts];
  const upper = [...p.cuts, max];
  // Few distinct values, each its own bin: the bins are points, not ranges.
  const discrete = p.distinct <= p.cuts.length + 1;
  const bins = p.cuts.length + 1;
  const lo = new Float64Array(bins + 2);
  const hi = new Float64Array(bins + 2);
  const mass = new Float64Array(bins + 2);
  for (let i = 0; i < bins; i++) {
    lo[i + 1] = lower[i]!;
    hi[i + 1] = discrete ? lower[i]! : upper[i]!;
  }
  let n: number;
  let std: number;
  if (f === null) {
    p.counts.forEach((c, i) => (mass[i + 1] = c));
    lo[0] = hi[0] = min;
    lo[bins + 1] = hi[bins + 1] = max;
    n = p.count;
    std = p.std ?? 0;
  } else {
    if (f.kind !== 'numeric')
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `feature '${p.name}' is numeric in the profile but ${f.kind} in the window`,
      );
    f.counts.forEach((c, i) => (mass[i + 1] = c));
    mass[0] = f.under;
    mass[bins + 1] = f.over;
    lo[0] = hi[0] = f.under > 0 ? f.underSum / f.under : min;
    lo[bins + 1] = hi[bins + 1] = f.over > 0 ? f.overSum / f.over : max;
    n = f.count;
    const mean = n > 0 ? f.sum / n : 0;
    std = n > 0 ? Math.sqrt(Math.max(0, f.sumSquares / n - mean * mean)) : 0;
  }
  return { counts: Array.from(mass), line: { lo, hi, mass }, n, std };
}

function categoricalBuckets(
  p: CategoricalFeatureProfile,
  f: WindowFeature | null,
): { counts: number[]; n: number; unseenNames: number } {
  if (f === null) return { counts: [...p.counts, p.otherCount, 0], n: p.count, unseenNames: 0 };
  if (f.kind !== 'categorical')
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `feature '${p.name}' is categorical in the profile but ${f.kind} in the window`,
    );
  return { counts: [...f.counts, f.other, f.unseen], n: f.count, unseenNames: Object.keys(f.unseenValues).length };
}

function featureDrift(
  p: FeatureProfile,
  ref: Side,
  refFeature: WindowFeature | null,
  cur: WindowFeature,
  options: DriftOptions,
): FeatureDrift {
  const refRows = ref.kind === 'profile' ? ref.rows : ref.window.rows;
  let buckets: Buckets;
  let nRef: number;
  let nCur: number;
  let nUnique: number;
  if (p.kind === 'numeric') {
    const r = numericBuckets(p, refFeature);
    const c = numericBuckets(p, cur);
    buckets = { ref: r.counts, cur: c.counts, line: { ref: r.line, cur: c.line }, refStd: r.std };
    nRef = r.n;
    nCur = c.n;
    nUnique = p.distinct;
  } else {
    const r = categoricalBuckets(p, refFeature);
    const c = categoricalBuckets(p, cur);
    buckets = { ref: r.counts, cur: c.counts };
    nRef = r.n;
    nCur = c.n;
    nUnique = p.distinct + r.unseenNames + c.unseenNames;
  }
  const { method, threshold } = chooseMethod(p.name, p.kind, refRows, nUnique, options);
  const base = {
    name: p.name,
    kind: p.kind,
    method,
    scoreKind: METHODS[method].score,
    threshold,
    referenceCount: nRef,
    currentCount: nCur,
    basis: 'summary' as const,
  };
  const why = nRef === 0 ? 'no values in the reference' : nCur === 0 ? 'no values in the current window' : undefined;
  if (why !== undefined) return { ...base, score: null, drifted: false, skipped: why };
  const s = scoreBuckets(method, buckets);
  return {
    ...base,
    score: s.score,
    ...(s.statistic === undefined ? {} : { statistic: s.statistic }),
    drifted: isDrift(method, s.score, threshold),
  };
}

function checkWindow(profile: ReferenceProfile, w: WindowSummary, digest: string, what: string): void {
  if (w.binsDigest !== digest) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `the ${what} window was built on other bins (digest ${w.binsDigest}) than this reference profile (${digest}); it belongs to another model version`,
    );
  }
  if (w.features.length !== profile.features.length) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `the ${what} window has ${w.features.length} features, the profile ${profile.features.length}`,
    );
  }
}

function compare(profile: ReferenceProfile, ref: Side, current: WindowSummary, options: DriftOptions): DatasetDrift {
  const digest = binsDigest(profile);
  checkWindow(profile, current, digest, 'current');
  if (ref.kind === 'window') checkWindow(profile, ref.window, digest, 'reference');
  const features = profile.features.map((p, i) =>
    featureDrift(p, ref, ref.kind === 'window' ? ref.window.features[i]! : null, current.features[i]!, options),
  );
  const outputs = profile.prediction?.outputs ?? [];
  const prediction = outputs.flatMap((p, i) => {
    const cur = current.outputs[i];
    if (cur === undefined) return [];
    const refFeature = ref.kind === 'window' ? (ref.window.outputs[i] ?? null) : null;
    // Outputs are compared with the method of their kind, never a per-feature override of the inputs.
    return [featureDrift(p, ref, refFeature, cur, { ...options, perColumnMethod: {}, perColumnThreshold: {} })];
  });
  return summarize(features, prediction, options.driftShare ?? 0.5);
}

/**
 * Drift of a window against the reference profile it was built on.
 *
 * @example
 * const drift = driftFromSummary(profile, window);
 * drift.datasetDrift; drift.features.filter((f) => f.drifted).map((f) => f.name);
 */
export function driftFromSummary(
  profile: ReferenceProfile,
  window: WindowSummary,
  options: DriftOptions = {},
): DatasetDrift {
  return compare(profile, { kind: 'profile', rows: profile.rows }, window, options);
}

/** Drift between two windows on the same profile's bins (`reference` plays the training data's part). */
export function driftBetweenWindows(
  profile: ReferenceProfile,
  reference: WindowSummary,
  current: WindowSummary,
  options: DriftOptions = {},
): DatasetDrift {
  return compare(profile, { kind: 'window', window: reference }, current, options);
}
