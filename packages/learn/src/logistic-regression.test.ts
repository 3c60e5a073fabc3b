import { describe, expect, it } from 'vitest';
import type { DesignMatrix } from './design-matrix.js';
import { parseLogisticRegressionModel, predictProba, trainLogisticRegression } from './logistic-regression.js';
import { seededRandom } from '@trestle/core';
import { expectInvalid } from './testing/expect.js';

const rng = seededRandom;

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * n rows: two N(0, 1) dense features and a 4-level categorical whose level 'a' is the
 * reference (code −1), labels drawn from the true model.
 */
function synthetic(n: number, seed: number) {
  const truth = { intercept: -0.5, dense: [1, -2], levels: [0.5, -1, 1.5] };
  const rand = rng(seed);
  const dense = new Float64Array(n * 2);
  const codes = new Int32Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x0 = gaussian(rand);
    const x1 = gaussian(rand);
    const code = Math.floor(rand() * 4) - 1;
    dense[2 * i] = x0;
    dense[2 * i + 1] = x1;
    codes[i] = code;
    const z = truth.intercept + truth.dense[0]! * x0 + truth.dense[1]! * x1 + (code >= 0 ? truth.levels[code]! : 0);
    y[i] = rand() < sigmoid(z) ? 1 : 0;
  }
  const X: DesignMatrix = {
    rows: n,
    denseNames: ['x0', 'x1'],
    dense,
    categorical: [{ name: 'group', levels: ['b', 'c', 'd'], codes }],
  };
  return { X, y, truth };
}

