/**
 * The `builtin` flavor: models predicted in pure TypeScript from their JSON (`model.json`),
 * today the models of `@trestle/learn` (`format: 'trestle.gbdt' | 'trestle.linear'`).
 * Other readers can be registered by `format`.
 */
import { TrestleError } from '@trestle/core';
import { GBDT_FORMAT, LINEAR_FORMAT } from '@trestle/learn';
import type { ModelInput } from '../signature.js';
import { readLearnModel } from './learn-model.js';

/** A model ready to score validated input. */
export interface BuiltinModel {
  /**
   * Scores of every row: one value per row (regression), or `rows × classes`
   * probabilities, row-major (a binary model may also give one value per row: P(classes[1])).
   */
  scores(input: ModelInput): Float64Array;
}

/** Reads one `format` of builtin model JSON. */
export interface BuiltinReader {
  readonly format: string;
  read(json: unknown): BuiltinModel;
}

const READERS = new Map<string, BuiltinReader>([
  [GBDT_FORMAT, { format: GBDT_FORMAT, read: readLearnModel }],
  [LINEAR_FORMAT, { format: LINEAR_FORMAT, read: readLearnModel }],
]);

/** Adds a reader for another format of builtin model. */
export function registerBuiltinReader(reader: BuiltinReader): void {
  READERS.set(reader.format, reader);
}

/** The formats this build can load. */
export function builtinFormats(): string[] {
  return [...READERS.keys()];
}

/**
 * Reads a builtin model from its parsed `model.json`.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for an unknown format or a malformed model.
 */
export function readBuiltinModel(json: unknown, where = 'model.json'): BuiltinModel {
  const format = typeof json === 'object' && json !== null ? (json as { format?: unknown }).format : undefined;
  const reader = typeof format === 'string' ? READERS.get(format) : undefined;
  if (reader === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} has format ${JSON.stringify(format)}, which this build cannot load (it reads: ${builtinFormats().join(', ')}); use the onnx flavor or upgrade trestle`,
    );
  }
  try {
    return reader.read(json);
  } catch (err) {
    if (err instanceof TrestleError)
      throw new TrestleError(err.code, `${where}: ${err.message}`, err.details, { cause: err });
    throw err;
  }
}
