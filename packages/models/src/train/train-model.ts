/**
 * The training workflow behind `trestle train`: pick the features, read the target, split a
 * holdout, fit, evaluate on both sides, profile the training data and predictions, and
 * return everything a model package needs. Pure computation on tables: the CLI does the
 * file and run I/O around it.
 */
import { TrestleError } from '@trestle/core';
import { buildReferenceProfile, type ReferenceProfile } from '@trestle/monitoring';
import { takeRows, type Column, type Table } from '@trestle/tables';
import { standardOutputs, type Task } from '../manifest.js';
import { taskOutputs } from '../predictions.js';
import type { ColumnSpec, ModelInput, Signature } from '../signature.js';
import type { PackageContents } from '../write-package.js';
import { evaluate } from './evaluate.js';
import { classIndices, readTarget, targetValues } from './target.js';
import { getTrainer } from './trainers.js';
import { seededRandom } from '@trestle/core';

/** Options of {@link trainModel}. */
export interface TrainModelOptions {
  /** `logistic`, `gbdt`, `linear` (as registered). */
  readonly trainer: string;
  readonly target: string;
  /** Feature columns; default every column but the target. */
  readonly features?: readonly string[];
  /** Numeric feature columns to treat as categories. */
  readonly categorical?: readonly string[];
  /** Trainer settings (`--param key=value`), plus `task` (classification|regression) for trainers that do both. */
  readonly params?: Readonly<Record<string, string>>;
  /** Share of rows held out for evaluation when no validation table is given. Default 0.2. */
  readonly holdout?: number;
  /** Seed of the holdout split. Default 42. */
  readonly seed?: number;
  /** Prefix of the evaluation metrics (`valid_auc`). Default 'valid'. */
  readonly evalName?: string;
  readonly onIteration?: (iteration: number, metrics: Record<string, number>) => void;
}

/** A trained model and everything to package and log it. */
export interface TrainedModel {
  readonly task: Exclude<Task, 'other'>;
  readonly classes: readonly string[];
  readonly signature: Signature;
  /** Settings used, to log as run params. */
  readonly params: Record<string, string | number | boolean>;
  /** `train_*` and `<evalName>_*` metrics. */
  readonly metrics: Record<string, number>;
  readonly profile: ReferenceProfile;
  readonly trainRows: number;
  readonly evalRows: number;
  readonly iterations: number;
  /** The package contents (without run and datasets, which the caller adds). */
  readonly contents: PackageContents;
}

/** Scores as `evaluate` takes them: binary → P(classes[1]) per row; others unchanged. */
function canonicalScores(task: Exclude<Task, 'other'>, scores: Float64Array, rows: number): Float64Array {
  if (task !== 'binary-classification' || scores.length === rows) return scores;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) out[i] = scores[2 * i + 1]!;
  return out;
}

/** A seeded shuffle split (mulberry32): the same seed gives the same split on any machine. */
function split(rows: Int32Array, share: number, seed: number): { train: Int32Array; test: Int32Array } {
  const random = seededRandom(seed);
  const flags = new Uint8Array(rows.length);
  let tests = 0;
  for (let i = 0; i < rows.length; i++) {
    if (random() < share) {
      flags[i] = 1;
      tests++;
    }
  }
  const train = new Int32Array(rows.length - tests);
  const test = new Int32Array(tests);
  for (let i = 0, a = 0, b = 0; i < rows.length; i++) {
    if (flags[i] === 1) test[b++] = rows[i]!;
    else train[a++] = rows[i]!;
  }
  return { train, test };
}

function featureTable(table: Table, features: readonly string[]): Table {
  const columns: Record<string, Column> = {};
  for (const f of features) columns[f] = table.columns[f]!;
  return { rows: table.rows, columns };
}

function monitoringColumns(
  table: Table,
): Record<string, Float64Array | { codes: Int32Array; dictionary: readonly string[] }> {
  const out: Record<string, Float64Array | { codes: Int32Array; dictionary: readonly string[] }> = {};
  for (const [name, c] of Object.entries(table.columns)) out[name] = c.type === 'string' ? c : c.values;
  return out;
}

/**
 * Trains a model on `train` and evaluates it on `valid` (or on a seeded holdout of `train`).
 *
 * @throws TrestleError `INVALID_ARGUMENT` for a missing or constant target, a missing or
 *   unusable feature, unknown params, or too few rows.
 * @example
 * const trained = trainModel(await readTable('train.csv'), undefined, { trainer: 'logistic', target: 'delayed' });
 * await writeModelPackage('model', trained.contents);
 */
