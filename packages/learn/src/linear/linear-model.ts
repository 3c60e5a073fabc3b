import { TrestleError } from '@trestle/core';
import type { ColumnBatch, FeatureSpec } from '../columns.js';
import { validateBatch } from '../columns.js';
import { addTransposeProduct, columnCount, columnNames, linearPredictor } from '../design-matrix.js';
import { json } from '../json-reader.js';
import { minimizeLbfgs } from '../lbfgs.js';
import { trainLogisticRegression } from '../logistic-regression.js';
import type { IterationInfo, ModelJson, Task, TrainedModel } from '../model.js';
import { linearToOnnx } from '../onnx/linear.js';
import type { OnnxInputTypes } from '../onnx/columns.js';
import { Preprocessor, type PreprocessorOptions } from './preprocessor.js';

/** The `format` of a serialised linear or logistic model. */
export const LINEAR_FORMAT = 'trestle.linear';
/** Its current layout version. */
export const LINEAR_FORMAT_VERSION = 1;

/** Options shared by {@link trainLogistic} and {@link trainLinear}. */
export interface LinearOptions {
  /** Feature columns to use, by name; default every column of the batch. */
  readonly features?: readonly string[];
  /** L2 penalty λ on the weights (not the intercept), on standardised features. Default 1e-4 (logistic) or 0 (linear). */
  readonly l2?: number;
  /** L-BFGS iteration limit. Default 200 (logistic) or 500 (linear). */
  readonly maxIterations?: number;
  /** How categorical features are encoded (levels kept). */
  readonly preprocessing?: PreprocessorOptions;
  /** Called after each optimiser step with the penalised training loss. */
  readonly onIteration?: (info: IterationInfo) => void;
}

/** Options of {@link trainLogistic}. */
export interface LogisticOptions extends LinearOptions {
  /** Class names (index = code in `y`, 0 or 1). Default ['0', '1']. */
  readonly classes?: readonly string[];
}

/**
 * A linear model over preprocessed features: logistic regression (task 'binary') or
 * least squares (task 'regression'). The {@link Preprocessor} fitted on the training data
 * travels with it, so `predict` takes raw columns.
 *
 * @example
 * const model = trainLogistic(train, y, { l2: 1e-4 });
 * model.predict(test); // [P(class 0), P(class 1)] per row
 * model.coefficients(); // [{ name: 'distance', weight: 0.12 }, { name: 'origin=ORD', weight: 0.3 }, …]
 */
export class LinearModel implements TrainedModel {
  readonly kind: 'logistic' | 'linear';
  readonly task: Task;
  readonly classes: readonly string[];
  readonly outputsPerRow: number;
  readonly preprocessor: Preprocessor;
  /** One weight per design-matrix column (see {@link LinearModel.coefficients}). */
  readonly weights: Float64Array;
  readonly intercept: number;
  readonly training: {
    readonly l2: number;
    readonly trainingRows: number;
    readonly iterations: number;
    readonly converged: boolean;
    readonly loss: readonly number[];
  };

  constructor(init: {
    task: 'binary' | 'regression';
    classes: readonly string[];
    preprocessor: Preprocessor;
    weights: Float64Array;
    intercept: number;
    training: LinearModel['training'];
  }) {
    this.task = init.task;
    this.kind = init.task === 'binary' ? 'logistic' : 'linear';
    this.classes = init.classes;
    this.outputsPerRow = init.task === 'binary' ? 2 : 1;
    this.preprocessor = init.preprocessor;
    this.weights = init.weights;
    this.intercept = init.intercept;
    this.training = init.training;
  }

  get features(): readonly FeatureSpec[] {
    return this.preprocessor.features;
  }

