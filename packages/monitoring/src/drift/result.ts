/** The shapes of drift results (JSON-ready: stored by the server and shown by the CLI and the report). */
import type { DriftMethod } from './methods.js';

/** Drift of one feature (or one prediction output). */
export interface FeatureDrift {
  name: string;
  kind: 'numeric' | 'categorical';
  method: DriftMethod;
  /** A p-value or a distance (see `scoreKind`); null when the feature could not be tested. */
  score: number | null;
  scoreKind: 'p_value' | 'distance';
  /** The test statistic behind a p-value (KS D, chi-square, z). */
  statistic?: number;
  threshold: number;
  drifted: boolean;
  referenceCount: number;
  currentCount: number;
  /** `summary`: from bins (O(bins)); `raw`: exact, from the values. */
  basis: 'summary' | 'raw';
  /** Why the feature was not tested (no values in the window, say). */
  skipped?: string;
}

/** Drift of a dataset: every feature, and whether the share of drifted ones reaches `driftShare`. */
export interface DatasetDrift {
  features: FeatureDrift[];
  /** Drift of the model's outputs (prediction drift), when the profile has a prediction profile. */
  prediction: FeatureDrift[];
  drifted: number;
  tested: number;
  share: number;
  driftShare: number;
  datasetDrift: boolean;
}

export function summarize(features: FeatureDrift[], prediction: FeatureDrift[], driftShare = 0.5): DatasetDrift {
  const tested = features.filter((f) => f.skipped === undefined);
  const drifted = tested.filter((f) => f.drifted).length;
  const share = tested.length === 0 ? 0 : drifted / tested.length;
  return {
    features,
    prediction,
    drifted,
    tested: tested.length,
    share,
    driftShare,
    datasetDrift: tested.length > 0 && share >= driftShare,
  };
}
