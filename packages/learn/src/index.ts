/**
 * `@trestle/learn`: built-in trainers and evaluation metrics on typed arrays, with no I/O.
 *
 * @example
 * import { trainLogisticRegression, predictProba, rocAuc } from '@trestle/learn';
 * const model = trainLogisticRegression(Xtrain, yTrain, { l2: 1e-4 });
 * const auc = rocAuc(yTest, predictProba(model, Xtest));
 */
export * from './lbfgs.js';
export * from './design-matrix.js';
export * from './logistic-regression.js';
export * from './metrics.js';
export * from './standardize.js';
