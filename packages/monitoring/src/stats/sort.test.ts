import { describe, expect, it } from 'vitest';
import { normals, rng } from '../testing/random.js';
import { sortedPresent, sortFloat64 } from './sort.js';

/** Index of the first difference (-0 equals 0: the order of signed zeros is not kept), or -1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const random = rng(5);
const n = 100_000;
const shapes: Record<string, Float64Array> = {
  normal: normals(random, n, 3, 2),
  'log-normal (crowded buckets, recursion)': normals(random, n).map(Math.exp),
  'Cauchy-like tails': normals(random, n).map((v, i, a) => v / (a[(i * 7919) % n]! || 1)),
  'few distinct integers': Float64Array.from({ length: n }, () => Math.floor(random() * 7) - 3),
  'a spike and far outliers': Float64Array.from({ length: n }, (_, i) =>
    i % 97 === 0 ? random() * 1e12 : 1 + random() * 1e-9,
  ),
  'a range that overflows': Float64Array.from({ length: n }, () => (random() - 0.5) * Number.MAX_VALUE * 1.9),
  'infinities and signed zeros': Float64Array.from(
    { length: n },
    (_, i) => [-Infinity, Infinity, -0, 0][i % 11] ?? random() - 0.5,
  ),
  'subnormal range': Float64Array.from({ length: n }, () => Math.floor(random() * 5) * Number.MIN_VALUE),
  constant: new Float64Array(n).fill(2.5),
  small: normals(random, 50),
  empty: new Float64Array(0),
};

describe('sortFloat64', () => {
  for (const [name, values] of Object.entries(shapes)) {
    it(`sorts like the built-in sort: ${name}`, () => {
      const before = values.slice();
      const sorted = sortFloat64(values);
      expect(firstDifference(sorted, values.slice().sort())).toBe(-1);
      expect(firstDifference(values, before)).toBe(-1);
    });
  }
});

describe('sortedPresent', () => {
  it('drops NaN and sorts the rest, from typed arrays and plain arrays, leaving the input as it was', () => {
    const values = normals(random, 10_000);
    for (let i = 0; i < values.length; i += 13) values[i] = NaN;
    const before = values.slice();
    const expected = values.filter((v) => !Number.isNaN(v)).sort();
    expect(sortedPresent(values).length).toBe(expected.length);
    expect(firstDifference(sortedPresent(values), expected)).toBe(-1);
    expect(firstDifference(sortedPresent(Array.from(values)), expected)).toBe(-1);
    expect(Buffer.from(values.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    expect(sortedPresent([NaN, NaN])).toEqual(new Float64Array(0));
  });
});
