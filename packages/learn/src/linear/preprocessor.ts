import { TrestleError } from '@trestle/core';
import { featureSpecs, findColumn, RemapCache, type ColumnBatch, type FeatureSpec } from '../columns.js';
import type { CategoricalFeature, DesignMatrix } from '../design-matrix.js';
import { json } from '../json-reader.js';

/** How one numeric feature is prepared: impute, then standardise; optionally a missing flag. */
export interface NumericStep {
  readonly name: string;
  /** Value put in place of a missing one: the training mean. */
  readonly impute: number;
  readonly mean: number;
  /** Population standard deviation (1 for a constant feature). */
  readonly std: number;
  /** Whether a 0/1 "was missing" column follows (only when training data had missing values). */
  readonly indicator: boolean;
}

/** How one categorical feature is prepared: one-hot over `levels`; anything else is all zeros. */
export interface CategoricalStep {
  readonly name: string;
  readonly levels: readonly string[];
}

/** Options of {@link Preprocessor.fit}. */
export interface PreprocessorOptions {
  /** At most this many levels per categorical feature, the most frequent. Default 255. */
  readonly maxCategories?: number;
  /** Levels seen fewer times than this in training get no column. Default 1. */
  readonly minCategoryCount?: number;
}

/**
 * Feature preparation for linear models, fitted on training data only and stored with
 * the model: numeric features are imputed with the training mean (plus a missing-value
 * indicator column when training had missing values) and standardised; categorical
 * features are one-hot encoded over the training levels, and a missing, rare or unseen
 * category contributes nothing (all-zero block).
 *
 * @example
 * const prep = Preprocessor.fit(train, ['distance', 'origin']);
 * const Xtrain = prep.transform(train); // DesignMatrix for trainLogisticRegression
 * const Xtest = prep.transform(test);   // same means, scales and levels
 * const saved = prep.toJSON();
 */
export class Preprocessor {
  /** Input features in their original order. */
  readonly features: readonly FeatureSpec[];
  readonly numeric: readonly NumericStep[];
  readonly categorical: readonly CategoricalStep[];
  readonly #remap = new RemapCache();

  constructor(
    features: readonly FeatureSpec[],
    numeric: readonly NumericStep[],
    categorical: readonly CategoricalStep[],
  ) {
    this.features = features;
    this.numeric = numeric;
    this.categorical = categorical;
  }

  /** Fits on `batch` (the named feature columns, default all). */
  static fit(batch: ColumnBatch, names?: readonly string[], options: PreprocessorOptions = {}): Preprocessor {
    const maxCategories = options.maxCategories ?? 255;
    const minCount = options.minCategoryCount ?? 1;
    if (!Number.isInteger(maxCategories) || maxCategories < 1)
      throw new TrestleError('INVALID_ARGUMENT', `maxCategories must be a positive integer, got ${maxCategories}`);
    const specs = featureSpecs(batch, names);
    const numeric: NumericStep[] = [];
    const categorical: CategoricalStep[] = [];
    for (const spec of specs) {
      const col = findColumn(batch, spec.name);
      if (col.type === 'numeric') {
        let n = 0;
        let sum = 0;
        for (let i = 0; i < batch.rows; i++) {
          const v = col.values[i]!;
          if (v === v) {
            n++;
            sum += v;
          }
        }
        const mean = n > 0 ? sum / n : 0;
        let sq = 0;
        for (let i = 0; i < batch.rows; i++) {
          const v = col.values[i]!;
          if (v === v) sq += (v - mean) * (v - mean);
        }
        // Imputed rows sit at the mean, so they add nothing to the variance.
        const std = n > 0 ? Math.sqrt(sq / batch.rows) : 0;
        if (!Number.isFinite(mean) || !Number.isFinite(std))
          throw new TrestleError('INVALID_ARGUMENT', `column '${spec.name}' has infinite values`);
        numeric.push({ name: spec.name, impute: mean, mean, std: std > 0 ? std : 1, indicator: n < batch.rows });
      } else {
        const counts = new Float64Array(col.categories.length);
        for (let i = 0; i < batch.rows; i++) {
          const c = col.codes[i]!;
          if (c >= 0) counts[c]!++;
        }
        const levels = col.categories
          .map((name, c) => ({ name, count: counts[c]! }))
          .filter((l) => l.count >= minCount && l.count > 0)
          .sort((a, b) => b.count - a.count || (a.name < b.name ? -1 : 1))
          .slice(0, maxCategories)
          .map((l) => l.name);
        categorical.push({ name: spec.name, levels });
      }
    }
    return new Preprocessor(specs, numeric, categorical);
  }

