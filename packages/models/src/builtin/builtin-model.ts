/**
 * The `builtin` flavor: models predicted in pure TypeScript from a JSON file
 * (`model.json`: `{ format: 'trestle.builtin-model', formatVersion: 1, kind, … }`).
 * Each kind of model registers a reader here; the loader picks it by `kind`.
 */
import { TrestleError } from '@trestle/core';
import type { ModelInput } from '../signature.js';
import { logisticRegressionKind } from './logistic.js';

export const BUILTIN_FORMAT = 'trestle.builtin-model';
export const BUILTIN_FORMAT_VERSION = 1;

/** A model ready to score validated input. */
export interface BuiltinModel {
  /**
   * Scores of every row: one value per row (binary: probability of the positive class;
   * regression: the value) or `rows × classes` probabilities, row-major.
   */
  scores(input: ModelInput): Float64Array;
}

/** Reads one kind of builtin model from its `model.json`. */
export interface BuiltinKind {
  readonly kind: string;
  read(json: Readonly<Record<string, unknown>>): BuiltinModel;
}

const KINDS = new Map<string, BuiltinKind>([[logisticRegressionKind.kind, logisticRegressionKind]]);

/** Adds a kind of builtin model (trainers register theirs). */
export function registerBuiltinKind(kind: BuiltinKind): void {
  KINDS.set(kind.kind, kind);
}

/** The kinds this build can load. */
export function builtinKinds(): string[] {
  return [...KINDS.keys()];
}

/**
 * Reads a builtin model from the parsed `model.json`.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for another format, version or an unknown kind.
 */
export function readBuiltinModel(json: unknown, where = 'model.json'): BuiltinModel {
  const o = (typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}) as Record<string, unknown>;
  if (o['format'] !== BUILTIN_FORMAT) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} is not a builtin model (format ${JSON.stringify(o['format'])}, expected '${BUILTIN_FORMAT}')`,
    );
  }
  if (o['formatVersion'] !== BUILTIN_FORMAT_VERSION) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} has format version ${JSON.stringify(o['formatVersion'])}; this build reads version ${BUILTIN_FORMAT_VERSION}`,
    );
  }
  const kind = KINDS.get(String(o['kind']));
  if (kind === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} is a '${String(o['kind'])}' model, which this build cannot load (it knows: ${builtinKinds().join(', ')}); use the onnx flavor or upgrade trestle`,
    );
  }
  return kind.read(o);
}
