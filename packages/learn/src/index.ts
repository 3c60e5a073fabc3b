/**
 * `@trestle/learn`: built-in trainers and evaluation metrics on typed arrays, with no I/O.
 *
 * @example
 * import { trainGbdt, rocAuc } from '@trestle/learn';
 * const model = trainGbdt(train, yTrain, { task: 'binary' });
 * const p = model.predict(test); // [P(class 0), P(class 1)] per row
 * const onnx = model.toOnnx();
 */
export * from './columns.js';
export * from './model.js';
export * from './gbdt/train.js';
export { GbdtModel, GBDT_FORMAT, GBDT_FORMAT_VERSION, type GbdtTrainingInfo } from './gbdt/gbdt-model.js';
export type { Tree } from './gbdt/ensemble.js';
export * from './lbfgs.js';
export * from './design-matrix.js';
export * from './logistic-regression.js';
export * from './metrics.js';
export * from './standardize.js';
export * from './model-json.js';
export {
  Preprocessor,
  type PreprocessorOptions,
  type NumericStep,
  type CategoricalStep,
} from './linear/preprocessor.js';
export {
  LinearModel,
  trainLinear,
  trainLogistic,
  LINEAR_FORMAT,
  LINEAR_FORMAT_VERSION,
  type LinearOptions,
  type LogisticOptions,
} from './linear/linear-model.js';
export type { OnnxInputType, OnnxInputTypes } from './onnx/columns.js';
