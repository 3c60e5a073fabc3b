import { describe, expect, it } from 'vitest';
import { isTrestleError } from '@trestle/core';
import { fitStandardScaler, standardize, standardizeValue } from './standardize.js';

describe('standard scaler', () => {
  it('fits the population mean and standard deviation', () => {
    const s = fitStandardScaler(Float64Array.of(2, 4, 4, 4, 5, 5, 7, 9));
    expect(s).toEqual({ mean: 5, std: 2 });
  });

  it('applies training statistics to other data unchanged', () => {
    const s = fitStandardScaler([1, 3]);
    expect(Array.from(standardize([1, 3, 5], s))).toEqual([-1, 1, 3]);
    expect(standardizeValue(2, s)).toBe(0);
  });

  it('maps a constant feature to zeros instead of NaN', () => {
    const s = fitStandardScaler([7, 7, 7]);
    expect(s).toEqual({ mean: 7, std: 1 });
    expect(Array.from(standardize([7, 7], s))).toEqual([0, 0]);
  });

  it('rejects empty and non-finite input', () => {
    for (const values of [[], [1, NaN], [Infinity]]) {
      let caught: unknown;
      try {
        fitStandardScaler(values);
      } catch (err) {
        caught = err;
      }
      expect(isTrestleError(caught, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