export function trainModel(train: Table, valid: Table | undefined, options: TrainModelOptions): TrainedModel {
  const trainer = getTrainer(options.trainer);
  const params = { ...(options.params ?? {}) };
  const taskParam = params['task'];
  delete params['task'];
  const known = new Set(Object.keys(trainer.params));
  for (const key of Object.keys(params)) {
    if (!known.has(key)) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `--param ${key}: the ${trainer.name} trainer has no such setting (it takes: ${[...known, ...(trainer.task === 'classification' ? ['task'] : [])].join(', ')})`,
        { param: key },
      );
    }
  }
  let task: Exclude<Task, 'other'> | 'classification' = trainer.task;
  if (taskParam !== undefined) {
    if (trainer.task !== 'classification' || (taskParam !== 'classification' && taskParam !== 'regression')) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `--param task=${taskParam}: ${trainer.name} trains ${trainer.task} only`,
      );
    }
    task = taskParam;
  }
  const features = options.features ?? Object.keys(train.columns).filter((c) => c !== options.target);
  if (features.length === 0)
    throw new TrestleError('INVALID_ARGUMENT', `the data has no feature columns beside the target '${options.target}'`);
  for (const f of features) {
    if (train.columns[f] === undefined) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `the training data has no feature column '${f}' (its columns: ${Object.keys(train.columns).join(', ')})`,
        { column: f },
      );
    }
    if (valid !== undefined && valid.columns[f] === undefined) {
      throw new TrestleError('INVALID_ARGUMENT', `the validation data has no feature column '${f}'`, { column: f });
    }
    if (f === options.target) throw new TrestleError('INVALID_ARGUMENT', `the target '${f}' cannot also be a feature`);
  }
  for (const c of options.categorical ?? []) {
    if (!features.includes(c))
      throw new TrestleError('INVALID_ARGUMENT', `categorical column '${c}' is not a feature`, { column: c });
  }

  const target = readTarget(train, options.target, task, 'the training data');
  let trainRows = target.rows;
  let evalTable: Table;
  let evalRows: Int32Array;
  if (valid === undefined) {
    const share = options.holdout ?? 0.2;
    const parts = split(target.rows, share, options.seed ?? 42);
    trainRows = parts.train;
    evalTable = train;
    evalRows = parts.test;
  } else {
    evalTable = valid;
    const validTarget = valid.columns[options.target];
    if (validTarget === undefined) {
      throw new TrestleError('INVALID_ARGUMENT', `the validation data has no target column '${options.target}'`, {
        column: options.target,
      });
    }
    const present: number[] = [];
    for (let i = 0; i < valid.rows; i++) {
      const missing = validTarget.type === 'string' ? validTarget.codes[i]! < 0 : Number.isNaN(validTarget.values[i]!);
      if (!missing) present.push(i);
    }
    evalRows = Int32Array.from(present);
  }
  if (trainRows.length < 2)
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `only ${trainRows.length} training rows have a target value; too few to train on`,
    );

  const targetColumn = train.columns[options.target]!;
  const evalTargetColumn = evalTable.columns[options.target]!;
  const regression = target.task === 'regression';
  if (!regression) {
    // Evaluation rows of a class never seen in training cannot be scored against it: left out.
    const codes = classIndices(evalTargetColumn, evalRows, target.classes);
    const keep: number[] = [];
    for (let i = 0; i < codes.length; i++) if (codes[i]! >= 0) keep.push(evalRows[i]!);
    evalRows = Int32Array.from(keep);
  }
  const trainSet = takeRows(featureTable(train, features), trainRows);
  const evalSet = takeRows(featureTable(evalTable, features), evalRows);
  const trainTruth = regression
    ? targetValues(targetColumn, trainRows)
    : classIndices(targetColumn, trainRows, target.classes);
  const evalTruth = regression
    ? targetValues(evalTargetColumn, evalRows)
    : classIndices(evalTargetColumn, evalRows, target.classes);

  const fitted = trainer.fit({
    features: trainSet,
    task: target.task,
    classes: target.classes,
    ...(regression ? { values: trainTruth as Float64Array } : { labels: trainTruth as Int32Array }),
    validation: { features: evalSet, truth: evalTruth },
    categorical: options.categorical ?? [],
    params,
    ...(options.onIteration === undefined ? {} : { onIteration: options.onIteration }),
  });

  const input = (t: Table): ModelInput => ({ rows: t.rows, columns: t.columns });
  const k = target.classes.length;
  const trainScores = canonicalScores(target.task, fitted.model.scores(input(trainSet)), trainSet.rows);
  const evalScores = canonicalScores(target.task, fitted.model.scores(input(evalSet)), evalSet.rows);
  const evalName = options.evalName ?? 'valid';
  const metrics = {
    ...evaluate(target.task, trainTruth, trainScores, k, 'train'),
    ...evaluate(target.task, evalTruth, evalScores, k, evalName),
  };

  const predictions = taskOutputs(target.task, target.classes, trainScores, trainSet.rows);
  const profile = buildReferenceProfile(monitoringColumns(trainSet), {
    prediction: {
      task: target.task,
      outputs: Object.fromEntries(
        Object.entries(predictions.outputs).map(([name, v]) => [name, v instanceof Float64Array ? v : [...v]]),
      ),
    },
  });
  const inputs: ColumnSpec[] = features.map((name) => ({ name, type: trainSet.columns[name]!.type }));
  const signature: Signature = { inputs, outputs: standardOutputs(target.task, target.classes) };
  const trainerParams = {
    ...fitted.params,
    ...(options.categorical !== undefined && options.categorical.length > 0
      ? { categorical: options.categorical.join(',') }
      : {}),
  };
  return {
    task: target.task,
    classes: target.classes,
    signature,
    params: { trainer: trainer.name, target: options.target, features: features.join(','), ...trainerParams },
    metrics,
    profile,
    trainRows: trainSet.rows,
    evalRows: evalSet.rows,
    iterations: fitted.iterations,
    contents: {
      task: target.task,
      ...(regression ? {} : { classes: target.classes }),
      signature,
      builtin: fitted.builtin,
      ...(fitted.onnx === undefined ? {} : { onnx: fitted.onnx }),
      ...(fitted.onnxScores === undefined ? {} : { onnxScores: fitted.onnxScores }),
      ...(fitted.onnxIntegerMissing === undefined ? {} : { onnxIntegerMissing: fitted.onnxIntegerMissing }),
      trainer: { name: trainer.name, params: trainerParams },
      metrics,
      profile,
    },
  };
}
