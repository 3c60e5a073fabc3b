/**
 * train: fits a histogram gradient-boosted tree model (`@trestle/learn`'s GBDT) on
 * data/train.csv to predict `late` from hour, weekday, distance, origin and destination
 * (origin, destination and weekday as categorical features), logs params, the loss of every
 * round and the final metrics to this stage's run, and writes the model package to model/
 * (the pipeline records it as the run's artifact `model`).
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { Trestle } from '@trestle/client';
import { trainModel, writeModelPackage } from '@trestle/models';
import { fileDigest, readTable } from '@trestle/tables';
import { numberParam, stageParams } from './params.js';

const DATA = 'data/train.csv';
const p = stageParams('train');
const params = Object.fromEntries(
  ['rounds', 'learning_rate', 'max_leaves', 'min_samples_leaf'].map((k) => [k, String(numberParam(p, k))]),
);
const holdout = numberParam(p, 'holdout');

const [table, digest] = await Promise.all([readTable(DATA), fileDigest(DATA)]);
const trestle = await Trestle.connect();
// Inside `trestle run` this continues the stage's run (TRESTLE_RUN_ID); alone it starts one.
const run = await trestle.startRun({ name: 'train-gbdt' });
console.log(`Training GBDT (run ${run.id}) on ${table.rows.toLocaleString('en-US')} flights …`);
const dataset = {
  name: 'flights-train',
  digest,
  source: pathToFileURL(resolve(DATA)).href,
  context: 'training',
  rows: table.rows,
};
await run.logInput({
  name: dataset.name,
  digest,
  source: JSON.stringify({ uri: dataset.source }),
  context: 'training',
  profile: JSON.stringify({ num_rows: table.rows }),
});

const t0 = performance.now();
let lastPrint = 0;
const trained = trainModel(table, undefined, {
  trainer: 'gbdt',
  target: 'late',
  categorical: [],
  params,
  holdout,
  onIteration: (iteration, metrics) => {
    for (const [key, value] of Object.entries(metrics)) void run.logMetric(key, value, iteration);
    const now = performance.now();
    if (now - lastPrint > 2000) {
      lastPrint = now;
      console.log(
        `  round ${iteration}  train_loss ${metrics['train_loss']?.toFixed(4)}  valid_loss ${metrics['valid_loss']?.toFixed(4)}`,
      );
    }
  },
});
const seconds = (performance.now() - t0) / 1000;
console.log(
  `${trained.iterations} rounds in ${seconds.toFixed(1)} s; validation AUC ${trained.metrics['valid_auc']?.toFixed(4)}`,
);
await run.logParams({
  model: 'gbdt',
  ...trained.params,
  holdout,
  train_rows: trained.trainRows,
  valid_rows: trained.evalRows,
});
await run.logMetrics({ ...trained.metrics, train_seconds: seconds }, trained.iterations);
await run.setTags({ task: trained.task, 'trestle.model': 'gbdt' });

await writeModelPackage('model', {
  ...trained.contents,
  run: { runId: run.id, experimentId: run.run.info.experimentId, artifactPath: 'model' },
  datasets: [dataset],
});
await run.end();
await trestle.close();
