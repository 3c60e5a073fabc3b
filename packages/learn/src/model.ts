import type { ColumnBatch, FeatureSpec } from './columns.js';
import type { OnnxInputTypes } from './onnx/columns.js';

/** What a model predicts: two classes, more than two, or a number. */
export type Task = 'binary' | 'multiclass' | 'regression';

/** Which trainer made a model. */
export type ModelKind = 'gbdt' | 'logistic' | 'linear';

/**
 * What every trained model offers, whichever trainer made it.
 *
 * `predict` returns `rows × outputsPerRow` numbers, row-major: for a classifier the
 * probability of each class in the order of `classes` (a binary model gives
 * `[P(classes[0]), P(classes[1])]` per row), for a regressor one value per row.
 *
 * @example
 * const model = trainGbdt(train, yTrain, { task: 'binary' });
 * const p = model.predict(test); // Float64Array of test.rows × 2
 * const positive = (i: number) => p[i * 2 + 1]!;
 * const saved = JSON.stringify(model.toJSON());
 * const again = modelFromJSON(JSON.parse(saved));
 * const onnx = model.toOnnx(); // bytes of a .onnx file
 */
export interface TrainedModel {
  readonly kind: ModelKind;
  readonly task: Task;
  /** Input features, in the order the model uses them (the ONNX inputs follow it too). */
  readonly features: readonly FeatureSpec[];
  /** Class names of a classifier (index = class code); empty for a regressor. */
  readonly classes: readonly string[];
  /** Numbers per row returned by `predict`: the class count, or 1 for a regressor. */
  readonly outputsPerRow: number;
  /**
   * Predictions for every row of `batch` (columns are found by name; extra columns are
   * ignored; categories are matched by name, unknown ones count as missing).
   *
   * @throws TrestleError `INVALID_ARGUMENT` when a feature column is missing or of the wrong type.
   */
  predict(batch: ColumnBatch): Float64Array;
  /** The model as plain, versioned JSON data (see `modelFromJSON`). */
  toJSON(): ModelJson;
  /**
   * The model as an ONNX file (ai.onnx.ml operators): inputs one rank-1 `[N]` tensor per
   * feature, of the element type `types` gives it (default float for numeric features, string
   * for categorical ones); outputs rank 1 (`label` and `probability` or `probability_<class>`,
   * or `value`), as MLflow's pyfunc feeds and reads an ONNX model.
   */
  toOnnx(types?: OnnxInputTypes): Uint8Array;
}

/** Serialised form of a model: `format` says which trainer, `formatVersion` which layout. */
export interface ModelJson {
  readonly format: string;
  readonly formatVersion: number;
  readonly [key: string]: unknown;
}

/** Progress of one training iteration (a boosting round, or an optimiser step). */
export interface IterationInfo {
  /** 1-based iteration number. */
  readonly iteration: number;
  /** Training loss after this iteration (log loss, multiclass log loss or mean squared error). */
  readonly trainLoss: number;
  /** The same loss on the validation data, when there is some. */
  readonly validLoss?: number;
  /** Milliseconds since training started. */
  readonly elapsedMs: number;
}
