import { describe, expect, it } from 'vitest';
import { isTrestleError } from '@trestle/core';
import {
  argmaxRows,
  classAccuracy,
  confusionMatrix,
  f1Score,
  mae,
  multiclassLogLoss,
  prAuc,
  precision,
  r2,
  recall,
  rmse,
  rocAuc,
} from './metrics.js';

// Expected values computed with scikit-learn 1.2.1 (sklearn.metrics) on the same arrays.
const y = Uint8Array.of(1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1);
const s = Float64Array.of(0.9, 0.2, 0.65, 0.4, 0.4, 0.7, 0.8, 0.1, 0.4, 0.55, 0.3, 0.5);

describe('classification metrics match scikit-learn', () => {
  it('precision, recall, F1 at a threshold', () => {
    expect(precision(y, s, 0.6)).toBeCloseTo(0.75, 15);
    expect(recall(y, s, 0.6)).toBeCloseTo(0.5, 15);
    expect(f1Score(y, s, 0.6)).toBeCloseTo(0.6, 15);
    expect(precision(y, s)).toBeCloseTo(0.6666666666666666, 15);
    expect(recall(y, s)).toBeCloseTo(0.6666666666666666, 15);
    expect(f1Score(y, s)).toBeCloseTo(0.6666666666666666, 15);
    expect(precision(y, s, 2)).toBe(0);
  });

  it('PR AUC (average precision) with tied scores, and ROC AUC', () => {
    expect(prAuc(y, s)).toBeCloseTo(0.7916666666666666, 14);
    expect(rocAuc(y, s)).toBeCloseTo(0.7777777777777778, 14);
    expect(prAuc(Uint8Array.of(0, 1, 1), Float64Array.of(0.1, 0.8, 0.4))).toBe(1);
  });

  it('confusion matrices, binary and multiclass', () => {
    const pred = Array.from(s, (v) => (v >= 0.6 ? 1 : 0));
    expect(confusionMatrix(y, pred, 2)).toEqual([
      [5, 1],
      [3, 3],
    ]);
    const yt = [0, 1, 2, 2, 1, 0, 2, 1];
    const yp = [0, 2, 2, 1, 1, 0, 2, 0];
    expect(confusionMatrix(yt, yp, 3)).toEqual([
      [2, 0, 0],
      [1, 1, 1],
      [0, 1, 2],
    ]);
    expect(classAccuracy(yt, yp)).toBe(5 / 8);
  });

  it('multiclass log loss and argmax', () => {
    const P = Float64Array.of(
      0.7,
      0.2,
      0.1,
      0.1,
      0.3,
      0.6,
      0.2,
      0.2,
      0.6,
      0.1,
      0.5,
      0.4,
      0.2,
      0.7,
      0.1,
      0.8,
      0.1,
      0.1,
      0.1,
      0.1,
      0.8,
      0.5,
      0.4,
      0.1,
    );
    const yt = [0, 1, 2, 2, 1, 0, 2, 1];
    expect(multiclassLogLoss(yt, P, 3)).toBeCloseTo(0.5883771102932651, 14);
    expect(Array.from(argmaxRows(P, 3))).toEqual([0, 2, 2, 1, 1, 0, 2, 0]);
  });

  it('refuses bad input with a message', () => {
    let caught: unknown;
    try {
      confusionMatrix([0, 3], [0, 1], 3);
    } catch (err) {
      caught = err;
    }
    expect(isTrestleError(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect(String(caught)).toMatch(/row 1 has classes 3/);
    expect(() => prAuc([0, 0], [0.1, 0.2])).toThrow(/at least one positive/);
  });
});

describe('regression metrics match scikit-learn', () => {
  const r = [3.0, -0.5, 2.0, 7.0, 4.2];
  const q = [2.5, 0.0, 2.0, 8.0, 3.9];
  it('RMSE, MAE, R²', () => {
    expect(rmse(r, q)).toBeCloseTo(0.5639148871948674, 14);
    expect(mae(r, q)).toBeCloseTo(0.46, 14);
    expect(r2(r, q)).toBeCloseTo(0.9480256276150627, 14);
    expect(r2([2, 2], [2, 2])).toBe(1);
    expect(r2([2, 2], [2, 3])).toBe(0);
  });
});
