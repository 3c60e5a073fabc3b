import { describe, expect, it } from 'vitest';
import { TrestleError } from '@trestle/core';
import { buildReferenceProfile, profileBin } from './build-profile.js';
import { binsDigest, parseReferenceProfile } from './parse.js';
import type { CategoricalFeatureProfile, NumericFeatureProfile } from './schema.js';

function seq(n: number, f: (i: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => f(i));
}

describe('buildReferenceProfile', () => {
  it('profiles a numeric column: quantile cuts, counts, nulls, moments', () => {
    const values = seq(10_000, (i) => i);
    values[5] = NaN;
    const p = buildReferenceProfile({ x: values }, { bins: 10 }).features[0] as NumericFeatureProfile;
    expect(p.kind).toBe('numeric');
    expect(p.count).toBe(9_999);
    expect(p.nulls).toBe(1);
    expect(p.min).toBe(0);
    expect(p.max).toBe(9_999);
    expect(p.cuts).toHaveLength(9);
    expect(p.counts.reduce((a, b) => a + b, 0)).toBe(9_999);
    // Quantile bins: every bin holds about a tenth of the values.
    for (const c of p.counts) expect(Math.abs(c - 1000)).toBeLessThanOrEqual(2);
    const mean = (9_999 * 10_000) / 2 / 9_999 - 5 / 9_999;
    expect(p.mean).toBeCloseTo(mean, 9);
    expect(p.std).toBeCloseTo(2886.6, 0);
    expect(p.sample).toBeUndefined();
    expect(p.distinct).toBe(9_999);
  });

  it('gives each distinct value its own bin when there are few, and keeps small samples', () => {
    const p = buildReferenceProfile({ x: [3, 1, 2, 2, 3, 3, NaN] }).features[0] as NumericFeatureProfile;
    expect(p.cuts).toEqual([2, 3]);
    expect(p.counts).toEqual([1, 2, 3]);
    expect(p.distinct).toBe(3);
    expect(p.sample).toEqual([1, 2, 2, 3, 3, 3]);
  });

  it('deduplicates cuts when a value holds most of the mass', () => {
    const values = seq(1000, (i) => (i < 900 ? 0 : i));
    const p = buildReferenceProfile({ x: values }, { bins: 10 }).features[0] as NumericFeatureProfile;
    expect(new Set(p.cuts).size).toBe(p.cuts.length);
    expect(p.cuts[0]).toBeGreaterThan(0);
    expect(p.counts[0]).toBe(900);
    expect(p.counts.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('profiles categorical columns from strings and from dictionary codes alike', () => {
    const strings = ['a', 'b', 'a', null, 'c', 'a', 'b'];
    const codes = { codes: Int32Array.from([0, 1, 0, -1, 2, 0, 1]), dictionary: ['a', 'b', 'c'] };
    const fromStrings = buildReferenceProfile({ origin: strings }).features[0] as CategoricalFeatureProfile;
    const fromCodes = buildReferenceProfile({ origin: codes }).features[0] as CategoricalFeatureProfile;
    expect(fromStrings).toEqual(fromCodes);
    expect(fromStrings.categories).toEqual(['a', 'b', 'c']);
    expect(fromStrings.counts).toEqual([3, 2, 1]);
    expect(fromStrings.nulls).toBe(1);
  });

  it('keeps the top K categories and folds the rest into "other", remembering their names', () => {
    const values = ['a', 'a', 'a', 'b', 'b', 'c', 'd'];
    const p = buildReferenceProfile({ k: values }, { topK: 2 }).features[0] as CategoricalFeatureProfile;
    expect(p.categories).toEqual(['a', 'b']);
    expect(p.otherCount).toBe(2);
    expect(p.otherCategories.sort()).toEqual(['c', 'd']);
    expect(p.otherCategoriesTruncated).toBe(false);
    const capped = buildReferenceProfile({ k: values }, { topK: 1, maxOtherCategories: 1 })
      .features[0] as CategoricalFeatureProfile;
    expect(capped.otherCategoriesTruncated).toBe(true);
  });

  it('profiles predictions: probability on fixed bins, labels as categories', () => {
    const profile = buildReferenceProfile(
      { x: [1, 2, 3, 4] },
      {
        prediction: {
          task: 'binary-classification',
          outputs: { probability: [0.05, 0.5, 0.55, 0.95], label: ['0', '1', '1', '1'] },
        },
      },
    );
    const prob = profile.prediction!.outputs[0] as NumericFeatureProfile;
    expect(prob.cuts).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(prob.counts).toEqual([1, 0, 0, 0, 0, 2, 0, 0, 0, 1]);
    expect((profile.prediction!.outputs[1] as CategoricalFeatureProfile).counts).toEqual([3, 1]);
  });

  it('round-trips through JSON and validates', () => {
    const profile = buildReferenceProfile({
      x: seq(500, (i) => i % 37),
      c: Array.from({ length: 500 }, (_, i) => (i < 250 ? 'u' : 'v')),
    });
    const back = parseReferenceProfile(JSON.parse(JSON.stringify(profile)));
    expect(back).toEqual(profile);
    expect(binsDigest(back)).toBe(binsDigest(profile));
  });

  it('rejects bad input with messages that name the problem', () => {
    expect(() => buildReferenceProfile({ a: [1, 2], b: [1] })).toThrow(/column 'b' has 1 rows but 'a' has 2/);
    expect(() => buildReferenceProfile({ a: [1, Infinity] })).toThrow(/row 1 is Infinity/);
    expect(() => buildReferenceProfile({ a: [true, false] as unknown as number[] })).toThrow(/holds a boolean/);
    const bad = { ...buildReferenceProfile({ x: [1, 2, 3] }), rows: -1 };
    expect(() => parseReferenceProfile(bad)).toThrow(TrestleError);
    expect(() => parseReferenceProfile(bad)).toThrow(/\/rows/);
    const good = buildReferenceProfile({ x: [1, 2, 3] });
    const wrongCounts = JSON.parse(JSON.stringify(good)) as { features: { counts: number[] }[] };
    wrongCounts.features[0]!.counts.push(1);
    expect(() => parseReferenceProfile(wrongCounts)).toThrow(/feature 'x' has 4 counts for 3 bins/);
  });

  it('places values into the same bins as the profile counted them', () => {
    const values = seq(2000, (i) => Math.sin(i) * 100);
    const p = buildReferenceProfile({ x: values }).features[0] as NumericFeatureProfile;
    const counts = new Array(p.counts.length).fill(0);
    for (const v of values) counts[profileBin(p, v)]++;
    expect(counts).toEqual(p.counts);
    expect(profileBin(p, p.min! - 1)).toBe(-1);
    expect(profileBin(p, p.max! + 1)).toBe(-2);
  });
});
