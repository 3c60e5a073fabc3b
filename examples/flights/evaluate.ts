/**
 * evaluate: scores the model package in model/ on the held-out week (data/test.csv) and
 * writes metrics.json (the GBDT beside the logistic regression of the baseline stage and the
 * baseline that answers "on time" for every flight) and gate.json (whether the GBDT is good
 * enough to become the champion).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { holdoutScores, scoreMetrics } from './holdout.js';
import { numberParam, stageParams } from './params.js';

const p = stageParams('evaluate');
const minAuc = numberParam(p, 'min_auc');
const minLift = numberParam(p, 'min_auc_lift');
const maxLossRatio = numberParam(p, 'max_log_loss_ratio');
const overLogistic = numberParam(p, 'min_auc_over_logistic');
const summary = JSON.parse(readFileSync('data/summary.json', 'utf8')) as { train: { lateRate: number } };
const logistic = JSON.parse(readFileSync('baseline-metrics.json', 'utf8')) as Record<string, number>;

const { y, metrics: gbdt } = await holdoutScores('model');
// The baseline knows nothing: every flight gets January's late rate, so it ranks nothing
// (AUC ½) and, below ½, classifies every flight as on time.
const constant = scoreMetrics(y, new Float64Array(y.length).fill(summary.train.lateRate));
const metrics = {
  test_auc: gbdt['test_auc']!,
  test_accuracy: gbdt['test_accuracy']!,
  test_log_loss: gbdt['test_log_loss']!,
  logistic_auc: logistic['test_auc']!,
  logistic_accuracy: logistic['test_accuracy']!,
  logistic_log_loss: logistic['test_log_loss']!,
  baseline_auc: constant['test_auc']!,
  baseline_accuracy: constant['test_accuracy']!,
  baseline_log_loss: constant['test_log_loss']!,
  test_rows: y.length,
};
const checks = [
  { check: `test AUC ≥ ${minAuc}`, passed: metrics.test_auc >= minAuc },
  { check: `test AUC ≥ baseline + ${minLift}`, passed: metrics.test_auc >= metrics.baseline_auc + minLift },
  {
    check: maxLossRatio === 1 ? 'test log loss < baseline' : `test log loss < ${maxLossRatio} × baseline`,
    passed: metrics.test_log_loss < maxLossRatio * metrics.baseline_log_loss,
  },
  ...(overLogistic < 0
    ? []
    : [
        {
          check: `test AUC > logistic regression's${overLogistic === 0 ? '' : ` + ${overLogistic}`}`,
          passed: metrics.test_auc > metrics.logistic_auc + overLogistic,
        },
      ]),
];
const gate = { passed: checks.every((c) => c.passed), checks };
writeFileSync('metrics.json', `${JSON.stringify(metrics, null, 2)}\n`);
writeFileSync('gate.json', `${JSON.stringify(gate, null, 2)}\n`);
const f4 = (v: number): string => v.toFixed(4);
console.log(
  `test AUC ${f4(metrics.test_auc)} (logistic ${f4(metrics.logistic_auc)}, baseline ${f4(metrics.baseline_auc)}), accuracy ${f4(metrics.test_accuracy)} (${f4(metrics.logistic_accuracy)}, ${f4(metrics.baseline_accuracy)}), log loss ${f4(metrics.test_log_loss)} (${f4(metrics.logistic_log_loss)}, ${f4(metrics.baseline_log_loss)})`,
);
console.log(
  `gate ${gate.passed ? 'passed' : 'FAILED'}: ${checks.map((c) => `${c.passed ? '✓' : '✗'} ${c.check}`).join(', ')}`,
);
