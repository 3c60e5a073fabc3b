import { TrestleError } from '@trestle/core';
import {
  addTransposeProduct,
  columnCount,
  featureLayout,
  linearPredictor,
  validateDesignMatrix,
  type DesignMatrix,
  type FeatureLayout,
} from './design-matrix.js';
import { minimizeLbfgs, type LbfgsIteration } from './lbfgs.js';

/** The `format` name written into every serialised logistic-regression model. */
export const LOGISTIC_REGRESSION_FORMAT = 'trestle.logistic-regression';
/** The current version of that format; bumped on incompatible changes. */
export const LOGISTIC_REGRESSION_FORMAT_VERSION = 1;

/**
 * A fitted binary logistic regression, as plain data: `JSON.stringify(model)` is its
 * serialised form and {@link parseLogisticRegressionModel} reads it back.
 * P(y = 1 | x) = σ(w·x + intercept), with `weights` in the logical column order of
 * `layout` (dense columns, then each categorical feature's levels).
 *
 * @example
 * const model = trainLogisticRegression(X, y, { l2: 1e-4 });
 * const json = JSON.stringify(model); // { "format": "trestle.logistic-regression", "formatVersion": 1, … }
 * const same = parseLogisticRegressionModel(json);
 */
export interface LogisticRegressionModel {
  readonly format: typeof LOGISTIC_REGRESSION_FORMAT;
  readonly formatVersion: typeof LOGISTIC_REGRESSION_FORMAT_VERSION;
  /** Feature layout the model was trained on; prediction checks X against it. */
  readonly layout: FeatureLayout;
  /** One weight per logical column. */
  readonly weights: readonly number[];
  readonly intercept: number;
  /** L2 penalty strength used in training (see {@link TrainLogisticRegressionOptions.l2}). */
  readonly l2: number;
  /** Number of training rows. */
  readonly trainingRows: number;
  /** L-BFGS iterations taken. */
  readonly iterations: number;
  /** Whether L-BFGS met a tolerance (false: stopped at maxIterations or a failed line search). */
  readonly converged: boolean;
  /** Penalised objective before training and after each iteration (length iterations + 1). */
  readonly lossHistory: readonly number[];
}

/** Options of {@link trainLogisticRegression}. */
export interface TrainLogisticRegressionOptions {
  /**
   * L2 penalty λ in the objective `(1/n) Σ logloss + (λ/2) ‖w‖²`; the intercept is not
   * penalised. Because the loss is a mean, λ does not need rescaling with n. Default 1e-4.
   */
  readonly l2?: number;
  /** L-BFGS iteration limit. Default 200. */
  readonly maxIterations?: number;
  /** Relative objective decrease per iteration below which training stops. Default 1e-9. */
  readonly tolerance?: number;
  /** Gradient norm below which training stops. Default 1e-6. */
  readonly gradientTolerance?: number;
  /** L-BFGS memory. Default 10. */
  readonly memory?: number;
  /** Called after each iteration with the penalised objective, e.g. to log a metric. */
  readonly onIteration?: (info: LbfgsIteration) => void;
}

/**
 * Fits binary logistic regression with an L2 penalty by L-BFGS. Loss and gradient are
 * computed in one pass over X per evaluation, with the stable form
 * `log(1 + e^z) = max(z, 0) + log1p(e^−|z|)`, and one-hot features cost one gather per
 * row (no dense n × d matrix is built). Memory: two Float64Arrays of length n.
 *
 * @param y labels, 0 or 1, one per row; both classes must occur.
 * @throws TrestleError `INVALID_ARGUMENT` for an invalid X, labels other than 0/1, a
 *   length mismatch, a single class, or bad options.
 * @example
 * const model = trainLogisticRegression(X, y, {
 *   l2: 1e-4,
 *   maxIterations: 100,
 *   onIteration: ({ iteration, loss }) => console.log(iteration, loss),
 * });
 * const p = predictProba(model, Xtest);
 */
