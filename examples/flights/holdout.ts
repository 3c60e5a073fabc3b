/**
 * Scores a model package on the held-out week (data/test.csv): the metrics every model of
 * this pipeline is judged by (the GBDT, the logistic regression beside it, the gate).
 */
import { accuracy, logLoss, rocAuc } from '@trestle/learn';
import { loadModel } from '@trestle/models';
import { readTable } from '@trestle/tables';

const TEST_DATA = 'data/test.csv';

/** Test AUC, accuracy and log loss of P(late) against the truth (0 or 1 per flight). */
export function scoreMetrics(y: Float64Array, probability: Float64Array): Record<string, number> {
  return {
    test_auc: rocAuc(y, probability),
    test_accuracy: accuracy(y, probability),
    test_log_loss: logLoss(y, probability),
  };
}

/**
 * Loads the package in `dir`, predicts P(late) for every flight of the held-out week and
 * scores it; `y` is the truth, for scoring other answers on the same flights.
 */
export async function holdoutScores(dir: string): Promise<{ y: Float64Array; metrics: Record<string, number> }> {
  const test = await readTable(TEST_DATA);
  const late = test.columns['late'];
  if (late === undefined || late.type === 'string') throw new Error(`${TEST_DATA} has no numeric 'late' column`);
  const model = await loadModel(dir);
  try {
    const predictions = await model.predict(test.columns);
    const probability = predictions.outputs['probability'];
    if (!(probability instanceof Float64Array)) throw new Error(`the model in ${dir}/ gave no probability output`);
    return { y: late.values, metrics: { ...scoreMetrics(late.values, probability), test_rows: test.rows } };
  } finally {
    await model.close();
  }
}