describe('trainLogisticRegression', () => {
  it('recovers known coefficients from 20 000 synthetic rows (dense + categorical)', () => {
    const { X, y, truth } = synthetic(20_000, 7);
    const model = trainLogisticRegression(X, y, { l2: 0 });
    expect(model.converged).toBe(true);
    // Standard errors here are ≈ 0.02–0.05; allow ~3 of them.
    expect(Math.abs(model.intercept - truth.intercept)).toBeLessThan(0.1);
    const expected = [...truth.dense, ...truth.levels];
    model.weights.forEach((w, j) => expect(Math.abs(w - expected[j]!), `weight ${j}`).toBeLessThan(0.12));
  });

  it('satisfies the optimality condition (1/n)·Xᵀ(p − y) + λw = 0 and ∑(p − y) = 0', () => {
    const { X, y } = synthetic(5_000, 11);
    const l2 = 0.01;
    const model = trainLogisticRegression(X, y, { l2, gradientTolerance: 1e-10, tolerance: 0 });
    const p = predictProba(model, X);
    const grad = new Array<number>(5).fill(0);
    let gIntercept = 0;
    for (let i = 0; i < X.rows; i++) {
      const r = (p[i]! - y[i]!) / X.rows;
      grad[0] = grad[0]! + r * X.dense[2 * i]!;
      grad[1] = grad[1]! + r * X.dense[2 * i + 1]!;
      const code = X.categorical[0]!.codes[i]!;
      if (code >= 0) grad[2 + code] = grad[2 + code]! + r;
      gIntercept += r;
    }
    grad.forEach((g, j) => expect(Math.abs(g + l2 * model.weights[j]!)).toBeLessThan(1e-8));
    expect(Math.abs(gIntercept)).toBeLessThan(1e-8);
  });

  it('matches the closed-form MLE of a tiny non-separable table', () => {
    // x = 0: 3 positives, 1 negative → intercept = ln 3.  x = 1: 1 positive, 3 negatives →
    // intercept + w = ln(1/3), so w = −2 ln 3.
    const X: DesignMatrix = {
      rows: 8,
      denseNames: ['x'],
      dense: Float64Array.of(0, 0, 0, 0, 1, 1, 1, 1),
      categorical: [],
    };
    const y = Uint8Array.of(1, 1, 1, 0, 1, 0, 0, 0);
    const model = trainLogisticRegression(X, y, { l2: 0, gradientTolerance: 1e-12, tolerance: 0 });
    expect(model.intercept).toBeCloseTo(Math.log(3), 8);
    expect(model.weights[0]).toBeCloseTo(-2 * Math.log(3), 8);
  });

  it('matches the known penalised solution λw = σ(−w) on a symmetric separable case', () => {
    // x = +1 → y = 1 and x = −1 → y = 0. By symmetry the intercept is 0 and the gradient
    // condition reduces to σ(w) − 1 + λw = 0, which has a unique root we find by bisection.
    const X: DesignMatrix = { rows: 4, denseNames: ['x'], dense: Float64Array.of(1, 1, -1, -1), categorical: [] };
    const y = Uint8Array.of(1, 1, 0, 0);
    const l2 = 0.1;
    let lo = 0;
    let hi = 100;
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (l2 * mid - sigmoid(-mid) < 0) lo = mid;
      else hi = mid;
    }
    const model = trainLogisticRegression(X, y, { l2, gradientTolerance: 1e-12, tolerance: 0 });
    expect(model.weights[0]).toBeCloseTo(lo, 8);
    expect(model.intercept).toBeCloseTo(0, 8);
  });

  it('without a penalty on separable data, grows the weight and drives the loss towards 0 without NaN', () => {
    const X: DesignMatrix = { rows: 4, denseNames: ['x'], dense: Float64Array.of(1, 2, -1, -2), categorical: [] };
    const y = Uint8Array.of(1, 1, 0, 0);
    const model = trainLogisticRegression(X, y, { l2: 0, maxIterations: 50 });
    expect(model.weights[0]).toBeGreaterThan(5);
    expect(model.lossHistory.at(-1)).toBeLessThan(1e-3);
    expect(model.lossHistory.every(Number.isFinite)).toBe(true);
    expect(Array.from(predictProba(model, X)).map((p) => (p > 0.5 ? 1 : 0))).toEqual([1, 1, 0, 0]);
  });

  it('shrinks the weights as L2 grows, and never penalises the intercept', () => {
    const { X, y } = synthetic(5_000, 3);
    const norms = [0, 0.01, 0.1, 1].map((l2) => {
      const m = trainLogisticRegression(X, y, { l2 });
      return Math.hypot(...m.weights);
    });
    for (let i = 1; i < norms.length; i++) expect(norms[i]).toBeLessThan(norms[i - 1]!);
    // Huge λ: all weights ≈ 0 but the intercept still fits the base rate.
    const flat = trainLogisticRegression(X, y, { l2: 1e4 });
    const rate = y.reduce((a, b) => a + b, 0) / y.length;
    expect(Math.max(...flat.weights.map(Math.abs))).toBeLessThan(1e-3);
    expect(flat.intercept).toBeCloseTo(Math.log(rate / (1 - rate)), 3);
  });

  it('gives the same model for a categorical feature and its dense one-hot expansion', () => {
    const { X, y } = synthetic(4_000, 5);
    const cat = X.categorical[0]!;
    const k = 2 + cat.levels.length;
    const dense = new Float64Array(X.rows * k);
    for (let i = 0; i < X.rows; i++) {
      dense[i * k] = X.dense[2 * i]!;
      dense[i * k + 1] = X.dense[2 * i + 1]!;
      const code = cat.codes[i]!;
      if (code >= 0) dense[i * k + 2 + code] = 1;
    }
    const Xdense: DesignMatrix = {
      rows: X.rows,
      denseNames: ['x0', 'x1', 'group=b', 'group=c', 'group=d'],
      dense,
      categorical: [],
    };
    const opts = { l2: 1e-3, gradientTolerance: 1e-10, tolerance: 0 };
    const a = trainLogisticRegression(X, y, opts);
    const b = trainLogisticRegression(Xdense, y, opts);
    expect(a.intercept).toBeCloseTo(b.intercept, 7);
    a.weights.forEach((w, j) => expect(w).toBeCloseTo(b.weights[j]!, 7));
    const pa = predictProba(a, X);
    const pb = predictProba(b, Xdense);
    for (let i = 0; i < X.rows; i += 97) expect(pa[i]).toBeCloseTo(pb[i]!, 9);
  });

  it('stays finite with huge margins (stable log1p(exp(−|z|)) form)', () => {
    const X: DesignMatrix = {
      rows: 4,
      denseNames: ['x'],
      dense: Float64Array.of(1e4, 2e4, -1e4, 5e3),
      categorical: [],
    };
    const y = Uint8Array.of(1, 0, 0, 1); // non-separable, so a finite optimum exists
    const model = trainLogisticRegression(X, y, { l2: 0 });
    expect(model.lossHistory.every(Number.isFinite)).toBe(true);
    const p = predictProba(model, X);
    for (const v of p) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('records the loss history and reports iterations through onIteration', () => {
    const { X, y } = synthetic(2_000, 9);
    const seen: number[] = [];
    const model = trainLogisticRegression(X, y, { onIteration: ({ loss }) => seen.push(loss) });
    expect(model.lossHistory).toHaveLength(model.iterations + 1);
    expect(model.lossHistory.slice(1)).toEqual(seen);
    // The start is the intercept-only model at the base rate, and training improves on it.
    expect(model.lossHistory.at(-1)).toBeLessThan(model.lossHistory[0]!);
    expect(model.trainingRows).toBe(2_000);
  });

  it('rejects bad labels and options with INVALID_ARGUMENT', () => {
    const { X, y } = synthetic(10, 1);
    expectInvalid(() => trainLogisticRegression(X, y.subarray(0, 9)), /9 labels for 10 rows/);
    expectInvalid(
      () =>
        trainLogisticRegression(
          X,
          Uint8Array.from(y, (v, i) => (i === 3 ? 2 : v)),
        ),
      /0 or 1/,
    );
    expectInvalid(() => trainLogisticRegression(X, new Uint8Array(10)), /single class/);
    expectInvalid(() => trainLogisticRegression(X, y, { l2: -1 }), /l2/);
  });
});

describe('model serialisation and prediction', () => {
  const { X, y } = synthetic(1_000, 13);
  const model = trainLogisticRegression(X, y);

  it('round-trips through JSON exactly', () => {
    const json = JSON.stringify(model);
    expect(JSON.parse(json)).toMatchObject({ format: 'trestle.logistic-regression', formatVersion: 1 });
    const back = parseLogisticRegressionModel(json);
    expect(back).toEqual(model);
    expect(predictProba(back, X)).toEqual(predictProba(model, X));
  });

  it('rejects another format, a newer version and inconsistent shapes', () => {
    const plain = JSON.parse(JSON.stringify(model)) as Record<string, unknown>;
    expectInvalid(() => parseLogisticRegressionModel('{'), /not valid JSON/);
    expectInvalid(() => parseLogisticRegressionModel({ ...plain, format: 'sklearn' }), /format/);
    expectInvalid(() => parseLogisticRegressionModel({ ...plain, formatVersion: 2 }), /version 2/);
    expectInvalid(() => parseLogisticRegressionModel({ ...plain, weights: [1] }), /1 weights/);
    expectInvalid(() => parseLogisticRegressionModel({ ...plain, intercept: 'x' }), /intercept/);
  });

  it('refuses a design matrix whose layout differs from training', () => {
    const renamed: DesignMatrix = { ...X, categorical: [{ ...X.categorical[0]!, levels: ['b', 'c', 'e'] }] };
    expectInvalid(() => predictProba(model, renamed), /encoder fitted on the training data/);
    const missing: DesignMatrix = { ...X, categorical: [] };
    expectInvalid(() => predictProba(model, missing));
  });
});
