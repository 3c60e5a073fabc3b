/**
 * `@trestle/models`: the model package format and the one loader.
 *
 * A package is a folder: `trestle-model.json` (the manifest: flavor, task, classes,
 * signature, run, datasets, metrics, reference profile), the builtin flavor's `model.json`,
 * and, when the trainer exports ONNX, `model.onnx` with an MLflow `MLmodel` beside it.
 *
 * @example
 * import { loadModel } from '@trestle/models';
 * const model = await loadModel('models:/flights-delay@champion');
 * const p = await model.predictRows([{ hour: 17, weekday: 5, distance: 1846, origin: 'SFO', destination: 'ORD' }]);
 */
export * from './signature.js';
export * from './manifest.js';
export * from './predictions.js';
export * from './uri.js';
export {
  loadModel,
  openModelFolder,
  downloadRunFolder,
  type LoadedModel,
  type LoadModelOptions,
  type ModelSource,
  type ModelRegistryClient,
} from './load.js';
export { writeModelPackage, buildManifest, BUILTIN_FILE, ONNX_FILE, type PackageContents } from './write-package.js';
export { onnxFilePackage } from './register-onnx.js';
export { mlmodelText, readMlmodel, MLMODEL_FILE, type MlflowModelInfo } from './mlmodel.js';
export { openOnnxModel, type OnnxModel, type OnnxOutputOptions } from './onnx-flavor.js';
export {
  readBuiltinModel,
  registerBuiltinReader,
  builtinFormats,
  type BuiltinReader,
  type BuiltinModel,
} from './builtin/builtin-model.js';
export { fromLearnModel, learnBatch, categoricalColumn } from './builtin/learn-model.js';
export { trainModel, type TrainModelOptions, type TrainedModel } from './train/train-model.js';
export {
  getTrainer,
  registerTrainer,
  trainerNames,
  logisticTrainer,
  type Trainer,
  type FitInput,
  type FitResult,
} from './train/trainers.js';
export { evaluate } from './train/evaluate.js';
export { readTarget, type Target } from './train/target.js';