  /** See {@link TrainedModel.predict}. */
  predict(batch: ColumnBatch): Float64Array {
    const X = this.preprocessor.transform(batch);
    const z = new Float64Array(X.rows);
    linearPredictor(X, this.weights, this.intercept, z);
    if (this.task === 'regression') return z;
    const out = new Float64Array(X.rows * 2);
    for (let i = 0; i < X.rows; i++) {
      const p = 1 / (1 + Math.exp(-z[i]!));
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  }

  /** Weight of every design-matrix column by name (`feature`, `feature__missing`, `feature=level`). */
  coefficients(): { name: string; weight: number }[] {
    const names = columnNames({
      dense: this.preprocessor.denseNames,
      categorical: this.preprocessor.categorical,
    });
    return names.map((name, j) => ({ name, weight: this.weights[j]! }));
  }

  /** See {@link TrainedModel.toOnnx}. */
  toOnnx(types?: OnnxInputTypes): Uint8Array {
    return linearToOnnx(this, types);
  }

  /** See {@link TrainedModel.toJSON}. */
  toJSON(): ModelJson {
    return {
      format: LINEAR_FORMAT,
      formatVersion: LINEAR_FORMAT_VERSION,
      task: this.task,
      classes: this.classes,
      preprocessor: this.preprocessor.toJSON(),
      weights: Array.from(this.weights),
      intercept: this.intercept,
      training: this.training,
    };
  }

  /**
   * Reads a model from {@link LinearModel.toJSON} output (parsed, or a JSON string).
   *
   * @throws TrestleError `INVALID_ARGUMENT` when it is not a linear model of a supported version.
   */
  static fromJSON(value: unknown): LinearModel {
    const o = json.object(typeof value === 'string' ? json.parse(value, 'linear model') : value, 'model');
    json.format(o, LINEAR_FORMAT, LINEAR_FORMAT_VERSION);
    const task = json.oneOf(o['task'], ['binary', 'regression'] as const, 'task');
    const preprocessor = Preprocessor.fromJSON(o['preprocessor']);
    const weights = Float64Array.from(json.numbers(o['weights'], 'weights'));
    const d = columnCount({ dense: preprocessor.denseNames, categorical: preprocessor.categorical });
    if (weights.length !== d) json.fail(`the model has ${weights.length} weights for ${d} columns`);
    const classes = json.strings(o['classes'], 'classes');
    if (task === 'binary' && classes.length !== 2) json.fail('a logistic model needs two classes');
    const t = json.object(o['training'], 'training');
    return new LinearModel({
      task,
      classes,
      preprocessor,
      weights,
      intercept: json.finite(o['intercept'], 'intercept'),
      training: {
        l2: json.finite(t['l2'], 'training.l2'),
        trainingRows: json.integer(t['trainingRows'], 'training.trainingRows'),
        iterations: json.integer(t['iterations'], 'training.iterations'),
        converged: t['converged'] === true,
        loss: json.numbers(t['loss'], 'training.loss'),
      },
    });
  }
}

/**
 * Binary logistic regression on raw columns: fits a {@link Preprocessor} (imputation,
 * standardisation, one-hot) on the training rows, then L-BFGS on the penalised log loss.
 *
 * @param y class codes 0 or 1, one per row; both must occur.
 * @throws TrestleError `INVALID_ARGUMENT` for bad data or options.
 * @example
 * const model = trainLogistic(train, y, { classes: ['on time', 'delayed'], l2: 1e-4 });
 */
export function trainLogistic(batch: ColumnBatch, y: ArrayLike<number>, options: LogisticOptions = {}): LinearModel {
  const started = performance.now();
  validateBatch(batch, 'training data');
  const classes = options.classes ?? ['0', '1'];
  if (classes.length !== 2)
    throw new TrestleError('INVALID_ARGUMENT', `logistic regression needs exactly 2 classes, got ${classes.length}`);
  const labels = new Uint8Array(batch.rows);
  if (y.length !== batch.rows)
    throw new TrestleError('INVALID_ARGUMENT', `y has ${y.length} labels for ${batch.rows} rows`);
  for (let i = 0; i < batch.rows; i++) {
    const v = y[i];
    if (v !== 0 && v !== 1) throw new TrestleError('INVALID_ARGUMENT', `labels must be 0 or 1; y[${i}] is ${v}`);
    labels[i] = v;
  }
  const preprocessor = Preprocessor.fit(batch, options.features, options.preprocessing);
  const X = preprocessor.transform(batch);
  const fitted = trainLogisticRegression(X, labels, {
    ...(options.l2 === undefined ? {} : { l2: options.l2 }),
    ...(options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations }),
    onIteration: (info) =>
      options.onIteration?.({
        iteration: info.iteration,
        trainLoss: info.loss,
        elapsedMs: performance.now() - started,
      }),
  });
  return new LinearModel({
    task: 'binary',
    classes,
    preprocessor,
    weights: Float64Array.from(fitted.weights),
    intercept: fitted.intercept,
    training: {
      l2: fitted.l2,
      trainingRows: batch.rows,
      iterations: fitted.iterations,
      converged: fitted.converged,
      loss: fitted.lossHistory,
    },
  });
}

