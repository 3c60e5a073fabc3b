/**
 * train: fits a histogram gradient-boosted tree model (`@trestle/learn`'s GBDT) on
 * data/train.csv to predict `late` from hour, weekday, distance, origin and destination
 * (origin, destination and weekday, strings, as categorical features), logs it to this
 * stage's run, writes the model package to model/ (the run's artifact `model`) and its
 * scores on the held-out week to train-metrics.json (see fit.ts).
 */
import { fitAndLog } from './fit.js';
import { numberParam, stageParams } from './params.js';

const p = stageParams('train');
await fitAndLog({
  trainer: 'gbdt',
  label: 'GBDT',
  params: Object.fromEntries(
    ['rounds', 'learning_rate', 'max_leaves', 'min_samples_leaf'].map((k) => [k, String(numberParam(p, k))]),
  ),
  categorical: [],
  holdout: numberParam(p, 'holdout'),
  out: 'model',
  metricsFile: 'train-metrics.json',
});
