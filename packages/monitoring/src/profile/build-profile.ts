/**
 * Builds the reference profile of a training set. Pure: columns in, JSON-ready object out.
 *
 * @example
 * const profile = buildReferenceProfile(
 *   { distance: new Float64Array([...]), origin: ['SFO', 'LAX', null] },
 *   { prediction: { task: 'binary-classification', outputs: { probability: probs, label: labels } } },
 * );
 */
import { TrestleError } from '@trestle/core';
import { binOf, quantileCuts } from './bins.js';
import { sortFloat64 } from '../stats/sort.js';
import { columnKind, columnLength, toDictionary, toFloat64, type Column, type FeatureKind } from './columns.js';
import {
  PROFILE_VERSION,
  type CategoricalFeatureProfile,
  type FeatureProfile,
  type NumericFeatureProfile,
  type PredictionTask,
  type ReferenceProfile,
} from './schema.js';

export interface ProfileOptions {
  /** Quantile bins per numeric feature (deduplicated, so possibly fewer). Default 20. */
  bins?: number;
  /** Categories kept by name per categorical feature; the rest count as "other". Default 100. */
  topK?: number;
  /** Names of "other" categories kept so that unseen categories are told from rare ones. Default 10,000. */
  maxOtherCategories?: number;
  /** References of at most this many values keep them all (sorted) for exact small-sample tests. Default 1,000. */
  sampleSize?: number;
  /** Forces a kind per feature (a numeric code column that is really categorical, say). */
  kinds?: Readonly<Record<string, FeatureKind>>;
  /** The model's outputs on the training (or evaluation) rows: the prediction profile. */
  prediction?: { task: PredictionTask; outputs: Readonly<Record<string, Column>> };
}

const PROBABILITY_CUTS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Profiles every column of a training table. All columns must have the same length. */
export function buildReferenceProfile(
  columns: Readonly<Record<string, Column>>,
  options: ProfileOptions = {},
): ReferenceProfile {
  const names = Object.keys(columns);
  const rows = names.length === 0 ? 0 : columnLength(columns[names[0]!]!);
  for (const name of names) {
    const len = columnLength(columns[name]!);
    if (len !== rows) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `column '${name}' has ${len} rows but '${names[0]}' has ${rows}; all columns must have the same length`,
        { column: name },
      );
    }
  }
  const features = names.map((name) => profileColumn(name, columns[name]!, options));
  const profile: ReferenceProfile = { format: 'trestle.reference-profile', version: PROFILE_VERSION, rows, features };
  if (options.prediction !== undefined) {
    const { task, outputs } = options.prediction;
    profile.prediction = {
      task,
      outputs: Object.entries(outputs).map(([name, column]) =>
        name === 'probability' && task === 'binary-classification'
          ? profileNumeric(name, toFloat64(name, column), { ...options, fixedCuts: PROBABILITY_CUTS })
          : profileColumn(name, column, options),
      ),
    };
  }
  return profile;
}

/** Profiles one column (numeric or categorical, by storage type or `options.kinds`). */
export function profileColumn(name: string, column: Column, options: ProfileOptions = {}): FeatureProfile {
  const kind = options.kinds?.[name] ?? columnKind(name, column);
  return kind === 'numeric'
    ? profileNumeric(name, toFloat64(name, column), options)
    : profileCategorical(name, column, options);
}

function profileNumeric(
  name: string,
  values: Float64Array,
  options: ProfileOptions & { fixedCuts?: number[] },
): NumericFeatureProfile {
  const maxBins = options.bins ?? 20;
  if (!Number.isInteger(maxBins) || maxBins < 2) {
    throw new TrestleError('INVALID_ARGUMENT', `bins must be an integer >= 2, got ${maxBins}`);
  }
  const present = new Float64Array(values.length);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) continue;
    if (!Number.isFinite(v)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `column '${name}' row ${i} is ${v}; only finite numbers or NaN (missing)`,
        {
          column: name,
          row: i,
        },
      );
    }
    present[n++] = v;
    sum += v;
  }
  const sorted = sortFloat64(present.subarray(0, n));
  let distinct = n === 0 ? 0 : 1;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  const mean = n === 0 ? null : sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (sorted[i]! - mean!) ** 2;
  const min = n === 0 ? null : sorted[0]!;
  const max = n === 0 ? null : sorted[n - 1]!;
  const cuts = options.fixedCuts !== undefined ? options.fixedCuts.slice() : quantileCuts(sorted, distinct, maxBins);
  const counts = new Array<number>(cuts.length + 1).fill(0);
  // Sorted values: walk the bins instead of searching each value.
  let bin = 0;
  for (let i = 0; i < n; i++) {
    const v = sorted[i]!;
    while (bin < cuts.length && cuts[bin]! <= v) bin++;
    counts[bin]!++;
  }
  const profile: NumericFeatureProfile = {
    name,
    kind: 'numeric',
    count: n,
    nulls: values.length - n,
    distinct,
    min,
    max,
    mean,
    std: n === 0 ? null : Math.sqrt(ss / n),
    cuts,
    counts,
  };
  if (n > 0 && n <= (options.sampleSize ?? 1000)) profile.sample = Array.from(sorted);
  return profile;
}

function profileCategorical(name: string, column: Column, options: ProfileOptions): CategoricalFeatureProfile {
  const topK = options.topK ?? 100;
  const maxOther = options.maxOtherCategories ?? 10_000;
  const { codes, dictionary } = toDictionary(name, column);
  const tally = new Float64Array(dictionary.length);
  let nulls = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c < 0 || c >= dictionary.length) nulls++;
    else tally[c]!++;
  }
  // A dictionary may repeat a name (two codes, one category): merge by name.
  const byName = new Map<string, number>();
  for (let c = 0; c < dictionary.length; c++) {
    if (tally[c] === 0) continue;
    const key = dictionary[c]!;
    byName.set(key, (byName.get(key) ?? 0) + tally[c]!);
  }
  const ranked = [...byName.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const top = ranked.slice(0, topK);
  const rest = ranked.slice(topK);
  return {
    name,
    kind: 'categorical',
    count: codes.length - nulls,
    nulls,
    distinct: ranked.length,
    categories: top.map(([k]) => k),
    counts: top.map(([, v]) => v),
    otherCount: rest.reduce((s, [, v]) => s + v, 0),
    otherCategories: rest.slice(0, maxOther).map(([k]) => k),
    otherCategoriesTruncated: rest.length > maxOther,
  };
}

/** Bin index of a value in a numeric profile, or -1 below min, -2 above max. */
export function profileBin(profile: NumericFeatureProfile, x: number): number {
  if (profile.min === null || x < profile.min) return -1;
  if (x > profile.max!) return -2;
  return binOf(profile.cuts, x);
}
