import { describe, expect, it } from 'vitest';
import { buildReferenceProfile } from '../profile/build-profile.js';
import type { ReferenceProfile } from '../profile/schema.js';
import { normals, rng } from '../testing/random.js';
import { emptyWindow, WindowAccumulator } from '../window/accumulator.js';
import { driftFromColumns } from './from-raw.js';
import { driftBetweenWindows, driftFromSummary } from './from-summary.js';
import { defaultMethod } from './methods.js';

const CATS = ['a', 'b', 'c', 'd'];

function categories(random: () => number, n: number, weights: number[]): string[] {
  const total = weights.reduce((x, y) => x + y, 0);
  return Array.from({ length: n }, () => {
    let u = random() * total;
    let i = 0;
    while (i < weights.length - 1 && (u -= weights[i]!) > 0) i++;
    return CATS[i]!;
  });
}

function table(seed: number, n: number, shift = 0, weights = [4, 3, 2, 1]) {
  const random = rng(seed);
  return { x: normals(random, n, shift), c: categories(random, n, weights) };
}

function windowOf(profile: ReferenceProfile, t: { x: Float64Array; c: string[] }, score?: Float64Array) {
  const acc = new WindowAccumulator(profile);
  acc.addColumns(t, score === undefined ? undefined : { probability: score });
  return acc.snapshot();
}