/**
 * Linear least squares (ridge when `l2` > 0) on raw columns, with the same preprocessing
 * as {@link trainLogistic}. Minimises `(1/2n) Σ (ŷ − y)² + (λ/2) ‖w‖²` by L-BFGS; the
 * reported loss is twice that (the penalised mean squared error).
 *
 * @throws TrestleError `INVALID_ARGUMENT` for bad data, non-finite targets or options.
 * @example
 * const model = trainLinear(train, price, { l2: 1e-3 });
 * model.predict(test); // one value per row
 */
export function trainLinear(batch: ColumnBatch, y: ArrayLike<number>, options: LinearOptions = {}): LinearModel {
  const started = performance.now();
  validateBatch(batch, 'training data');
  const n = batch.rows;
  if (n < 1) throw new TrestleError('INVALID_ARGUMENT', 'training data has no rows');
  if (y.length !== n) throw new TrestleError('INVALID_ARGUMENT', `y has ${y.length} targets for ${n} rows`);
  const target = Float64Array.from(y);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(target[i]))
      throw new TrestleError('INVALID_ARGUMENT', `y[${i}] is ${target[i]}; targets must be finite`);
    mean += target[i]! / n;
  }
  const l2 = options.l2 ?? 0;
  if (!(l2 >= 0) || !Number.isFinite(l2))
    throw new TrestleError('INVALID_ARGUMENT', `l2 must be a finite number ≥ 0, got ${l2}`);
  const preprocessor = Preprocessor.fit(batch, options.features, options.preprocessing);
  const X = preprocessor.transform(batch);
  const d = columnCount(X);
  const z = new Float64Array(n);
  const r = new Float64Array(n);
  const objective = (theta: Float64Array, grad: Float64Array): number => {
    const w = theta.subarray(0, d);
    linearPredictor(X, w, theta[d]!, z);
    let loss = 0;
    let gb = 0;
    for (let i = 0; i < n; i++) {
      const e = z[i]! - target[i]!;
      loss += e * e;
      r[i] = e / n;
      gb += e / n;
    }
    grad.fill(0);
    addTransposeProduct(X, r, grad);
    let penalty = 0;
    for (let j = 0; j < d; j++) {
      penalty += w[j]! * w[j]!;
      grad[j] = grad[j]! + l2 * w[j]!;
    }
    grad[d] = gb;
    return (0.5 * loss) / n + 0.5 * l2 * penalty;
  };
  const theta0 = new Float64Array(d + 1);
  theta0[d] = mean;
  const loss: number[] = [];
  const result = minimizeLbfgs(objective, theta0, {
    maxIterations: options.maxIterations ?? 500,
    lossTolerance: 1e-14,
    gradientTolerance: 1e-9,
    onIteration: (info) => {
      loss.push(2 * info.loss);
      options.onIteration?.({
        iteration: info.iteration,
        trainLoss: 2 * info.loss,
        elapsedMs: performance.now() - started,
      });
    },
  });
  return new LinearModel({
    task: 'regression',
    classes: [],
    preprocessor,
    weights: Float64Array.from(result.x.subarray(0, d)),
    intercept: result.x[d]!,
    training: { l2, trainingRows: n, iterations: result.iterations, converged: result.converged, loss },
  });
}
