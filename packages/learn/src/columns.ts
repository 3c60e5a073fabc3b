import { TrestleError } from '@trestle/core';

/**
 * Columnar input of every trainer and model: one typed array per column, no row objects.
 */

/**
 * A numeric column. `NaN` marks a missing value.
 *
 * @example
 * const distance: NumericColumn = { name: 'distance', type: 'numeric', values: Float64Array.of(1846, 337, NaN) };
 */
export interface NumericColumn {
  readonly name: string;
  readonly type: 'numeric';
  readonly values: Float64Array | Float32Array;
}

/**
 * A categorical column as codes into `categories`; code −1 marks a missing value.
 * Two batches may use different category lists: models match categories by name.
 *
 * @example
 * const origin: CategoricalColumn = { name: 'origin', type: 'categorical', categories: ['ORD', 'ATL'], codes: Int32Array.of(0, 1, -1) };
 */
export interface CategoricalColumn {
  readonly name: string;
  readonly type: 'categorical';
  readonly codes: Int32Array;
  readonly categories: readonly string[];
}

/** One column of a {@link ColumnBatch}. */
export type Column = NumericColumn | CategoricalColumn;

/**
 * A batch of `rows` rows stored by column. Trainers and `predict` find features by
 * column name, so a batch may hold more columns (the target, ids) than a model uses.
 *
 * @example
 * const batch: ColumnBatch = {
 *   rows: 2,
 *   columns: [
 *     { name: 'distance', type: 'numeric', values: Float64Array.of(1846, 337) },
 *     { name: 'origin', type: 'categorical', categories: ['ORD', 'ATL'], codes: Int32Array.of(0, 1) },
 *   ],
 * };
 */
export interface ColumnBatch {
  readonly rows: number;
  readonly columns: readonly Column[];
}

/**
 * What a model knows about one input feature: its name, its type and, for a categorical
 * feature, the categories seen in training (in code order).
 *
 * @example
 * const spec: FeatureSpec = { name: 'origin', type: 'categorical', categories: ['ORD', 'ATL'] };
 */
export type FeatureSpec =
  | { readonly name: string; readonly type: 'numeric' }
  | { readonly name: string; readonly type: 'categorical'; readonly categories: readonly string[] };

/**
 * Checks a batch's shape: row count, array lengths, unique names, codes in [−1, categories).
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming the first problem.
 * @example
 * validateBatch(batch);
 */
export function validateBatch(batch: ColumnBatch, what = 'batch'): void {
  const { rows } = batch;
  if (!Number.isInteger(rows) || rows < 0) invalid(`${what}: rows must be a non-negative integer, got ${rows}`);
  const seen = new Set<string>();
  for (const c of batch.columns) {
    if (seen.has(c.name)) invalid(`${what}: column '${c.name}' appears twice`);
    seen.add(c.name);
    if (c.type === 'numeric') {
      if (!(c.values instanceof Float64Array || c.values instanceof Float32Array))
        invalid(`${what}: numeric column '${c.name}' must be a Float64Array or Float32Array`);
      if (c.values.length !== rows)
        invalid(`${what}: column '${c.name}' has ${c.values.length} values for ${rows} rows`);
    } else if (c.type === 'categorical') {
      if (!(c.codes instanceof Int32Array)) invalid(`${what}: categorical column '${c.name}' must hold an Int32Array`);
      if (c.codes.length !== rows) invalid(`${what}: column '${c.name}' has ${c.codes.length} codes for ${rows} rows`);
      const k = c.categories.length;
      for (let i = 0; i < rows; i++) {
        const code = c.codes[i]!;
        if (code < -1 || code >= k)
          invalid(
            `${what}: column '${c.name}' has code ${code} at row ${i}; codes must be in [−1, ${k}) (−1 = missing)`,
          );
      }
    } else {
      invalid(`${what}: column '${(c as { name: string }).name}' has unknown type '${(c as { type: string }).type}'`);
    }
  }
}

/**
 * The feature specs of the named columns of `batch` (all columns when `names` is omitted).
 *
 * @throws TrestleError `INVALID_ARGUMENT` when a named column is missing.
 * @example
 * featureSpecs(batch, ['distance', 'origin']);
 */
