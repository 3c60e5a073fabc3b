import { describe, expect, it } from 'vitest';
import { isTrestleError } from '@trestle/core';
import {
  addTransposeProduct,
  columnCount,
  columnNames,
  featureLayout,
  linearPredictor,
  validateDesignMatrix,
  type DesignMatrix,
} from './design-matrix.js';

const X: DesignMatrix = {
  rows: 3,
  denseNames: ['a', 'b'],
  dense: Float64Array.of(1, 2, 3, 4, 5, 6),
  categorical: [
    { name: 'c', levels: ['x', 'y'], codes: Int32Array.of(0, 1, -1) },
    { name: 'd', levels: ['p', 'q', 'r'], codes: Int32Array.of(2, 2, 0) },
  ],
};

/** The same matrix written out densely, in logical column order. */
const full = [
  [1, 2, 1, 0, 0, 0, 1],
  [3, 4, 0, 1, 0, 0, 1],
  [5, 6, 0, 0, 1, 0, 0],
];

function expectInvalid(m: DesignMatrix, message: RegExp): void {
  let caught: unknown;
  try {
    validateDesignMatrix(m);
  } catch (err) {
    caught = err;
  }
  expect(isTrestleError(caught, 'INVALID_ARGUMENT')).toBe(true);
  expect((caught as Error).message).toMatch(message);
}

describe('design matrix', () => {
  it('names its logical columns: dense first, then name=level per one-hot block', () => {
    expect(columnCount(X)).toBe(7);
    expect(columnNames(X)).toEqual(['a', 'b', 'c=x', 'c=y', 'd=p', 'd=q', 'd=r']);
    const layout = featureLayout(X);
    expect(layout).toEqual({
      dense: ['a', 'b'],
      categorical: [
        { name: 'c', levels: ['x', 'y'] },
        { name: 'd', levels: ['p', 'q', 'r'] },
      ],
    });
    expect(columnNames(layout)).toEqual(columnNames(X));
    expect(columnCount(layout)).toBe(7);
  });

  it('computes X·w + b and Xᵀ·r as the dense expansion would', () => {
    const w = Float64Array.of(0.5, -1, 2, 3, -4, 10, 7);
    const z = new Float64Array(3);
    linearPredictor(X, w, 0.25, z);
    expect(Array.from(z)).toEqual(full.map((row) => row.reduce((s, v, j) => s + v * w[j]!, 0.25)));

    const r = Float64Array.of(1, -2, 0.5);
    const g = new Float64Array(7).fill(1);
    addTransposeProduct(X, r, g);
    expect(Array.from(g)).toEqual(full[0]!.map((_, j) => 1 + full.reduce((s, row, i) => s + row[j]! * r[i]!, 0)));
  });

  it('handles a single dense column and no dense columns', () => {
    const one: DesignMatrix = { rows: 2, denseNames: ['a'], dense: Float64Array.of(2, 3), categorical: [] };
    const z = new Float64Array(2);
    linearPredictor(one, Float64Array.of(10), 1, z);
    expect(Array.from(z)).toEqual([21, 31]);
    const none: DesignMatrix = {
      rows: 2,
      denseNames: [],
      dense: new Float64Array(0),
      categorical: [X.categorical[0]!],
    };
    linearPredictor(none, Float64Array.of(5, 6), 1, z);
    expect(Array.from(z)).toEqual([6, 7]);
  });

  it('validates lengths, code ranges and finite values', () => {
    validateDesignMatrix(X);
    expectInvalid({ ...X, dense: new Float64Array(5) }, /5 values but rows × dense columns = 3 × 2 = 6/);
    expectInvalid({ ...X, dense: Float64Array.of(1, 2, 3, NaN, 5, 6) }, /row 1, column 'b' is not finite/);
    expectInvalid(
      { ...X, categorical: [{ name: 'c', levels: ['x'], codes: Int32Array.of(0, 1, 0) }] },
      /'c' has code 1 at row 1/,
    );
    expectInvalid({ ...X, categorical: [{ name: 'c', levels: ['x'], codes: Int32Array.of(0, -2, 0) }] }, /code -2/);
    expectInvalid({ ...X, categorical: [{ name: 'c', levels: ['x'], codes: Int32Array.of(0) }] }, /1 codes for 3 rows/);
  });
});
