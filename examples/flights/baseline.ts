/**
 * baseline: the logistic regression beside the GBDT, on the same features, the same January
 * (and the same validation share of it) and the same held-out week, so the two runs compare
 * (`trestle runs compare`). A linear model cannot bend a number, so the departure hour is
 * read as a category (24 levels) here; origin, destination and weekday are categories as for
 * the GBDT. Writes the package to baseline/ and its held-out scores to baseline-metrics.json.
 */
import { fitAndLog } from './fit.js';
import { numberParam, stageParams } from './params.js';

const p = stageParams('baseline');
await fitAndLog({
  trainer: 'logistic',
  label: 'logistic regression',
  params: Object.fromEntries(['l2', 'max_iterations'].map((k) => [k, String(numberParam(p, k))])),
  categorical: ['hour'],
  holdout: numberParam(stageParams('train'), 'holdout'),
  out: 'baseline',
  metricsFile: 'baseline-metrics.json',
});
