import { describe, expect, it } from 'vitest';
import type { ColumnBatch } from '../columns.js';
import { rocAuc } from '../metrics.js';
import { modelFromJSON } from '../model-json.js';
import { seededRandom } from '../gbdt/random.js';
import { column, syntheticTable } from '../testing/synthetic.js';
import { LinearModel, trainLinear, trainLogistic } from './linear-model.js';
import { Preprocessor } from './preprocessor.js';
import { expectInvalid } from '../testing/expect.js';

/** y = 3 + 2·a − 0.5·b + effect(c), exactly, with a few missing a's. */
function linearTable(n: number, seed: number): { batch: ColumnBatch; y: Float64Array } {
  const random = seededRandom(seed);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const c = new Int32Array(n);
  const y = new Float64Array(n);
  const effect = [0, 1.5, -2];
  for (let i = 0; i < n; i++) {
    a[i] = random.next() * 10;
    b[i] = random.next() * 4 - 2;
    c[i] = Math.floor(random.next() * 3);
    y[i] = 3 + 2 * a[i]! - 0.5 * b[i]! + effect[c[i]!]!;
  }
  return {
    batch: {
      rows: n,
      columns: [
        { name: 'a', type: 'numeric', values: a },
        { name: 'b', type: 'numeric', values: b },
        { name: 'c', type: 'categorical', codes: c, categories: ['x', 'y', 'z'] },
      ],
    },
    y,
  };
}

describe('Preprocessor', () => {
  const train: ColumnBatch = {
    rows: 4,
    columns: [
      { name: 'a', type: 'numeric', values: Float64Array.of(1, 3, NaN, 5) },
      { name: 'c', type: 'categorical', codes: Int32Array.of(0, 1, 1, -1), categories: ['p', 'q', 'never'] },
    ],
  };
  const prep = Preprocessor.fit(train);

  it('fits mean imputation, scaling and levels on the training rows only', () => {
    expect(prep.numeric).toEqual([{ name: 'a', impute: 3, mean: 3, std: Math.sqrt(8 / 4), indicator: true }]);
    expect(prep.categorical).toEqual([{ name: 'c', levels: ['q', 'p'] }]);
    const X = prep.transform(train);
    expect(X.denseNames).toEqual(['a', 'a__missing']);
    const s = Math.sqrt(2);
    expect(Array.from(X.dense)).toEqual([-2 / s, 0, 0, 0, 0, 1, 2 / s, 0]);
    expect(Array.from(X.categorical[0]!.codes)).toEqual([1, 0, 0, -1]);
  });

  it('applies the training statistics to new data, and maps unseen categories to nothing', () => {
    const test: ColumnBatch = {
      rows: 2,
      columns: [
        { name: 'c', type: 'categorical', codes: Int32Array.of(0, 1), categories: ['new', 'p'] },
        { name: 'a', type: 'numeric', values: Float64Array.of(100, NaN) },
      ],
    };
    const X = Preprocessor.fromJSON(JSON.parse(JSON.stringify(prep.toJSON()))).transform(test);
    expect(X.dense[0]).toBeCloseTo(97 / Math.sqrt(2), 12);
    expect(Array.from(X.dense.subarray(1))).toEqual([0, 0, 1]);
    expect(Array.from(X.categorical[0]!.codes)).toEqual([-1, 1]);
  });
});

describe('trainLinear', () => {
  it('recovers exact coefficients, in the original units', () => {
    const { batch, y } = linearTable(2000, 3);
    const model = trainLinear(batch, y);
    const p = model.predict(batch);
    for (let i = 0; i < 50; i++) expect(p[i]).toBeCloseTo(y[i]!, 6);
    const std = model.preprocessor.numeric.map((s) => s.std);
    const coef = Object.fromEntries(model.coefficients().map((c) => [c.name, c.weight]));
    expect(coef['a']! / std[0]!).toBeCloseTo(2, 6);
    expect(coef['b']! / std[1]!).toBeCloseTo(-0.5, 6);
    expect(coef['c=y']! - coef['c=x']!).toBeCloseTo(1.5, 6);
    expect(coef['c=z']! - coef['c=x']!).toBeCloseTo(-2, 6);
    expect(model.kind).toBe('linear');
    expect(model.outputsPerRow).toBe(1);
  });

  it('shrinks weights with L2', () => {
    const { batch, y } = linearTable(500, 4);
    const free = trainLinear(batch, y);
    const ridge = trainLinear(batch, y, { l2: 1 });
    const norm = (m: LinearModel): number => m.weights.reduce((s, w) => s + w * w, 0);
    expect(norm(ridge)).toBeLessThan(norm(free) * 0.5);
  });

  it('round-trips through JSON', () => {
    const { batch, y } = linearTable(300, 5);
    const model = trainLinear(batch, y);
    const again = modelFromJSON(JSON.stringify(model.toJSON()));
    expect(again).toBeInstanceOf(LinearModel);
    expect(again.predict(batch)).toEqual(model.predict(batch));
  });

  it('refuses bad targets', () => {
    const { batch } = linearTable(3, 6);
    expectInvalid(() => trainLinear(batch, [1, NaN, 2]), /y\[1\] is NaN/);
    expectInvalid(() => trainLinear(batch, [1, 2]), /2 targets for 3 rows/);
  });
});

describe('trainLogistic', () => {
  const train = syntheticTable(5000, 21);
  const test = syntheticTable(2000, 22);

  it('learns from raw columns with missing values and categories', () => {
    const iterations: number[] = [];
    const model = trainLogistic(train.batch, train.binary, {
      classes: ['no', 'yes'],
      onIteration: (i) => iterations.push(i.trainLoss),
    });
    expect(model.kind).toBe('logistic');
    expect(iterations.length).toBe(model.training.iterations);
    expect(iterations[iterations.length - 1]!).toBeLessThan(iterations[0]!);
    const p = model.predict(test.batch);
    // x1 enters through sin(), which a linear model cannot follow: expect less than the oracle.
    const auc = rocAuc(test.binary, column(p, 2, 1));
    expect(auc).toBeGreaterThan(0.7);
    expect(auc).toBeLessThan(rocAuc(test.binary, test.z));
    const coef = Object.fromEntries(model.coefficients().map((c) => [c.name, c.weight]));
    expect(coef['x2__missing']).toBeGreaterThan(0.3);
    expect(coef['c=e']!).toBeGreaterThan(coef['c=f']! + 2);
  });

  it('says what is wrong with labels', () => {
    expectInvalid(() => trainLogistic(train.batch, train.multiclass), /labels must be 0 or 1/);
    expectInvalid(() => trainLogistic(train.batch, train.binary, { classes: ['a'] }), /exactly 2 classes/);
  });
});
