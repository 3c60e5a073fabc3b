import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { ColumnBatch } from '../columns.js';
import type { TrainedModel } from '../model.js';
import { trainGbdt } from '../gbdt/train.js';
import { trainLinear, trainLogistic } from '../linear/linear-model.js';
import { syntheticTable } from '../testing/synthetic.js';

/**
 * The ONNX export gives the same predictions as the built-in model, through the real
 * onnxruntime (CPU), to 1e-5 on the same rows, including missing values and categories
 * the model never saw.
 */
async function onnxPredict(model: TrainedModel, batch: ColumnBatch): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(model.toOnnx());
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of model.features) {
    const col = batch.columns.find((c) => c.name === spec.name)!;
    if (col.type === 'numeric')
      feeds[spec.name] = new ort.Tensor('float32', Float32Array.from(col.values), [batch.rows]);
    else
      feeds[spec.name] = new ort.Tensor(
        'string',
        Array.from(col.codes, (c) => (c >= 0 ? col.categories[c]! : '')),
        [batch.rows],
      );
  }
  const out = await session.run(feeds);
  // Every output is one [N] column: value, probability (binary) or probability_<class>.
  const keys =
    model.task === 'regression'
      ? ['value']
      : model.task === 'binary'
        ? ['probability']
        : model.classes.map((c) => `probability_${c}`);
  for (const key of keys) expect(out[key]!.dims).toEqual([batch.rows]);
  // As the built-in model gives them: per row, [P(class 0), P(class 1)] for a binary model.
  const k = model.outputsPerRow;
  const flat = new Float32Array(batch.rows * k);
  for (let i = 0; i < batch.rows; i++) {
    if (model.task === 'binary') {
      const p = (out['probability']!.data as Float32Array)[i]!;
      flat[2 * i] = 1 - p;
      flat[2 * i + 1] = p;
    } else keys.forEach((key, j) => (flat[i * k + j] = (out[key]!.data as Float32Array)[i]!));
  }
  return flat;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

const train = syntheticTable(4000, 11);
const test = syntheticTable(2000, 12);
// Unknown categories ('zz') and missing ones in the scored rows.
const codes = (test.batch.columns[2] as { codes: Int32Array }).codes;
const scored: ColumnBatch = {
  rows: test.batch.rows,
  columns: [
    test.batch.columns[0]!,
    test.batch.columns[1]!,
    {
      name: 'c',
      type: 'categorical',
      categories: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'zz'],
      codes: codes.map((c, i) => (i % 50 === 0 ? 8 : c)),
    },
  ],
};

describe('GBDT ONNX export matches the built-in predictions (onnxruntime-node)', () => {
  it('binary', async () => {
    const model = trainGbdt(train.batch, train.binary, { task: 'binary', rounds: 40, classes: ['no', 'yes'] });
    expect(maxAbsDiff(await onnxPredict(model, scored), model.predict(scored))).toBeLessThan(1e-5);
  });

  it('multiclass', async () => {
    const model = trainGbdt(train.batch, train.multiclass, { task: 'multiclass', rounds: 25 });
    expect(maxAbsDiff(await onnxPredict(model, scored), model.predict(scored))).toBeLessThan(1e-5);
  });

  it('regression', async () => {
    const model = trainGbdt(train.batch, train.regression, { task: 'regression', rounds: 40 });
    expect(maxAbsDiff(await onnxPredict(model, scored), model.predict(scored))).toBeLessThan(1e-5);
  });

  it('categorical splits with large category sets and missing values going either way', async () => {
    // 60 categories, each with its own effect: splits send big sets both ways.
    const n = 6000;
    const cats = Array.from({ length: 60 }, (_, i) => `k${i}`);
    const c = Int32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? -1 : (i * 7) % 60));
    const y = Float64Array.from(c, (v) => (v < 0 ? 5 : Math.sin(v)));
    const batch: ColumnBatch = { rows: n, columns: [{ name: 'c', type: 'categorical', codes: c, categories: cats }] };
    const model = trainGbdt(batch, y, { task: 'regression', rounds: 10, minSamplesLeaf: 5 });
    expect(model.trees.some((t) => t.leftCategories.some((l) => l.length > 10))).toBe(true);
    expect(maxAbsDiff(await onnxPredict(model, batch), model.predict(batch))).toBeLessThan(1e-5);
  });
});

describe('linear ONNX export matches the built-in predictions (onnxruntime-node)', () => {
  it('logistic regression with imputation, scaling and one-hot', async () => {
    const model = trainLogistic(train.batch, train.binary, { classes: ['no', 'yes'] });
    expect(model.preprocessor.numeric.some((s) => s.indicator)).toBe(true);
    expect(maxAbsDiff(await onnxPredict(model, scored), model.predict(scored))).toBeLessThan(1e-5);
  });

  it('linear regression', async () => {
    const model = trainLinear(train.batch, train.regression, { l2: 1e-3 });
    expect(maxAbsDiff(await onnxPredict(model, scored), model.predict(scored))).toBeLessThan(1e-5);
  });
});
