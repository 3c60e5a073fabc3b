/**
 * What the two training stages share: fit a trainer of `@trestle/models` on data/train.csv to
 * predict `late` from hour, weekday, distance, origin and destination, log params, the loss of
 * every iteration and the final metrics to the stage's run, write the model package (logged as
 * the run's artifact of that name), then score the package on the held-out week and write
 * those metrics to a file the pipeline logs to the same run, so the runs compare side by side.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { Trestle } from '@trestle/client';
import { trainModel, writeModelPackage } from '@trestle/models';
import { fileDigest, readTable } from '@trestle/tables';
import { holdoutScores } from './holdout.js';

const DATA = 'data/train.csv';

export interface FitOptions {
  /** `gbdt` or `logistic`. */
  readonly trainer: string;
  /** What to call the model in the output and the run name when run alone. */
  readonly label: string;
  readonly params: Record<string, string>;
  /** Numeric columns to read as categories. */
  readonly categorical: readonly string[];
  /** Share of January that reports the validation curve. */
  readonly holdout: number;
  /** Folder of the model package (a stage output, logged as the run's artifact of that name). */
  readonly out: string;
  /** File of the held-out week's metrics (a stage's `metrics:` file). */
  readonly metricsFile: string;
}

export async function fitAndLog(o: FitOptions): Promise<void> {
  const [table, digest] = await Promise.all([readTable(DATA), fileDigest(DATA)]);
  const trestle = await Trestle.connect();
  // Inside `trestle run` this continues the stage's run (TRESTLE_RUN_ID); alone it starts one.
  const run = await trestle.startRun({ name: `train-${o.trainer}` });
  console.log(`Training ${o.label} (run ${run.id}) on ${table.rows.toLocaleString('en-US')} flights …`);
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
    trainer: o.trainer,
    target: 'late',
    categorical: o.categorical,
    params: o.params,
    holdout: o.holdout,
    onIteration: (iteration, metrics) => {
      for (const [key, value] of Object.entries(metrics)) void run.logMetric(key, value, iteration);
      const now = performance.now();
      if (now - lastPrint > 2000) {
        lastPrint = now;
        const valid = metrics['valid_loss'];
        console.log(
          `  iteration ${iteration}  train_loss ${metrics['train_loss']?.toFixed(4)}${valid === undefined ? '' : `  valid_loss ${valid.toFixed(4)}`}`,
        );
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${trained.iterations} iterations in ${seconds.toFixed(1)} s; validation AUC ${trained.metrics['valid_auc']?.toFixed(4)}`,
  );
  await run.logParams({
    model: o.trainer,
    ...trained.params,
    holdout: o.holdout,
    train_rows: trained.trainRows,
    valid_rows: trained.evalRows,
  });
  await run.logMetrics({ ...trained.metrics, train_seconds: seconds }, trained.iterations);
  await run.setTags({ task: trained.task, 'trestle.model': o.trainer });

  await writeModelPackage(o.out, {
    ...trained.contents,
    run: { runId: run.id, experimentId: run.run.info.experimentId, artifactPath: o.out },
    datasets: [dataset],
  });
  const { metrics } = await holdoutScores(o.out);
  writeFileSync(o.metricsFile, `${JSON.stringify(metrics, null, 2)}\n`);
  console.log(`${o.label} on the held-out week: test AUC ${metrics['test_auc']!.toFixed(4)}`);
  await run.end();
  await trestle.close();
}