export function featureSpecs(batch: ColumnBatch, names?: readonly string[]): FeatureSpec[] {
  const cols = names === undefined ? batch.columns : names.map((n) => findColumn(batch, n, names));
  return cols.map((c) =>
    c.type === 'numeric'
      ? { name: c.name, type: 'numeric' }
      : { name: c.name, type: 'categorical', categories: [...c.categories] },
  );
}

/**
 * The column named `name`.
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming the column and the ones the caller needs.
 */
export function findColumn(batch: ColumnBatch, name: string, needed?: readonly string[]): Column {
  for (const c of batch.columns) if (c.name === name) return c;
  const have = batch.columns.map((c) => c.name).join(', ') || '(none)';
  invalid(
    `the data has no column '${name}'${needed ? ` (the model needs ${needed.join(', ')})` : ''}; columns present: ${have}`,
  );
}

/**
 * A row-major Float64Array (rows × features) of the model's features: numeric values
 * rounded to float32 (the precision tree thresholds and ONNX use), categorical values as
 * the MODEL's category codes, with NaN for a missing value or a category the model never
 * saw. Category lists that differ from the model's are remapped by name (the mapping is
 * cached per category array, so repeated one-row calls with the same arrays cost nothing).
 *
 * @throws TrestleError `INVALID_ARGUMENT` when a feature column is missing or has the wrong type.
 */
export function featureMatrix(specs: readonly FeatureSpec[], batch: ColumnBatch, cache: RemapCache): Float64Array {
  const n = batch.rows;
  const F = specs.length;
  const out = new Float64Array(n * F);
  for (let f = 0; f < F; f++) {
    const spec = specs[f]!;
    const col = lookup(batch, spec.name) ?? findColumn(batch, spec.name, names(specs));
    if (spec.type === 'numeric') {
      if (col.type !== 'numeric')
        invalid(`column '${spec.name}' is categorical but the model was trained on it as numeric`);
      const v = col.values;
      if (v.length < n) invalid(`column '${col.name}' has ${v.length} values for ${n} rows`);
      for (let i = 0, at = f; i < n; i++, at += F) out[at] = Math.fround(v[i]!);
    } else {
      if (col.type !== 'categorical')
        invalid(
          `column '${spec.name}' is numeric but the model was trained on it as categorical (pass codes and categories)`,
        );
      const codes = col.codes;
      if (codes.length < n) invalid(`column '${col.name}' has ${codes.length} codes for ${n} rows`);
      const remap = cache.remap(f, spec.categories, col.categories);
      if (remap === null) {
        const k = spec.categories.length;
        for (let i = 0, at = f; i < n; i++, at += F) {
          const c = codes[i]!;
          out[at] = c >= 0 && c < k ? c : NaN;
        }
      } else {
        const k = remap.length;
        for (let i = 0, at = f; i < n; i++, at += F) {
          const c = codes[i]!;
          const m = c >= 0 && c < k ? remap[c]! : -1;
          out[at] = m >= 0 ? m : NaN;
        }
      }
    }
  }
  return out;
}

/**
 * Remembers, per feature, how a batch's category list maps to the model's, keyed by the
 * batch's array object. `null` means the lists are equal (codes pass through).
 */
export class RemapCache {
  readonly #maps: WeakMap<readonly string[], Int32Array | null>[] = [];

  remap(feature: number, model: readonly string[], batch: readonly string[]): Int32Array | null {
    if (model === batch) return null;
    let byArray = this.#maps[feature];
    if (byArray === undefined) this.#maps[feature] = byArray = new WeakMap();
    const known = byArray.get(batch);
    if (known !== undefined) return known;
    let same = model.length === batch.length;
    for (let i = 0; same && i < model.length; i++) same = model[i] === batch[i];
    let result: Int32Array | null = null;
    if (!same) {
      const position = new Map(model.map((c, i) => [c, i]));
      result = Int32Array.from(batch, (c) => position.get(c) ?? -1);
    }
    byArray.set(batch, result);
    return result;
  }
}

function lookup(batch: ColumnBatch, name: string): Column | undefined {
  const cols = batch.columns;
  for (let i = 0; i < cols.length; i++) if (cols[i]!.name === name) return cols[i];
  return undefined;
}

function names(specs: readonly FeatureSpec[]): string[] {
  return specs.map((s) => s.name);
}

function invalid(message: string): never {
  throw new TrestleError('INVALID_ARGUMENT', message);
}
