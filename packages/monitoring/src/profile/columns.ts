/**
 * The column shapes monitoring reads: typed arrays as the tables package produces them.
 *
 * - numeric: `Float64Array` (or any numeric typed array, or `number[]`), NaN for missing;
 * - categorical: `{ codes: Int32Array, dictionary: string[] }` (code -1 for missing), or an
 *   array of strings with `null`/`undefined` for missing.
 */
import { TrestleError } from '@trestle/core';

/** A categorical column as dictionary codes; code -1 (or any code outside the dictionary) is missing. */
export interface DictionaryColumn {
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
}

export type NumericColumn = Float64Array | Float32Array | Int32Array | Uint8Array | readonly number[];
export type CategoricalColumn = DictionaryColumn | readonly (string | null | undefined)[];
export type Column = NumericColumn | CategoricalColumn;
export type FeatureKind = 'numeric' | 'categorical';

export function isDictionaryColumn(column: Column): column is DictionaryColumn {
  return !ArrayBuffer.isView(column) && !Array.isArray(column) && 'codes' in column;
}

/** Decides whether a column is numeric or categorical from its storage type. */
export function columnKind(name: string, column: Column): FeatureKind {
  if (ArrayBuffer.isView(column)) return 'numeric';
  if (isDictionaryColumn(column)) return 'categorical';
  for (const v of column) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'number') return 'numeric';
    if (typeof v === 'string') return 'categorical';
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `column '${name}' holds a ${typeof v}; give numbers (Float64Array, NaN for missing) or strings`,
      { column: name },
    );
  }
  return 'categorical';
}

export function columnLength(column: Column): number {
  return isDictionaryColumn(column) ? column.codes.length : column.length;
}

/** Numeric values of a column (NaN for missing) as a Float64Array, without copying when it already is one. */
export function toFloat64(name: string, column: Column): Float64Array {
  if (column instanceof Float64Array) return column;
  if (isDictionaryColumn(column)) {
    throw new TrestleError('INVALID_ARGUMENT', `column '${name}' is categorical, not numeric`, { column: name });
  }
  const out = new Float64Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (typeof v === 'number') out[i] = v;
    else if (v === null || v === undefined) out[i] = NaN;
    else
      throw new TrestleError('INVALID_ARGUMENT', `column '${name}' row ${i} is not a number: ${JSON.stringify(v)}`, {
        column: name,
        row: i,
      });
  }
  return out;
}

/** Categorical values as dictionary codes (-1 for missing); numbers are turned into their string form. */
export function toDictionary(name: string, column: Column): DictionaryColumn {
  if (isDictionaryColumn(column)) return column;
  const index = new Map<string, number>();
  const dictionary: string[] = [];
  const codes = new Int32Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) {
      codes[i] = -1;
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number') {
      throw new TrestleError('INVALID_ARGUMENT', `column '${name}' row ${i} is not a category: ${JSON.stringify(v)}`, {
        column: name,
        row: i,
      });
    }
    const key = String(v);
    let code = index.get(key);
    if (code === undefined) {
      code = dictionary.length;
      dictionary.push(key);
      index.set(key, code);
    }
    codes[i] = code;
  }
  return { codes, dictionary };
}