export function trainLogisticRegression(
  X: DesignMatrix,
  y: Uint8Array,
  options: TrainLogisticRegressionOptions = {},
): LogisticRegressionModel {
  validateDesignMatrix(X);
  const n = X.rows;
  if (y.length !== n) throw new TrestleError('INVALID_ARGUMENT', `y has ${y.length} labels for ${n} rows of X`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (v > 1) throw new TrestleError('INVALID_ARGUMENT', `labels must be 0 or 1; y[${i}] is ${v}`);
    positives += v;
  }
  if (positives === 0 || positives === n) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `training labels contain a single class (${positives} positives of ${n}); logistic regression needs both`,
    );
  }
  const l2 = options.l2 ?? 1e-4;
  if (!(l2 >= 0) || !Number.isFinite(l2))
    throw new TrestleError('INVALID_ARGUMENT', `l2 must be a finite number ≥ 0, got ${l2}`);

  const d = columnCount(X);
  const z = new Float64Array(n);
  const r = new Float64Array(n);
  const invN = 1 / n;

  // Parameters: [w_0 … w_{d−1}, intercept].
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const w = theta.subarray(0, d);
    const b = theta[d]!;
    linearPredictor(X, w, b, z);
    let loss = 0;
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const zi = z[i]!;
      const e = Math.exp(-Math.abs(zi));
      const p = zi >= 0 ? 1 / (1 + e) : e / (1 + e);
      const yi = y[i]!;
      loss += (zi > 0 ? zi : 0) + Math.log1p(e) - yi * zi;
      const ri = (p - yi) * invN;
      r[i] = ri;
      gb += ri;
    }
    grad.fill(0);
    addTransposeProduct(X, r, grad);
    let penalty = 0;
    for (let j = 0; j < d; j++) {
      const wj = w[j]!;
      penalty += wj * wj;
      grad[j] = grad[j]! + l2 * wj;
    }
    grad[d] = gb;
    return loss * invN + 0.5 * l2 * penalty;
  };

  const theta0 = new Float64Array(d + 1);
  const base = positives / n;
  theta0[d] = Math.log(base / (1 - base));
  const lossHistory = [objective(theta0, new Float64Array(d + 1))];
  const result = minimizeLbfgs(objective, theta0, {
    maxIterations: options.maxIterations ?? 200,
    lossTolerance: options.tolerance ?? 1e-9,
    gradientTolerance: options.gradientTolerance ?? 1e-6,
    memory: options.memory ?? 10,
    onIteration: (info) => {
      lossHistory.push(info.loss);
      options.onIteration?.(info);
    },
  });

  return {
    format: LOGISTIC_REGRESSION_FORMAT,
    formatVersion: LOGISTIC_REGRESSION_FORMAT_VERSION,
    layout: featureLayout(X),
    weights: Array.from(result.x.subarray(0, d)),
    intercept: result.x[d]!,
    l2,
    trainingRows: n,
    iterations: result.iterations,
    converged: result.converged,
    lossHistory,
  };
}

/**
 * P(y = 1) for every row of X.
 *
 * @throws TrestleError `INVALID_ARGUMENT` when X is invalid or its layout (dense names,
 *   categorical names and levels) differs from the one the model was trained on.
 * @example
 * const p = predictProba(model, Xtest); // Float64Array of length Xtest.rows, values in (0, 1)
 */
