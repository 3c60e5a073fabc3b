import { TrestleError } from '@trestle/core';
import { GBDT_FORMAT, GbdtModel } from './gbdt/gbdt-model.js';
import { LINEAR_FORMAT, LinearModel } from './linear/linear-model.js';
import type { TrainedModel } from './model.js';

/**
 * Reads any built-in model from its `toJSON()` output (parsed, or as a JSON string),
 * choosing the reader by the `format` field.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for an unknown format or a malformed model.
 * @example
 * const model = modelFromJSON(await readFile('model.json', 'utf8'));
 * model.predict(batch);
 */
export function modelFromJSON(value: unknown): TrainedModel {
  let v = value;
  if (typeof value === 'string') {
    try {
      v = JSON.parse(value);
    } catch (err) {
      throw new TrestleError('INVALID_ARGUMENT', 'model is not valid JSON', {}, { cause: err });
    }
  }
  const format = typeof v === 'object' && v !== null ? (v as { format?: unknown }).format : undefined;
  if (format === GBDT_FORMAT) return GbdtModel.fromJSON(v);
  if (format === LINEAR_FORMAT) return LinearModel.fromJSON(v);
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `unknown model format ${JSON.stringify(format)}; this build reads '${GBDT_FORMAT}' and '${LINEAR_FORMAT}'`,
  );
}