  /** Names of the dense columns of the design matrix: numeric features, then missing flags. */
  get denseNames(): string[] {
    return [
      ...this.numeric.map((s) => s.name),
      ...this.numeric.filter((s) => s.indicator).map((s) => `${s.name}__missing`),
    ];
  }

  /**
   * The design matrix of `batch` (columns found by name, categories matched by name).
   *
   * @throws TrestleError `INVALID_ARGUMENT` when a feature column is missing or of another type.
   */
  transform(batch: ColumnBatch): DesignMatrix {
    const n = batch.rows;
    const flags = this.numeric.filter((s) => s.indicator);
    const k = this.numeric.length + flags.length;
    const dense = new Float64Array(n * k);
    let flagAt = this.numeric.length;
    this.numeric.forEach((step, j) => {
      const col = findColumn(
        batch,
        step.name,
        this.features.map((f) => f.name),
      );
      if (col.type !== 'numeric')
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `column '${step.name}' must be numeric (the model was trained on numbers)`,
        );
      const { impute, mean, std } = step;
      const values = col.values;
      for (let i = 0, at = j; i < n; i++, at += k) {
        const v = values[i]!;
        dense[at] = ((v === v ? v : impute) - mean) / std;
      }
      if (step.indicator) {
        for (let i = 0, at = flagAt; i < n; i++, at += k) dense[at] = values[i]! === values[i]! ? 0 : 1;
        flagAt++;
      }
    });
    const categorical: CategoricalFeature[] = this.categorical.map((step, j) => {
      const col = findColumn(
        batch,
        step.name,
        this.features.map((f) => f.name),
      );
      if (col.type !== 'categorical')
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `column '${step.name}' must be categorical (the model was trained on categories)`,
        );
      const remap = this.#remap.remap(j, step.levels, col.categories);
      const codes = new Int32Array(n);
      const L = step.levels.length;
      for (let i = 0; i < n; i++) {
        const c = col.codes[i]!;
        const m = remap === null ? (c < L ? c : -1) : c >= 0 && c < remap.length ? remap[c]! : -1;
        codes[i] = c < 0 ? -1 : m;
      }
      return { name: step.name, levels: step.levels, codes };
    });
    return { rows: n, denseNames: this.denseNames, dense, categorical };
  }

  /** Plain data; read back with {@link Preprocessor.fromJSON}. */
  toJSON(): {
    features: readonly FeatureSpec[];
    numeric: readonly NumericStep[];
    categorical: readonly CategoricalStep[];
  } {
    return { features: this.features, numeric: this.numeric, categorical: this.categorical };
  }

  /** @throws TrestleError `INVALID_ARGUMENT` for a malformed value. */
  static fromJSON(value: unknown): Preprocessor {
    const o = json.object(value, 'preprocessor');
    const features = json.featureSpecs(o['features'], 'preprocessor.features');
    const numeric = json.array(o['numeric'], 'preprocessor.numeric').map((v, i): NumericStep => {
      const s = json.object(v, `preprocessor.numeric[${i}]`);
      const p = `preprocessor.numeric[${i}]`;
      const name = s['name'];
      if (typeof name !== 'string') return json.fail(`'${p}.name' must be a string`);
      const std = json.finite(s['std'], `${p}.std`);
      if (!(std > 0)) json.fail(`'${p}.std' must be positive`);
      return {
        name,
        impute: json.finite(s['impute'], `${p}.impute`),
        mean: json.finite(s['mean'], `${p}.mean`),
        std,
        indicator: s['indicator'] === true,
      };
    });
    const categorical = json.array(o['categorical'], 'preprocessor.categorical').map((v, i): CategoricalStep => {
      const s = json.object(v, `preprocessor.categorical[${i}]`);
      const name = s['name'];
      if (typeof name !== 'string') return json.fail(`'preprocessor.categorical[${i}].name' must be a string`);
      return { name, levels: json.strings(s['levels'], `preprocessor.categorical[${i}].levels`) };
    });
    return new Preprocessor(features, numeric, categorical);
  }
}
