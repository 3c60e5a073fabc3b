import { describe, expect, it } from 'vitest';
import { rng } from '../testing/random.js';
import { performance, rocAuc } from './performance.js';

describe('performance', () => {
  it('computes accuracy, F1 and AUC with intervals that hold the value and narrow with n', () => {
    const random = rng(3);
    const make = (n: number) => {
      const actual: string[] = [];
      const predicted: string[] = [];
      const score: number[] = [];
      for (let i = 0; i < n; i++) {
        const y = random() < 0.4;
        const s = Math.min(1, Math.max(0, (y ? 0.65 : 0.35) + (random() - 0.5) * 0.8));
        actual.push(y ? '1' : '0');
        score.push(s);
        predicted.push(s >= 0.5 ? '1' : '0');
      }
      return performance({ task: 'binary-classification', actual, predicted, score });
    };
    const small = make(300);
    const big = make(30_000);
    for (const p of [small, big]) {
      if (p.task === 'regression') throw new Error('classification expected');
      for (const m of [p.accuracy, p.f1, p.auc!]) {
        expect(m.lower!).toBeLessThanOrEqual(m.value!);
        expect(m.upper!).toBeGreaterThanOrEqual(m.value!);
      }
      expect(p.accuracy.value!).toBeGreaterThan(0.6);
      expect(p.auc!.value!).toBeGreaterThan(0.7);
    }
    if (small.task === 'regression' || big.task === 'regression') throw new Error('classification expected');
    expect(big.accuracy.upper! - big.accuracy.lower!).toBeLessThan((small.accuracy.upper! - small.accuracy.lower!) / 5);
    expect(big.f1.upper! - big.f1.lower!).toBeLessThan((small.f1.upper! - small.f1.lower!) / 5);
    expect(big.f1.upper! - big.f1.lower!).toBeGreaterThan(0);
  });

  it('gives AUC by ranks with ties (0.5 for a constant score, 1 for a perfect one)', () => {
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [true, false, true, false]).value).toBe(0.5);
    expect(rocAuc([0.1, 0.2, 0.8, 0.9], [false, false, true, true]).value).toBe(1);
    expect(rocAuc([0.1, 0.3, 0.35, 0.8], [false, true, false, true]).value).toBe(0.75);
  });

  it('computes RMSE and MAE with intervals, and refuses labels that are not numbers', () => {
    const p = performance({ task: 'regression', actual: [1, 2, 3, 4], predicted: [1, 2, 5, 4] });
    if (p.task !== 'regression') throw new Error('regression expected');
    expect(p.mae.value).toBe(0.5);
    expect(p.rmse.value).toBe(1);
    expect(p.bias).toBe(0.5);
    expect(p.mae.upper!).toBeGreaterThan(0.5);
    expect(() => performance({ task: 'regression', actual: ['late'], predicted: [3] })).toThrow(/both must be numbers/);
    expect(performance({ task: 'regression', actual: [], predicted: [] })).toMatchObject({
      n: 0,
      rmse: { value: null },
    });
  });
});
