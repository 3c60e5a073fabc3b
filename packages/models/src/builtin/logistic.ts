import { TrestleError } from '@trestle/core';
import { parseLogisticRegressionModel, predictProba, type LogisticRegressionModel } from '@trestle/learn';
import type { ModelInput } from '../signature.js';
import type { BuiltinKind } from './builtin-model.js';
import { encodeLinear, parseEncodings, type FeatureEncoding } from './linear-encoding.js';

/**
 * `model.json` of a logistic regression: the feature encodings fitted on the training data
 * and the fitted `@trestle/learn` model over the design matrix they build.
 *
 * @example
 * const json = logisticRegressionJson(encodings, model); // write as model.json
 */
export function logisticRegressionJson(
  features: readonly FeatureEncoding[],
  model: LogisticRegressionModel,
): Record<string, unknown> {
  return { format: 'trestle.builtin-model', formatVersion: 1, kind: 'logistic-regression', features, model };
}

export const logisticRegressionKind: BuiltinKind = {
  kind: 'logistic-regression',
  read(json) {
    const features = parseEncodings(json['features']);
    const model = parseLogisticRegressionModel(json['model']);
    const dense = features.filter((f) => f.encoding === 'numeric').map((f) => f.name);
    if (dense.join('\n') !== model.layout.dense.join('\n')) {
      throw new TrestleError('INVALID_ARGUMENT', "model.json: the model's numeric features differ from its encodings");
    }
    return {
      scores: (input: ModelInput) => predictProba(model, encodeLinear(features, input.columns, input.rows)),
    };
  },
};