describe('drift from summaries', () => {
  const ref = table(1, 5000);
  const profile = buildReferenceProfile(ref);

  it("chooses Evidently's tests by reference size and type", () => {
    expect(defaultMethod('numeric', 5000, 100)).toBe('wasserstein');
    expect(defaultMethod('numeric', 1000, 100)).toBe('ks');
    expect(defaultMethod('numeric', 500, 4)).toBe('chisquare');
    expect(defaultMethod('categorical', 500, 2)).toBe('z');
    expect(defaultMethod('categorical', 5000, 2)).toBe('jensenshannon');
    const small = buildReferenceProfile(table(2, 500));
    const d = driftFromSummary(small, windowOf(small, table(3, 400)));
    expect(d.features.map((f) => [f.name, f.method, f.threshold])).toEqual([
      ['x', 'ks', 0.05],
      ['c', 'chisquare', 0.05],
    ]);
    const binary = buildReferenceProfile({ b: categories(rng(4), 300, [1, 1]) });
    expect(driftFromSummary(binary, emptyWindow(binary)).features[0]!.method).toBe('z');
  });

  it('finds no drift in a window from the same distribution, and drift in a shifted one', () => {
    const same = driftFromSummary(profile, windowOf(profile, table(5, 5000)));
    expect(same.features.map((f) => f.method)).toEqual(['wasserstein', 'jensenshannon']);
    expect(same.features.every((f) => !f.drifted)).toBe(true);
    expect(same.features[0]!.score!).toBeLessThan(0.05);
    expect(same.datasetDrift).toBe(false);

    const shifted = driftFromSummary(profile, windowOf(profile, table(6, 5000, 0.8, [1, 2, 3, 4])));
    expect(shifted.features.every((f) => f.drifted)).toBe(true);
    expect(shifted.share).toBe(1);
    expect(shifted.datasetDrift).toBe(true);
    // Wasserstein normed by std(ref) ≈ the shift in standard deviations.
    expect(shifted.features[0]!.score!).toBeGreaterThan(0.65);
    expect(shifted.features[0]!.score!).toBeLessThan(0.95);
  });

  it('agrees with the exact raw computation: categorical scores equal, numeric within a bin', () => {
    for (const method of ['jensenshannon', 'psi', 'kl_div', 'hellinger', 'chisquare'] as const) {
      const cur = table(7, 3000, 0.3, [2, 2, 3, 1]);
      const summary = driftFromSummary(profile, windowOf(profile, cur), { catMethod: method });
      const raw = driftFromColumns(ref, cur, { catMethod: method });
      expect(summary.features[1]!.score!, method).toBeCloseTo(raw.features[1]!.score!, 12);
    }
    const cur = table(8, 3000, 0.3);
    const w = driftFromSummary(profile, windowOf(profile, cur)).features[0]!.score!;
    const exact = driftFromColumns(ref, cur).features[0]!.score!;
    // Values spread evenly inside each reference bin: close to the exact figure, not equal.
    expect(Math.abs(w - exact)).toBeLessThan(0.05);
    expect(exact).toBeGreaterThan(0.2);
  });

  it('applies per-column methods and thresholds, and the configurable drift share', () => {
    const cur = windowOf(profile, table(9, 5000, 0.8));
    const d = driftFromSummary(profile, cur, { perColumnMethod: { x: 'psi' }, perColumnThreshold: { c: 0.0001 } });
    expect(d.features[0]!.method).toBe('psi');
    expect(d.features[1]!.threshold).toBe(0.0001);
    const half = driftFromSummary(profile, cur);
    expect(half.drifted).toBe(1);
    expect(half.datasetDrift).toBe(true);
    expect(driftFromSummary(profile, cur, { driftShare: 0.6 }).datasetDrift).toBe(false);
    expect(() => driftFromSummary(profile, cur, { perColumnMethod: { c: 'ks' } })).toThrow(
      /does not apply to the categorical feature 'c'/,
    );
  });

  it('compares two windows on the same bins, skips empty features, refuses other bins', () => {
    const a = windowOf(profile, table(10, 4000));
    const same = driftBetweenWindows(profile, a, a);
    expect(same.features.map((f) => f.score)).toEqual([0, 0]);
    const b = windowOf(profile, table(11, 4000, 1));
    expect(driftBetweenWindows(profile, a, b).features[0]!.drifted).toBe(true);

    const empty = driftFromSummary(profile, emptyWindow(profile));
    expect(empty.features.every((f) => f.skipped === 'no values in the current window' && !f.drifted)).toBe(true);
    expect(empty.tested).toBe(0);
    expect(empty.datasetDrift).toBe(false);

    const other = buildReferenceProfile(table(12, 100));
    expect(() => driftFromSummary(profile, emptyWindow(other))).toThrow(/other bins/);
  });

  it('tests prediction drift on the outputs of the prediction profile', () => {
    const random = rng(13);
    const score = Float64Array.from({ length: 5000 }, () => random() * 0.5);
    const p = buildReferenceProfile(ref, {
      prediction: { task: 'binary-classification', outputs: { probability: score } },
    });
    const high = Float64Array.from({ length: 2000 }, () => 0.4 + random() * 0.6);
    const d = driftFromSummary(p, windowOf(p, table(14, 2000), high));
    expect(d.prediction).toHaveLength(1);
    expect(d.prediction[0]!.name).toBe('probability');
    expect(d.prediction[0]!.drifted).toBe(true);
    // Prediction drift does not count towards the features' share.
    expect(d.tested).toBe(2);
  });
});

describe('drift from raw rows', () => {
  it('uses KS and chi-square below 1,000 reference rows and flags a real shift only', () => {
    const ref = table(20, 800);
    const same = driftFromColumns(ref, table(23, 700));
    expect(same.features.map((f) => f.method)).toEqual(['ks', 'chisquare']);
    expect(same.features.every((f) => !f.drifted && f.basis === 'raw')).toBe(true);
    const moved = driftFromColumns(ref, table(22, 700, 0.5, [1, 1, 1, 5]));
    expect(moved.features.every((f) => f.drifted)).toBe(true);
    expect(moved.features[0]!.statistic!).toBeGreaterThan(0.1);
  });

  it('treats numeric columns with few values as categories, and reports a column missing from the current data', () => {
    const random = rng(30);
    const ref = { k: Float64Array.from({ length: 2000 }, () => Math.floor(random() * 3)) };
    const d = driftFromColumns(ref, { k: Float64Array.from({ length: 2000 }, () => Math.floor(random() * 3)) });
    expect(d.features[0]!.method).toBe('jensenshannon');
    expect(d.features[0]!.score!).toBeLessThan(0.05);
    expect(() => driftFromColumns(ref, {})).toThrow(/'k' is in the reference but not in the current data/);
  });
});
