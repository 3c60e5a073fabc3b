import { describe, expect, it } from 'vitest';
import { isTrestleError } from '@trestle/core';
import { validateColumns, validateRows, type Signature } from './signature.js';

const signature: Signature = {
  inputs: [
    { name: 'hour', type: 'long' },
    { name: 'distance', type: 'double' },
    { name: 'origin', type: 'string' },
    { name: 'note', type: 'string', optional: true },
  ],
  outputs: [{ name: 'probability', type: 'double' }],
};

function error(fn: () => unknown): { message: string; details: unknown } {
  try {
    fn();
  } catch (err) {
    if (!isTrestleError(err, 'INVALID_ARGUMENT')) throw err;
    return { message: err.message, details: err.details };
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('validateRows', () => {
  it('converts rows to columns: numbers, nulls as missing, strings as codes, optional columns filled', () => {
    const input = validateRows(signature, [
      { hour: 7, distance: 120.5, origin: 'SFO', extra: 'ignored' },
      { hour: 8, distance: null, origin: null },
    ]);
    expect(input.rows).toBe(2);
    expect(input.columns['hour']).toEqual({ type: 'long', values: Float64Array.of(7, 8) });
    expect(input.columns['distance']).toEqual({ type: 'double', values: Float64Array.of(120.5, NaN) });
    expect(input.columns['origin']).toEqual({ type: 'string', codes: Int32Array.of(0, -1), dictionary: ['SFO'] });
    expect(input.columns['note']).toEqual({ type: 'string', codes: Int32Array.of(-1, -1), dictionary: [] });
  });

  it('names row and column of a value of the wrong type', () => {
    const e = error(() =>
      validateRows(signature, [
        { hour: 1, distance: 2, origin: 'A' },
        { hour: 1, distance: 'far', origin: 'B' },
      ]),
    );
    expect(e.message).toBe(`row 1, column 'distance': expected a number (double), got "far"`);
    expect(e.details).toEqual({ column: 'distance', row: 1 });
    expect(error(() => validateRows(signature, [{ hour: 1.5, distance: 2, origin: 'A' }])).message).toBe(
      "row 0, column 'hour': expected an integer (long), got 1.5",
    );
    expect(error(() => validateRows(signature, [{ hour: 1, distance: 2, origin: 7 }])).message).toBe(
      "row 0, column 'origin': expected a string, got 7",
    );
  });

  it('names the row that lacks a required column, and refuses rows that are not objects', () => {
    const e = error(() =>
      validateRows(signature, [
        { hour: 1, distance: 2, origin: 'A' },
        { hour: 1, origin: 'B' },
      ]),
    );
    expect(e.message).toBe(
      "row 1 has no 'distance' (double); the model needs: hour (long), distance (double), origin (string), note (string, optional); the row has: hour, origin",
    );
    expect(error(() => validateRows(signature, [[1, 2, 'A']])).message).toMatch(
      /^row 0 is an array; each row must be an object/,
    );
  });
});

describe('validateColumns', () => {
  it('takes typed arrays, plain arrays and dictionary codes', () => {
    const input = validateColumns(signature, {
      hour: Int32Array.of(1, 2),
      distance: [3, null],
      origin: { codes: Int32Array.of(1, 0), dictionary: ['A', 'B'] },
    });
    expect(input.columns['hour']).toEqual({ type: 'long', values: Float64Array.of(1, 2) });
    expect(input.columns['distance']).toEqual({ type: 'double', values: Float64Array.of(3, NaN) });
    expect(input.columns['origin']).toEqual({ type: 'string', codes: Int32Array.of(1, 0), dictionary: ['A', 'B'] });
  });

  it('names a missing column, unequal lengths, and the row of a bad value', () => {
    expect(error(() => validateColumns(signature, { hour: [1], distance: [2] })).message).toBe(
      "the input has no column 'origin' (string); the model needs: hour (long), distance (double), origin (string), note (string, optional); got: hour, distance",
    );
    expect(error(() => validateColumns(signature, { hour: [1, 2], distance: [2], origin: ['a', 'b'] })).message).toBe(
      "input column 'distance' has 1 values but 'hour' has 2; give every column one value per row",
    );
    const e = error(() =>
      validateColumns(signature, { hour: [1, 2, 3], distance: Float64Array.of(1, 2, 3), origin: ['a', 'b', 5] }),
    );
    expect(e.message).toBe("input column 'origin' row 2: expected a string, got 5");
    expect(e.details).toEqual({ column: 'origin', row: 2 });
    expect(
      error(() => validateColumns(signature, { hour: Float64Array.of(1, 2.5), distance: [1, 2], origin: ['a', 'b'] }))
        .message,
    ).toBe("input column 'hour' row 1: expected an integer (long), got 2.5");
    expect(error(() => validateColumns(signature, { hour: [1], distance: ['x'], origin: ['a'] })).message).toBe(
      `input column 'distance' row 0: expected a number (double), got "x"`,
    );
  });
});