export function predictProba(model: LogisticRegressionModel, X: DesignMatrix): Float64Array {
  validateDesignMatrix(X);
  assertSameLayout(model.layout, X);
  const out = new Float64Array(X.rows);
  linearPredictor(X, Float64Array.from(model.weights), model.intercept, out);
  for (let i = 0; i < out.length; i++) {
    const zi = out[i]!;
    const e = Math.exp(-Math.abs(zi));
    out[i] = zi >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
  return out;
}

/**
 * Reads a model back from `JSON.stringify(model)` output (a string) or its parsed value,
 * checking format, version and shapes.
 *
 * @throws TrestleError `INVALID_ARGUMENT` when the value is not a model of this format
 *   and version.
 * @example
 * const model = parseLogisticRegressionModel(await readFile('model.json', 'utf8'));
 */
export function parseLogisticRegressionModel(value: unknown): LogisticRegressionModel {
  let v: unknown = value;
  if (typeof value === 'string') {
    try {
      v = JSON.parse(value);
    } catch (err) {
      throw new TrestleError('INVALID_ARGUMENT', 'model is not valid JSON', {}, { cause: err });
    }
  }
  const o = record(v, 'model');
  if (o['format'] !== LOGISTIC_REGRESSION_FORMAT) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model format is ${JSON.stringify(o['format'])}, expected '${LOGISTIC_REGRESSION_FORMAT}'`,
    );
  }
  if (o['formatVersion'] !== LOGISTIC_REGRESSION_FORMAT_VERSION) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model format version ${JSON.stringify(o['formatVersion'])} is not supported (this build reads version ${LOGISTIC_REGRESSION_FORMAT_VERSION})`,
    );
  }
  const layoutObj = record(o['layout'], 'layout');
  const layout: FeatureLayout = {
    dense: stringArray(layoutObj['dense'], 'layout.dense'),
    categorical: arrayOf(layoutObj['categorical'], 'layout.categorical').map((c, i) => {
      const co = record(c, `layout.categorical[${i}]`);
      const name = co['name'];
      if (typeof name !== 'string') throw bad(`layout.categorical[${i}].name`);
      return { name, levels: stringArray(co['levels'], `layout.categorical[${i}].levels`) };
    }),
  };
  const weights = numberArray(o['weights'], 'weights');
  if (weights.length !== columnCount(layout)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `model has ${weights.length} weights but its layout has ${columnCount(layout)} columns`,
    );
  }
  return {
    format: LOGISTIC_REGRESSION_FORMAT,
    formatVersion: LOGISTIC_REGRESSION_FORMAT_VERSION,
    layout,
    weights,
    intercept: finiteNumber(o['intercept'], 'intercept'),
    l2: finiteNumber(o['l2'], 'l2'),
    trainingRows: finiteNumber(o['trainingRows'], 'trainingRows'),
    iterations: finiteNumber(o['iterations'], 'iterations'),
    converged: o['converged'] === true,
    lossHistory: numberArray(o['lossHistory'], 'lossHistory'),
  };
}

function assertSameLayout(layout: FeatureLayout, X: DesignMatrix): void {
  const same =
    layout.dense.length === X.denseNames.length &&
    layout.dense.every((name, j) => name === X.denseNames[j]) &&
    layout.categorical.length === X.categorical.length &&
    layout.categorical.every((c, j) => {
      const xc = X.categorical[j]!;
      return c.name === xc.name && c.levels.length === xc.levels.length && c.levels.every((l, k) => l === xc.levels[k]);
    });
  if (!same) {
    const describe = (dense: readonly string[], cats: readonly { name: string; levels: readonly string[] }[]): string =>
      [...dense, ...cats.map((c) => `${c.name}[${c.levels.length}]`)].join(', ');
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `the design matrix's features (${describe(X.denseNames, X.categorical)}) differ from the model's (${describe(layout.dense, layout.categorical)}); build evaluation features with the encoder fitted on the training data`,
    );
  }
}

function bad(path: string): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', `model field '${path}' is missing or has the wrong type`);
}

function record(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(path);
  return v as Record<string, unknown>;
}

function arrayOf(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw bad(path);
  return v as unknown[];
}

function stringArray(v: unknown, path: string): string[] {
  const a = arrayOf(v, path);
  if (!a.every((s) => typeof s === 'string')) throw bad(path);
  return a;
}

function numberArray(v: unknown, path: string): number[] {
  const a = arrayOf(v, path);
  if (!a.every((x) => typeof x === 'number' && Number.isFinite(x))) throw bad(path);
  return a as number[];
}

function finiteNumber(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(path);
  return v;
}
