import { TrestleError } from '@trestle/core';

/**
 * Mean and standard deviation of one numeric feature, fitted on training data and reused
 * unchanged on evaluation data (plain data, JSON-serialisable).
 *
 * @example
 * const scaler: StandardScaler = { mean: 6.2, std: 0.8 };
 */
export interface StandardScaler {
  readonly mean: number;
  /** Population standard deviation; 1 when the fitted values were all equal. */
  readonly std: number;
}

/**
 * Fits a {@link StandardScaler} (two-pass mean and population standard deviation).
 * A constant feature gets `std = 1`, so standardising it yields zeros instead of NaN.
 *
 * @throws TrestleError `INVALID_ARGUMENT` when `values` is empty or holds a non-finite value.
 * @example
 * fitStandardScaler(Float64Array.of(1, 2, 3)); // { mean: 2, std: 0.816… }
 */
export function fitStandardScaler(values: ArrayLike<number>): StandardScaler {
  const n = values.length;
  if (n === 0) throw new TrestleError('INVALID_ARGUMENT', 'cannot fit a standard scaler on no values');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v))
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `cannot fit a standard scaler: value ${v} at index ${i} is not finite`,
      );
    sum += v;
  }
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) {
    const dv = values[i]! - mean;
    squares += dv * dv;
  }
  const std = Math.sqrt(squares / n);
  return { mean, std: std > 0 ? std : 1 };
}

/**
 * `(v − mean) / std` for a single value.
 *
 * @example
 * standardizeValue(3, { mean: 2, std: 0.5 }); // 2
 */
export function standardizeValue(value: number, scaler: StandardScaler): number {
  return (value - scaler.mean) / scaler.std;
}

/**
 * `(v − mean) / std` for every value, into a new Float64Array.
 *
 * @example
 * const scaler = fitStandardScaler(train);
 * const zTrain = standardize(train, scaler);
 * const zTest = standardize(test, scaler); // test statistics never leak into the scaler
 */
export function standardize(values: ArrayLike<number>, scaler: StandardScaler): Float64Array {
  const out = new Float64Array(values.length);
  const { mean, std } = scaler;
  for (let i = 0; i < values.length; i++) out[i] = (values[i]! - mean) / std;
  return out;
}
