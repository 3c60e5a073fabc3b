/**
 * Data quality of a window, from its summary: schema violations (values of the wrong type,
 * features missing from requests, inputs the model does not know), missing values against the
 * reference's share, numeric values outside the training range, categories never seen in
 * training. Each check passes or fails against a configurable limit.
 */
import type { ReferenceProfile, WindowSummary } from '../profile/schema.js';

export interface QualityOptions {
  /** A feature fails when its null share exceeds the reference's by more than this. Default 0.1. */
  maxNullShareIncrease?: number;
  /** Share of values outside the training range allowed per numeric feature. Default 0.05. */
  maxOutOfRangeShare?: number;
  /** Share of unseen categories allowed per categorical feature. Default 0.05. */
  maxUnseenShare?: number;
  /** Share of rows with a schema violation allowed. Default 0. */
  maxSchemaViolationShare?: number;
}

export interface FeatureQuality {
  name: string;
  kind: 'numeric' | 'categorical';
  rows: number;
  nulls: number;
  nullShare: number;
  referenceNullShare: number;
  /** Values of the wrong type (a string where a number belongs). */
  invalid: number;
  /** Rows where the feature was absent. */
  missing: number;
  /** Numeric: values below the training minimum or above its maximum. */
  outOfRange?: number;
  outOfRangeShare?: number;
  /** Categorical: values of categories never seen in training, and the first of them. */
  unseen?: number;
  unseenShare?: number;
  unseenValues?: Record<string, number>;
  /** Checks this feature failed: `nulls`, `range`, `unseen`, `schema`. */
  failed: string[];
}

export interface QualityCheck {
  name: 'schema' | 'nulls' | 'range' | 'unseen';
  passed: boolean;
  /** Features that failed it. */
  features: string[];
  /** The worst share seen and the limit it was held to. */
  value: number;
  limit: number;
}

export interface WindowQuality {
  rows: number;
  features: FeatureQuality[];
  /** Inputs in requests that the profile does not know, with their counts (bounded). */
  unknownFeatures: Record<string, number>;
  schemaViolations: number;
  checks: QualityCheck[];
  passed: boolean;
}

const share = (part: number, whole: number): number => (whole > 0 ? part / whole : 0);

/**
 * @example
 * const q = windowQuality(profile, window);
 * if (!q.passed) console.log(q.checks.filter((c) => !c.passed));
 */
export function windowQuality(
  profile: ReferenceProfile,
  window: WindowSummary,
  options: QualityOptions = {},
): WindowQuality {
  const maxNull = options.maxNullShareIncrease ?? 0.1;
  const maxRange = options.maxOutOfRangeShare ?? 0.05;
  const maxUnseen = options.maxUnseenShare ?? 0.05;
  const maxSchema = options.maxSchemaViolationShare ?? 0;
  const rows = window.rows;
  const features: FeatureQuality[] = profile.features.map((p, i) => {
    const f = window.features[i]!;
    const missing = window.missingFeatures[p.name] ?? 0;
    // A missing feature is counted as a null by the accumulator too; report it once, as missing.
    const nulls = Math.max(0, f.nulls - missing);
    const refTotal = p.count + p.nulls;
    const q: FeatureQuality = {
      name: p.name,
      kind: p.kind,
      rows,
      nulls,
      nullShare: share(nulls, rows),
      referenceNullShare: share(p.nulls, refTotal),
      invalid: f.invalid,
      missing,
      failed: [],
    };
    if (q.nullShare - q.referenceNullShare > maxNull) q.failed.push('nulls');
    if (f.invalid + missing > maxSchema * rows) q.failed.push('schema');
    if (f.kind === 'numeric') {
      q.outOfRange = f.under + f.over;
      q.outOfRangeShare = share(q.outOfRange, f.count);
      if (q.outOfRangeShare > maxRange) q.failed.push('range');
    } else {
      q.unseen = f.unseen;
      q.unseenShare = share(f.unseen, f.count);
      q.unseenValues = f.unseenValues;
      if (q.unseenShare > maxUnseen) q.failed.push('unseen');
    }
    return q;
  });
  const unknownRows = Object.values(window.unknownFeatures).reduce((a, b) => Math.max(a, b), 0);
  const schemaViolations = features.reduce((s, f) => s + f.invalid + f.missing, 0) + unknownRows;
  const failing = (check: string): string[] => features.filter((f) => f.failed.includes(check)).map((f) => f.name);
  const worst = (values: (number | undefined)[]): number => values.reduce<number>((m, v) => Math.max(m, v ?? 0), 0);
  const schemaShare = share(worst(features.map((f) => f.invalid + f.missing)) + unknownRows, rows);
  const checks: QualityCheck[] = [
    {
      name: 'schema',
      passed: schemaShare <= maxSchema,
      features: [...failing('schema'), ...Object.keys(window.unknownFeatures)],
      value: schemaShare,
      limit: maxSchema,
    },
    {
      name: 'nulls',
      passed: failing('nulls').length === 0,
      features: failing('nulls'),
      value: worst(features.map((f) => f.nullShare - f.referenceNullShare)),
      limit: maxNull,
    },
    {
      name: 'range',
      passed: failing('range').length === 0,
      features: failing('range'),
      value: worst(features.map((f) => f.outOfRangeShare)),
      limit: maxRange,
    },
    {
      name: 'unseen',
      passed: failing('unseen').length === 0,
      features: failing('unseen'),
      value: worst(features.map((f) => f.unseenShare)),
      limit: maxUnseen,
    },
  ];
  return {
    rows,
    features,
    unknownFeatures: window.unknownFeatures,
    schemaViolations,
    checks,
    passed: checks.every((c) => c.passed),
  };
}
