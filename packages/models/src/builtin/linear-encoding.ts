/**
 * Turns table columns into the design matrix of a linear model, the same way at training
 * and at prediction time: numeric columns standardised with the training mean and
 * deviation (missing → the mean, i.e. 0), categorical columns one-hot over the training's
 * most frequent levels plus `other` (unseen and rare values), missing → no level.
 * Fitted on training rows only; travels inside the model package as plain JSON.
 */
import { TrestleError } from '@trestle/core';
import type { CategoricalFeature, DesignMatrix } from '@trestle/learn';
import type { Column, Table } from '@trestle/tables';

/** How one input column enters the model. */
export type FeatureEncoding =
  | { readonly name: string; readonly encoding: 'numeric'; readonly mean: number; readonly std: number }
  | { readonly name: string; readonly encoding: 'categorical'; readonly levels: readonly string[] };

export const OTHER_LEVEL = '(other)';

/** The category key of a cell: strings as they are, numbers in their shortest form; null for missing. */
function keysOf(column: Column): { keys: readonly string[]; codes: Int32Array } {
  if (column.type === 'string') return { keys: column.dictionary, codes: column.codes };
  // Numbers used as categories (an hour, a weekday): key by their text form.
  const index = new Map<number, number>();
  const keys: string[] = [];
  const codes = new Int32Array(column.values.length);
  for (let i = 0; i < codes.length; i++) {
    const v = column.values[i]!;
    if (Number.isNaN(v)) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = keys.length;
      keys.push(String(v));
      index.set(v, code);
    }
    codes[i] = code;
  }
  return { keys, codes };
}

/**
 * Fits encodings on training columns: string columns (and the numeric ones named in
 * `categorical`) one-hot over their `topK` most frequent values plus {@link OTHER_LEVEL};
 * other numeric columns standardised.
 *
 * @example fitLinearEncoding(train, ['distance', 'origin'], { categorical: ['hour'] })
 */
export function fitLinearEncoding(
  table: Table,
  features: readonly string[],
  options: { categorical?: readonly string[]; topK?: number } = {},
): FeatureEncoding[] {
  const topK = options.topK ?? 50;
  const categorical = new Set(options.categorical ?? []);
  return features.map((name): FeatureEncoding => {
    const column = table.columns[name];
    if (column === undefined) throw new TrestleError('INVALID_ARGUMENT', `no column '${name}' to fit`);
    if (column.type === 'string' || categorical.has(name)) {
      const { keys, codes } = keysOf(column);
      const counts = new Float64Array(keys.length);
      for (let i = 0; i < codes.length; i++) if (codes[i]! >= 0) counts[codes[i]!]!++;
      const ranked = keys
        .map((key, i) => ({ key, count: counts[i]! }))
        .filter((k) => k.count > 0)
        .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      return { name, encoding: 'categorical', levels: [...ranked.slice(0, topK).map((k) => k.key), OTHER_LEVEL] };
    }
    let n = 0;
    let sum = 0;
    for (const v of column.values) {
      if (Number.isNaN(v)) continue;
      n++;
      sum += v;
    }
    const mean = n === 0 ? 0 : sum / n;
    let ss = 0;
    for (const v of column.values) if (!Number.isNaN(v)) ss += (v - mean) ** 2;
    const std = n === 0 ? 1 : Math.sqrt(ss / n);
    return { name, encoding: 'numeric', mean, std: std > 0 ? std : 1 };
  });
}

/**
 * Builds the design matrix for `rows` rows of `columns` (validated model input).
 *
 * @example const X = encodeLinear(encodings, input.columns, input.rows);
 */
export function encodeLinear(
  encodings: readonly FeatureEncoding[],
  columns: Readonly<Record<string, Column>>,
  rows: number,
): DesignMatrix {
  const numeric = encodings.filter((e) => e.encoding === 'numeric');
  const k = numeric.length;
  const dense = new Float64Array(rows * k);
  numeric.forEach((e, j) => {
    const column = columns[e.name];
    if (column === undefined || column.type === 'string') {
      throw new TrestleError('INVALID_ARGUMENT', `column '${e.name}' must be numeric`, { column: e.name });
    }
    const v = column.values;
    for (let i = 0, at = j; i < rows; i++, at += k) {
      const x = v[i]!;
      dense[at] = Number.isFinite(x) ? (x - e.mean) / e.std : 0;
    }
  });
  const categorical: CategoricalFeature[] = [];
  for (const e of encodings) {
    if (e.encoding !== 'categorical') continue;
    const column = columns[e.name];
    if (column === undefined) throw new TrestleError('INVALID_ARGUMENT', `no column '${e.name}'`, { column: e.name });
    const { keys, codes } = keysOf(column);
    const position = new Map(e.levels.map((l, i) => [l, i]));
    const other = position.get(OTHER_LEVEL) ?? -1;
    const lookup = Int32Array.from(keys, (key) => position.get(key) ?? other);
    const out = new Int32Array(rows);
    for (let i = 0; i < rows; i++) {
      const c = codes[i]!;
      out[i] = c < 0 ? -1 : lookup[c]!;
    }
    categorical.push({ name: e.name, levels: e.levels, codes: out });
  }
  return { rows, denseNames: numeric.map((e) => e.name), dense, categorical };
}

/** Checks encodings read from JSON. */
export function parseEncodings(value: unknown): FeatureEncoding[] {
  if (!Array.isArray(value)) throw new TrestleError('INVALID_ARGUMENT', 'model.json: features must be an array');
  return value.map((f: unknown, i) => {
    const o = (typeof f === 'object' && f !== null ? f : {}) as Record<string, unknown>;
    if (typeof o['name'] !== 'string')
      throw new TrestleError('INVALID_ARGUMENT', `model.json: features[${i}] has no name`);
    if (o['encoding'] === 'numeric' && typeof o['mean'] === 'number' && typeof o['std'] === 'number' && o['std'] > 0)
      return { name: o['name'], encoding: 'numeric', mean: o['mean'], std: o['std'] };
    if (
      o['encoding'] === 'categorical' &&
      Array.isArray(o['levels']) &&
      o['levels'].every((l) => typeof l === 'string')
    )
      return { name: o['name'], encoding: 'categorical', levels: o['levels'] };
    throw new TrestleError('INVALID_ARGUMENT', `model.json: features[${i}] ('${o['name']}') is not a valid encoding`);
  });
}
