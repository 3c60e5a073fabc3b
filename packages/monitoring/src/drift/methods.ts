/**
 * The drift tests and how each decides (Evidently's registry, `drift-methods.md`): p-value
 * tests flag drift below their threshold (KS at or below), distances at or above it.
 */
import { TrestleError } from '@trestle/core';

export const DRIFT_METHODS = [
  'ks',
  'chisquare',
  'z',
  'wasserstein',
  'jensenshannon',
  'psi',
  'kl_div',
  'hellinger',
] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

export interface MethodInfo {
  /** What the score is: a p-value (small = drift) or a distance (large = drift). */
  score: 'p_value' | 'distance';
  defaultThreshold: number;
  /** Feature kinds the method applies to. */
  kinds: readonly ('numeric' | 'categorical')[];
  title: string;
}

export const METHODS: Readonly<Record<DriftMethod, MethodInfo>> = {
  ks: { score: 'p_value', defaultThreshold: 0.05, kinds: ['numeric'], title: 'Kolmogorov–Smirnov' },
  chisquare: { score: 'p_value', defaultThreshold: 0.05, kinds: ['numeric', 'categorical'], title: 'chi-square' },
  z: { score: 'p_value', defaultThreshold: 0.05, kinds: ['numeric', 'categorical'], title: 'Z-test (proportions)' },
  wasserstein: { score: 'distance', defaultThreshold: 0.1, kinds: ['numeric'], title: 'Wasserstein (normed)' },
  jensenshannon: {
    score: 'distance',
    defaultThreshold: 0.1,
    kinds: ['numeric', 'categorical'],
    title: 'Jensen–Shannon distance',
  },
  psi: { score: 'distance', defaultThreshold: 0.1, kinds: ['numeric', 'categorical'], title: 'PSI' },
  kl_div: { score: 'distance', defaultThreshold: 0.1, kinds: ['numeric', 'categorical'], title: 'Kullback–Leibler' },
  hellinger: {
    score: 'distance',
    defaultThreshold: 0.1,
    kinds: ['numeric', 'categorical'],
    title: 'Hellinger distance',
  },
};

/** Whether a score means drift for a method and threshold. */
export function isDrift(method: DriftMethod, score: number, threshold: number): boolean {
  if (method === 'ks') return score <= threshold;
  return METHODS[method].score === 'p_value' ? score < threshold : score >= threshold;
}

/** Options of every drift computation, with Evidently's `DataDriftPreset` overrides. */
export interface DriftOptions {
  /** One method for every feature (else the automatic choice). */
  method?: DriftMethod;
  numMethod?: DriftMethod;
  catMethod?: DriftMethod;
  perColumnMethod?: Readonly<Record<string, DriftMethod>>;
  threshold?: number;
  numThreshold?: number;
  catThreshold?: number;
  perColumnThreshold?: Readonly<Record<string, number>>;
  /** Dataset drift when the share of drifted features is at least this. Default 0.5. */
  driftShare?: number;
}

/** The automatic choice only compares distinct counts with 2 and 5: counting to 6 is enough. */
export const AUTO_UNIQUE_LIMIT = 6;

/**
 * Evidently's automatic choice: for references of at most 1,000 rows KS (numeric with more than
 * 5 values), else chi-square (more than 2 values) or the Z-test; for larger references
 * Wasserstein (numeric) or Jensen–Shannon.
 */
export function defaultMethod(kind: 'numeric' | 'categorical', referenceRows: number, nUnique: number): DriftMethod {
  const small = referenceRows <= 1000;
  if (kind === 'numeric' && nUnique > 5) return small ? 'ks' : 'wasserstein';
  if (small) return nUnique > 2 ? 'chisquare' : 'z';
  return 'jensenshannon';
}

/** The method and threshold for one feature under the options. */
export function chooseMethod(
  name: string,
  kind: 'numeric' | 'categorical',
  referenceRows: number,
  nUnique: number,
  options: DriftOptions,
): { method: DriftMethod; threshold: number } {
  const method =
    options.perColumnMethod?.[name] ??
    options.method ??
    (kind === 'numeric' ? options.numMethod : options.catMethod) ??
    defaultMethod(kind, referenceRows, nUnique);
  if (!(DRIFT_METHODS as readonly string[]).includes(method)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `unknown drift method '${method}'; use one of ${DRIFT_METHODS.join(', ')}`,
    );
  }
  if (!METHODS[method].kinds.includes(kind)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `drift method '${method}' does not apply to the ${kind} feature '${name}'; use one of ${DRIFT_METHODS.filter((m) => METHODS[m].kinds.includes(kind)).join(', ')}`,
      { feature: name },
    );
  }
  const threshold =
    options.perColumnThreshold?.[name] ??
    options.threshold ??
    (kind === 'numeric' ? options.numThreshold : options.catThreshold) ??
    METHODS[method].defaultThreshold;
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new TrestleError('INVALID_ARGUMENT', `drift threshold for '${name}' must be a number >= 0, got ${threshold}`);
  }
  return { method, threshold };
}
