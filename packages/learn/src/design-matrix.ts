import { TrestleError } from '@trestle/core';

/**
 * One one-hot categorical feature stored as level codes, never as a dense 0/1 block.
 * Row i has a 1 in the column of level `codes[i]` and 0 elsewhere; code −1 means "no
 * level" (an all-zero row for this feature).
 *
 * @example
 * const weekday: CategoricalFeature = {
 *   name: 'weekday',
 *   levels: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'],
 *   codes: Int32Array.of(1, 1, 5), // Mon, Mon, Fri
 * };
 */
export interface CategoricalFeature {
  /** Feature name, e.g. `origin`. */
  readonly name: string;
  /** Level names; the number of one-hot columns is `levels.length`. */
  readonly levels: readonly string[];
  /** One code per row, in [−1, levels.length). */
  readonly codes: Int32Array;
}

/**
 * A design matrix of `rows` samples: `denseNames.length` numeric columns stored row-major
 * in `dense`, followed by one-hot blocks for each categorical feature. The logical column
 * order (and so the weight order of a linear model) is: dense columns, then each
 * categorical feature's levels in order.
 *
 * @example
 * // Two rows: distance (dense) and a 3-level origin.
 * const X: DesignMatrix = {
 *   rows: 2,
 *   denseNames: ['distance'],
 *   dense: Float64Array.of(0.5, -1.2),
 *   categorical: [{ name: 'origin', levels: ['ORD', 'ATL', 'other'], codes: Int32Array.of(0, 2) }],
 * };
 */
export interface DesignMatrix {
  readonly rows: number;
  /** Names of the dense columns. */
  readonly denseNames: readonly string[];
  /** rows × denseNames.length values, row-major. */
  readonly dense: Float64Array;
  readonly categorical: readonly CategoricalFeature[];
}

/**
 * The layout of a design matrix without its data: what a fitted model records so it can
 * check that it is applied to the same features it was trained on.
 *
 * @example
 * const layout: FeatureLayout = { dense: ['distance'], categorical: [{ name: 'origin', levels: ['ORD', 'other'] }] };
 */
export interface FeatureLayout {
  readonly dense: readonly string[];
  readonly categorical: readonly { readonly name: string; readonly levels: readonly string[] }[];
}

/**
 * Number of logical columns (dense columns plus all one-hot levels).
 *
 * @example
 * columnCount(X); // 1 + 3 = 4 for the DesignMatrix example
 */
export function columnCount(X: DesignMatrix | FeatureLayout): number {
  const dense = 'denseNames' in X ? X.denseNames.length : X.dense.length;
  let count = dense;
  for (const c of X.categorical) count += c.levels.length;
  return count;
}

/**
 * The layout of `X` (copies of its names), e.g. to store with a model.
 *
 * @example
 * featureLayout(X); // { dense: ['distance'], categorical: [{ name: 'origin', levels: ['ORD', 'ATL', 'other'] }] }
 */
export function featureLayout(X: DesignMatrix): FeatureLayout {
  return {
    dense: [...X.denseNames],
    categorical: X.categorical.map((c) => ({ name: c.name, levels: [...c.levels] })),
  };
}

/**
 * One name per logical column: dense names as is, one-hot columns as `name=level`.
 *
 * @example
 * columnNames(X); // ['distance', 'origin=ORD', 'origin=ATL', 'origin=other']
 */
export function columnNames(X: DesignMatrix | FeatureLayout): string[] {
  const dense = 'denseNames' in X ? X.denseNames : X.dense;
  const names = [...dense];
  for (const c of X.categorical) for (const level of c.levels) names.push(`${c.name}=${level}`);
  return names;
}

/**
 * Checks the shape invariants of `X` (array lengths, code ranges, finite dense values).
 * O(rows × features); run it once before training or predicting, not per iteration.
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming the first problem found.
 * @example
 * validateDesignMatrix(X); // throws if, say, a code is out of range
 */
export function validateDesignMatrix(X: DesignMatrix): void {
  const { rows } = X;
  if (!Number.isInteger(rows) || rows < 0) invalid(`rows must be a non-negative integer, got ${rows}`);
  const k = X.denseNames.length;
  if (X.dense.length !== rows * k) {
    invalid(`dense has ${X.dense.length} values but rows × dense columns = ${rows} × ${k} = ${rows * k}`);
  }
  for (let i = 0; i < X.dense.length; i++) {
    if (!Number.isFinite(X.dense[i]))
      invalid(`dense value at row ${Math.floor(i / k)}, column '${X.denseNames[i % k]}' is not finite`);
  }
  for (const c of X.categorical) {
    if (c.codes.length !== rows)
      invalid(`categorical feature '${c.name}' has ${c.codes.length} codes for ${rows} rows`);
    const levels = c.levels.length;
    for (let i = 0; i < rows; i++) {
      const code = c.codes[i]!;
      if (code < -1 || code >= levels) {
        invalid(`categorical feature '${c.name}' has code ${code} at row ${i}; codes must be in [−1, ${levels})`);
      }
    }
  }
}

/**
 * Margins z = X·w + b written into `out` (length `X.rows`). `weights` follow the logical
 * column order (see {@link DesignMatrix}).
 *
 * @example
 * const z = new Float64Array(X.rows);
 * linearPredictor(X, weights, intercept, z);
 */
export function linearPredictor(X: DesignMatrix, weights: Float64Array, intercept: number, out: Float64Array): void {
  const n = X.rows;
  const k = X.denseNames.length;
  const dense = X.dense;
  if (k === 1) {
    const w0 = weights[0]!;
    for (let i = 0; i < n; i++) out[i] = intercept + w0 * dense[i]!;
  } else {
    for (let i = 0, row = 0; i < n; i++, row += k) {
      let z = intercept;
      for (let j = 0; j < k; j++) z += weights[j]! * dense[row + j]!;
      out[i] = z;
    }
  }
  // Column by column: each loop is a tight gather over one code array.
  let offset = k;
  for (const c of X.categorical) {
    const codes = c.codes;
    for (let i = 0; i < n; i++) {
      const code = codes[i]!;
      if (code >= 0) out[i] = out[i]! + weights[offset + code]!;
    }
    offset += c.levels.length;
  }
}

/**
 * Gradient accumulation g += Xᵀ·r for per-row residuals `r` (length `X.rows`); `grad`
 * follows the logical column order.
 *
 * @example
 * const grad = new Float64Array(columnCount(X));
 * addTransposeProduct(X, residuals, grad);
 */
export function addTransposeProduct(X: DesignMatrix, r: Float64Array, grad: Float64Array): void {
  const n = X.rows;
  const k = X.denseNames.length;
  const dense = X.dense;
  for (let j = 0; j < k; j++) {
    let sum = 0;
    for (let i = 0, at = j; i < n; i++, at += k) sum += r[i]! * dense[at]!;
    grad[j] = grad[j]! + sum;
  }
  let offset = k;
  for (const c of X.categorical) {
    const codes = c.codes;
    for (let i = 0; i < n; i++) {
      const code = codes[i]!;
      if (code >= 0) grad[offset + code] = grad[offset + code]! + r[i]!;
    }
    offset += c.levels.length;
  }
}

function invalid(message: string): never {
  throw new TrestleError('INVALID_ARGUMENT', `invalid design matrix: ${message}`);
}
