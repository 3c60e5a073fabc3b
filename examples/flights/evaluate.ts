/**
 * evaluate: scores the model package in model/ on the held-out week (data/test.csv) and
 * writes metrics.json (the model beside the baseline that answers "on time" for every
 * flight) and gate.json (whether the model is good enough to become the champion).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { accuracy, logLoss, rocAuc } from '@trestle/learn';
import { loadModel } from '@trestle/models';
import { readTable } from '@trestle/tables';
import { numberParam, stageParams } from './params.js';

const p = stageParams('evaluate');
const minAuc = numberParam(p, 'min_auc');
const minLift = numberParam(p, 'min_auc_lift');
const maxLossRatio = numberParam(p, 'max_log_loss_ratio');
const summary = JSON.parse(readFileSync('data/summary.json', 'utf8')) as { train: { lateRate: number } };

const test = await readTable('data/test.csv');
const late = test.columns['late'];
if (late === undefined || late.type === 'string') throw new Error("data/test.csv has no numeric 'late' column");
const y = late.values;
const model = await loadModel('model');
const predictions = await model.predict(test.columns);
await model.close();
const probability = predictions.outputs['probability'];
if (!(probability instanceof Float64Array)) throw new Error('the model gave no probability output');

// The baseline knows nothing: every flight gets January's late rate, so it ranks nothing
// (AUC ½) and, below ½, classifies every flight as on time.
const constant = new Float64Array(test.rows).fill(summary.train.lateRate);
const metrics = {
  test_auc: rocAuc(y, probability),
  test_accuracy: accuracy(y, probability),
  test_log_loss: logLoss(y, probability),
  baseline_auc: rocAuc(y, constant),
  baseline_accuracy: accuracy(y, constant),
  baseline_log_loss: logLoss(y, constant),
  test_rows: test.rows,
};
const checks = [
  { check: `test AUC ≥ ${minAuc}`, passed: metrics.test_auc >= minAuc },
  { check: `test AUC ≥ baseline + ${minLift}`, passed: metrics.test_auc >= metrics.baseline_auc + minLift },
  {
    check: maxLossRatio === 1 ? 'test log loss < baseline' : `test log loss < ${maxLossRatio} × baseline`,
    passed: metrics.test_log_loss < maxLossRatio * metrics.baseline_log_loss,
  },
];
const gate = { passed: checks.every((c) => c.passed), checks };
writeFileSync('metrics.json', `${JSON.stringify(metrics, null, 2)}\n`);
writeFileSync('gate.json', `${JSON.stringify(gate, null, 2)}\n`);
const f4 = (v: number): string => v.toFixed(4);
console.log(
  `test AUC ${f4(metrics.test_auc)} (baseline ${f4(metrics.baseline_auc)}), accuracy ${f4(metrics.test_accuracy)} (${f4(metrics.baseline_accuracy)}), log loss ${f4(metrics.test_log_loss)} (${f4(metrics.baseline_log_loss)})`,
);
console.log(
  `gate ${gate.passed ? 'passed' : 'FAILED'}: ${checks.map((c) => `${c.passed ? '✓' : '✗'} ${c.check}`).join(', ')}`,
);
