import { describe, expect, it } from 'vitest';
import { accuracy, logLoss, rocAuc } from './metrics.js';
import { expectInvalid } from './testing/expect.js';

/** O(n²) definition: P(score⁺ > score⁻) + ½ P(score⁺ = score⁻). */
function bruteForceAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < labels.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i]! > scores[j]!) wins += 1;
      else if (scores[i] === scores[j]) wins += 0.5;
    }
  }
  return wins / pairs;
}

describe('accuracy', () => {
  it('thresholds at 0.5 by default, counting p = 0.5 as positive', () => {
    expect(accuracy(Uint8Array.of(1, 0, 1, 0), Float64Array.of(0.9, 0.4, 0.2, 0.5))).toBe(0.5);
    expect(accuracy(Uint8Array.of(1, 0, 1, 0), Float64Array.of(0.9, 0.4, 0.2, 0.5), 0.6)).toBe(0.75);
    expect(accuracy(Uint8Array.of(1, 0, 1, 0), Float64Array.of(0.9, 0.4, 0.2, 0.5), 0.1)).toBe(0.5);
    expect(accuracy([1, 1, 0], [0.7, 0.51, 0.49])).toBe(1);
  });
});

describe('logLoss', () => {
  it('matches hand-computed values', () => {
    expect(logLoss(Uint8Array.of(1, 0), Float64Array.of(0.8, 0.4))).toBeCloseTo(
      (-Math.log(0.8) - Math.log(0.6)) / 2,
      12,
    );
    expect(logLoss([1, 1, 0, 0], [0.5, 0.5, 0.5, 0.5])).toBeCloseTo(Math.LN2, 12);
  });

  it('clips 0 and 1 so a confident mistake costs −ln(eps), not Infinity', () => {
    expect(logLoss([1, 0], [0, 1])).toBeCloseTo(-Math.log(1e-15), 12);
    expect(logLoss([1], [0], 1e-3)).toBeCloseTo(-Math.log(1e-3), 12);
    expect(logLoss([1, 0], [1, 0])).toBeLessThan(1e-14);
  });

  it('rejects probabilities outside [0, 1]', () => {
    expectInvalid(() => logLoss([1], [1.5]), /\[0, 1\]/);
    expectInvalid(() => logLoss([1], [NaN]), /\[0, 1\]/);
  });
});

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one and 0.5 when all scores tie', () => {
    const y = Uint8Array.of(0, 0, 1, 1);
    expect(rocAuc(y, Float64Array.of(0.1, 0.2, 0.8, 0.9))).toBe(1);
    expect(rocAuc(y, Float64Array.of(0.9, 0.8, 0.2, 0.1))).toBe(0);
    expect(rocAuc(y, Float64Array.of(0.3, 0.3, 0.3, 0.3))).toBe(0.5);
  });

  it('matches a hand-computed value with ties (average ranks)', () => {
    // Sorted: 0.1(−) rank 1; 0.3(−, +) rank 2.5 each; 0.5(−, +) rank 4.5 each; 0.8(+) rank 6.
    // Positive rank sum 2.5 + 4.5 + 6 = 13; U = 13 − 3·4/2 = 7; AUC = 7 / (3·3).
    const y = Uint8Array.of(0, 0, 1, 1, 0, 1);
    const s = Float64Array.of(0.1, 0.5, 0.5, 0.8, 0.3, 0.3);
    expect(rocAuc(y, s)).toBeCloseTo(7 / 9, 15);
    expect(rocAuc(Uint8Array.of(0, 0, 1, 1), Float64Array.of(0.1, 0.4, 0.35, 0.8))).toBe(0.75);
  });

  it('agrees with the O(n²) definition on random scores with many ties', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let trial = 0; trial < 5; trial++) {
      const n = 500;
      const y = new Uint8Array(n);
      const s = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        y[i] = next() < 0.3 ? 1 : 0;
        s[i] = Math.round((next() + 0.3 * y[i]!) * 10) / 10; // rounding creates ties
      }
      expect(rocAuc(y, s)).toBeCloseTo(bruteForceAuc(y, s), 12);
    }
  });

  it('handles infinite scores and is invariant to monotone transforms', () => {
    const y = [0, 1, 0, 1, 1];
    const s = [-Infinity, 2, 0.5, Infinity, 0.5];
    expect(rocAuc(y, s)).toBeCloseTo(bruteForceAuc(y, s), 15);
    expect(
      rocAuc(
        y,
        s.map((v) => 3 * v + 1),
      ),
    ).toBe(rocAuc(y, s));
  });

  it('rejects a single class, NaN scores and bad labels', () => {
    expectInvalid(() => rocAuc([1, 1], [0.2, 0.3]), /both classes.*2 positives and 0 negatives/);
    expectInvalid(() => rocAuc([0, 0], [0.2, 0.3]), /both classes/);
    expectInvalid(() => rocAuc([0, 1], [NaN, 0.3]), /NaN/);
    expectInvalid(() => rocAuc([0, 2], [0.1, 0.3]), /0 or 1/);
  });
});

describe('all metrics', () => {
  it('reject length mismatches and empty input', () => {
    for (const metric of [accuracy, logLoss, rocAuc]) {
      expectInvalid(() => metric(Uint8Array.of(0, 1), Float64Array.of(0.5)), /2 labels but 1 predictions/);
      expectInvalid(() => metric(new Uint8Array(0), new Float64Array(0)), /no rows/);
    }
  });
});
