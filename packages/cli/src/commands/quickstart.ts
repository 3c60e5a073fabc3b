import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Dataset } from '@trestle/core';
import { Trestle } from '@trestle/client';
import { accuracy, logLoss, predictProba, rocAuc, trainLogisticRegression } from '@trestle/learn';
import type { Command } from '../framework/command.js';
import { formatNumber } from '../framework/output.js';
import {
  DELAY_THRESHOLD_MINUTES,
  FLIGHTS_HOLDOUT_RANGE,
  FLIGHTS_TRAIN_RANGE,
  buildFlightFeatures,
  describeFlightsDataset,
  loadFlights,
  type TimeRange,
} from '../quickstart/flights-data.js';
import { parsePositiveInt } from '../session.js';
import { UsageError } from '../framework/command.js';

const EXPERIMENT = 'quickstart-flights';

/** A slice of the flights file as its own dataset version: the digest covers file and range. */
function sliceOf(file: Dataset, name: string, range: TimeRange): Dataset {
  const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
  const filter = `date >= ${day(range.fromMs)} AND date < ${day(range.toMs)}`;
  const digest = createHash('sha256').update(`${file.digest}\n${filter}`).digest('hex').slice(0, 16);
  const source = JSON.parse(file.source) as Record<string, unknown>;
  return { ...file, name, digest, source: JSON.stringify({ ...source, filter }) };
}

const f4 = (v: number): string => v.toFixed(4);
const mean = (y: Uint8Array): number => y.reduce((a, b) => a + b, 0) / y.length;

/**
 * What a model that knows nothing scores on the held-out week: it gives every flight the
 * training set's late rate. Below ½, that rate classifies every flight as "on time", so its
 * accuracy is the test set's on-time share, and its AUC is ½ (all scores tie). A reader needs
 * these to judge the model's numbers: with 86 % of flights on time, 0.86 accuracy is nothing.
 */
function baselineMetrics(
  trainY: Uint8Array,
  testY: Uint8Array,
): { test_auc: number; test_accuracy: number; test_log_loss: number } {
  const constant = new Float64Array(testY.length).fill(mean(trainY));
  return {
    test_auc: rocAuc(testY, constant),
    test_accuracy: accuracy(testY, constant),
    test_log_loss: logLoss(testY, constant),
  };
}

function parseL2(value: unknown): number {
  if (value === undefined) return 1e-4;
  const l2 = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(l2) || l2 < 0)
    throw new UsageError(`--l2 expects a number ≥ 0, got '${JSON.stringify(value)}'`);
  return l2;
}

/**
 * `trestle quickstart`: the whole loop on real data, as one readable script of steps.
 * Later issues add serving and monitoring here; `--exit` always means "stop when the demo is done".
 */
export const quickstart: Command = {
  name: 'quickstart',
  summary: 'Train a model on 622,708 real US flights (of the 3 million in vega-datasets) and track the run',
  description: [
    'Reads the US domestic flights departing 1 January – 7 February 2001 (about 623,000 of the',
    "3 million flights of Jan–Jun 2001 in vega-datasets' flights-3m.parquet), trains an L2 logistic",
    'regression on January to predict whether a flight ARRIVES more than 15 minutes late, from its',
    'scheduled hour, weekday, distance, origin and destination, evaluates it on 1–7 February beside',
    'the baseline that always answers "on time", and logs params, per-iteration loss, metrics, both',
    'dataset inputs and the model to the store.',
  ].join('\n'),
  options: {
    exit: { type: 'boolean', description: 'stop when the demo is done (for scripts and tests)' },
    experiment: { type: 'string', valueName: 'NAME', description: `experiment to log to (default ${EXPERIMENT})` },
    l2: { type: 'string', valueName: 'X', description: 'L2 penalty (default 1e-4)' },
    'max-iterations': { type: 'string', valueName: 'N', description: 'L-BFGS iterations at most (default 200)' },
  },
  positionals: { max: 0 },
  async run(ctx) {
    const say = (s: string): void => ctx.out.info(s);
    const l2 = parseL2(ctx.values['l2']);
    const maxIterations = parsePositiveInt(ctx.values['max-iterations'], 'max-iterations', 200);
    const experiment = typeof ctx.values['experiment'] === 'string' ? ctx.values['experiment'] : EXPERIMENT;
    const t0 = performance.now();
    const secs = (from: number): string => `${((performance.now() - from) / 1000).toFixed(1)} s`;

    const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
    const lastDay = (ms: number): string => day(ms - 1);
    say(
      `1. Reading the flights departing ${day(FLIGHTS_TRAIN_RANGE.fromMs)} to ${lastDay(FLIGHTS_HOLDOUT_RANGE.toMs)} from vega-datasets flights-3m.parquet (US domestic flights, Jan–Jun 2001) ...`,
    );
    let t = performance.now();
    const range = { fromMs: FLIGHTS_TRAIN_RANGE.fromMs, toMs: FLIGHTS_HOLDOUT_RANGE.toMs };
    const [cols, file] = await Promise.all([loadFlights({ range }), describeFlightsDataset()]);
    say(
      `   ${cols.rows.toLocaleString('en-US')} flights read in ${secs(t)} (file sha256 ${file.digest.slice(0, 12)}…)`,
    );

    const threshold = DELAY_THRESHOLD_MINUTES;
    say(
      `2. Task: predict whether a flight arrives more than ${threshold} minutes late (arrival delay > ${threshold} min),`,
    );
    const train = buildFlightFeatures(cols, FLIGHTS_TRAIN_RANGE);
    const test = buildFlightFeatures(cols, FLIGHTS_HOLDOUT_RANGE, train.encoder);
    say('   from its scheduled departure hour and weekday (estimated: departure − arrival delay), its distance,');
    say(
      `   and its origin and destination (January's ${train.encoder.origins.length} busiest airports each, the others as "other")`,
    );
    const rate = (y: Uint8Array): string => `${((100 * y.reduce((a, b) => a + b, 0)) / y.length).toFixed(1)}% late`;
    say(
      `   train: ${day(FLIGHTS_TRAIN_RANGE.fromMs)} to ${lastDay(FLIGHTS_TRAIN_RANGE.toMs)}, ${train.y.length.toLocaleString('en-US')} flights, ${rate(train.y)}`,
    );
    say(
      `   test:  ${day(FLIGHTS_HOLDOUT_RANGE.fromMs)} to ${lastDay(FLIGHTS_HOLDOUT_RANGE.toMs)} (held out, later in time), ${test.y.length.toLocaleString('en-US')} flights, ${rate(test.y)}`,
    );

    const trestle = await Trestle.connect({ config: ctx.config });
    try {
      const run = await trestle.startRun({
        experiment,
        name: 'flights-logreg',
        params: {
          model: 'logistic-regression',
          optimizer: 'L-BFGS',
          l2,
          max_iterations: maxIterations,
          features: 'hour,weekday,log_distance,origin,destination',
          top_k_airports: train.encoder.origins.length,
          delay_threshold_minutes: train.encoder.delayThresholdMinutes,
          train_rows: train.y.length,
          test_rows: test.y.length,
        },
        tags: { task: 'binary-classification', dataset: 'flights-3m' },
      });
      await run.logInput({ ...sliceOf(file, 'flights-2001-01', FLIGHTS_TRAIN_RANGE), context: 'training' });
      await run.logInput({ ...sliceOf(file, 'flights-2001-02-w1', FLIGHTS_HOLDOUT_RANGE), context: 'evaluation' });

      say(`3. Training (run ${run.id} in experiment '${experiment}') ...`);
      t = performance.now();
      const model = trainLogisticRegression(train.X, train.y, {
        l2,
        maxIterations,
        onIteration: ({ iteration, loss }) => void run.logMetric('train_loss', loss, iteration),
      });
      say(
        `   ${model.iterations} iterations in ${secs(t)}, ${model.converged ? 'converged' : 'stopped at the iteration limit'}, final loss ${formatNumber(model.lossHistory.at(-1) ?? NaN)}`,
      );

      say('4. Evaluating on the held-out week, beside the baseline ...');
      const pTest = predictProba(model, test.X);
      const pTrain = predictProba(model, train.X);
      const metrics = {
        test_auc: rocAuc(test.y, pTest),
        test_accuracy: accuracy(test.y, pTest),
        test_log_loss: logLoss(test.y, pTest),
        train_auc: rocAuc(train.y, pTrain),
        train_log_loss: logLoss(train.y, pTrain),
      };
      await run.logMetrics(metrics, model.iterations);
      const baseline = baselineMetrics(train.y, test.y);

      say('5. Saving the model and its feature encoder as artifacts ...');
      const artifacts = [
        await run.logText('model/model.json', JSON.stringify(model)),
        await run.logText('model/encoder.json', JSON.stringify(train.encoder)),
      ];
      const finished = await run.end();

      const summary = {
        runId: finished.info.runId,
        experimentId: finished.info.experimentId,
        experiment,
        status: finished.info.status,
        metrics,
        baseline,
        task: { label: `arrival delay > ${threshold} min`, positiveRate: { train: mean(train.y), test: mean(test.y) } },
        rows: { read: cols.rows, train: train.y.length, test: test.y.length },
        iterations: model.iterations,
        artifacts: artifacts.map((a) => ({ path: a.path, size: a.size, sha256: a.sha256 })),
        seconds: Number(((performance.now() - t0) / 1000).toFixed(2)),
      };
      ctx.out.result(summary, () =>
        [
          '',
          `Run ${finished.info.runId} ${finished.info.status} in ${summary.seconds} s`,
          `Held-out week, ${test.y.length.toLocaleString('en-US')} flights (${rate(test.y)}):`,
          '                 model    baseline: always "on time"',
          `  test AUC       ${f4(metrics.test_auc)}   ${f4(baseline.test_auc)}   (train AUC ${f4(metrics.train_auc)})`,
          `  test accuracy  ${f4(metrics.test_accuracy)}   ${f4(baseline.test_accuracy)}`,
          `  test log loss  ${f4(metrics.test_log_loss)}   ${f4(baseline.test_log_loss)}   (baseline: January's late rate for every flight)`,
          `  store          ${ctx.config.trackingUri ?? ctx.config.db}`,
          '',
          'Look at it:',
          '  npx trestle runs list',
          `  npx trestle runs show ${finished.info.runId.slice(0, 8)}`,
        ].join('\n'),
      );
    } finally {
      await trestle.close();
    }
  },
};
