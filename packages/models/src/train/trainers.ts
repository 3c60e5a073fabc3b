/**
 * Adapters from a table to the trainers of `@trestle/learn` (GBDT, logistic, linear): each
 * fits on training columns and returns the builtin model and its ONNX graph.
 */
import { TrestleError } from '@trestle/core';
import {
  trainGbdt,
  trainLinear,
  trainLogistic,
  type IterationInfo,
  type OnnxInputType,
  type TrainedModel,
} from '@trestle/learn';
import type { ColumnType, Table } from '@trestle/tables';
import type { BuiltinModel } from '../builtin/builtin-model.js';
import { readBuiltinModel } from '../builtin/builtin-model.js';
import { learnBatch } from '../builtin/learn-model.js';
import type { Task } from '../manifest.js';

/** What a trainer is given. */
export interface FitInput {
  /** Training rows, feature columns only. */
  readonly features: Table;
  readonly task: Exclude<Task, 'other'>;
  readonly classes: readonly string[];
  /** Class index per row (classification). */
  readonly labels?: Int32Array;
  /** Value per row (regression). */
  readonly values?: Float64Array;
  /** Evaluation rows and their truth: reported per iteration (and used for early stopping). */
  readonly validation?: { readonly features: Table; readonly truth: Int32Array | Float64Array };
  /** Numeric columns to treat as categories. */
  readonly categorical: readonly string[];
  readonly params: Readonly<Record<string, string>>;
  /** Called after each iteration with metrics of that iteration (`train_loss`, `valid_loss`). */
  readonly onIteration?: (iteration: number, metrics: Record<string, number>) => void;
}

/** What a trainer returns. */
export interface FitResult {
  /** `model.json` of the builtin flavor. */
  readonly builtin: Record<string, unknown>;
  /** The model read back from that JSON: what is evaluated is what is shipped. */
  readonly model: BuiltinModel;
  readonly onnx?: Uint8Array;
  /** The ONNX output with the scores. */
  readonly onnxScores?: string;
  /** Whether the graph reads an integer input's minimum as missing. */
  readonly onnxIntegerMissing?: 'minimum';
  /** Settings actually used (defaults filled in), logged as run params. */
  readonly params: Record<string, string | number | boolean>;
  readonly iterations: number;
}

/** A trainer the `train` workflow can run. */
export interface Trainer {
  readonly name: string;
  /** The task it does when not told: 'classification' (binary or multiclass by the classes), or fixed. */
  readonly task: 'classification' | 'binary-classification' | 'regression';
  /** The params it takes and what they mean (others are refused). */
  readonly params: Readonly<Record<string, string>>;
  fit(input: FitInput): FitResult;
}

type Params = Readonly<Record<string, string>>;

function num(params: Params, key: string, check: (v: number) => boolean, what: string): number | undefined {
  const raw = params[key];
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) {
    throw new TrestleError('INVALID_ARGUMENT', `--param ${key}=${raw}: ${key} must be ${what}`, { param: key });
  }
  return v;
}
const positiveInt = (params: Params, key: string): number | undefined =>
  num(params, key, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
const nonNegative = (params: Params, key: string): number | undefined =>
  num(params, key, (v) => v >= 0, 'a number ≥ 0');
const fraction = (params: Params, key: string): number | undefined =>
  num(params, key, (v) => v > 0 && v <= 1, 'in (0, 1]');

function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function iterationCallback(input: FitInput): ((info: IterationInfo) => void) | undefined {
  if (input.onIteration === undefined) return undefined;
  return (info) =>
    input.onIteration!(info.iteration, {
      train_loss: info.trainLoss,
      ...(info.validLoss === undefined ? {} : { valid_loss: info.validLoss }),
    });
}

/** The ONNX input type of a column type: what MLflow's pyfunc feeds for it (see `OnnxInputType`). */
const ONNX_INPUT: Record<ColumnType, OnnxInputType> = {
  boolean: 'bool',
  integer: 'int32',
  long: 'int64',
  float: 'float',
  double: 'float',
  datetime: 'float',
  string: 'string',
};

/**
 * The builtin JSON, the model read back from it, and the ONNX graph of a learn model, whose
 * inputs take the training columns' types.
 */
function result(
  model: TrainedModel,
  input: FitInput,
  params: Record<string, string | number | boolean>,
  iterations: number,
): FitResult {
  const builtin = JSON.parse(JSON.stringify(model.toJSON())) as Record<string, unknown>;
  const types = Object.fromEntries(
    Object.entries(input.features.columns).map(([name, c]) => [name, ONNX_INPUT[c.type]]),
  );
  return {
    builtin,
    model: readBuiltinModel(builtin),
    onnx: model.toOnnx(types),
    onnxScores: model.task === 'regression' ? 'value' : model.task === 'binary' ? 'probability' : 'probability_*',
    onnxIntegerMissing: 'minimum',
    params,
    iterations,
  };
}

const learnTask = (task: Exclude<Task, 'other'>): 'binary' | 'multiclass' | 'regression' =>
  task === 'binary-classification' ? 'binary' : task === 'multiclass-classification' ? 'multiclass' : 'regression';

const gbdtTrainer: Trainer = {
  name: 'gbdt',
  task: 'classification',
  params: {
    rounds: 'boosting rounds (default 100)',
    learning_rate: 'shrinkage (default 0.1)',
    max_leaves: 'leaves per tree (default 31)',
    max_depth: 'depth limit (default none)',
    min_samples_leaf: 'rows per leaf at least (default 20)',
    l2: 'L2 penalty on leaf values (default 0)',
    max_bins: 'bins per feature, 2–255 (default 255)',
    subsample: 'share of rows per round (default 1)',
    feature_fraction: 'share of features per tree (default 1)',
    early_stopping: 'stop after this many rounds without improvement on the evaluation rows (default off)',
    seed: 'seed of the sampling (default 0)',
  },
  fit(input) {
    const p = input.params;
    const settings = defined({
      rounds: positiveInt(p, 'rounds'),
      learningRate: num(p, 'learning_rate', (v) => v > 0, 'a number > 0'),
      maxLeaves: num(p, 'max_leaves', (v) => Number.isInteger(v) && v >= 2, 'an integer ≥ 2'),
      maxDepth: positiveInt(p, 'max_depth'),
      minSamplesLeaf: positiveInt(p, 'min_samples_leaf'),
      l2: nonNegative(p, 'l2'),
      maxBins: num(p, 'max_bins', (v) => Number.isInteger(v) && v >= 2 && v <= 255, 'an integer in 2–255'),
      subsample: fraction(p, 'subsample'),
      featureFraction: fraction(p, 'feature_fraction'),
      seed: num(p, 'seed', (v) => Number.isInteger(v), 'an integer'),
    });
    const patience = positiveInt(p, 'early_stopping');
    const categorical = new Set(input.categorical);
    const batch = learnBatch(input.features.columns, input.features.rows, categorical);
    const regression = input.task === 'regression';
    const validation =
      input.validation === undefined || input.validation.features.rows === 0
        ? undefined
        : {
            batch: learnBatch(input.validation.features.columns, input.validation.features.rows, categorical),
            y: input.validation.truth,
          };
    let rounds = 0;
    const callback = iterationCallback(input);
    const model = trainGbdt(batch, regression ? input.values! : input.labels!, {
      task: learnTask(input.task),
      ...(regression ? {} : { classes: input.classes }),
      ...settings,
      ...(validation === undefined ? {} : { validation }),
      ...(patience === undefined ? {} : { earlyStopping: { patience } }),
      onIteration: (info) => {
        rounds = info.iteration;
        callback?.(info);
      },
    });
    const used = {
      rounds: settings.rounds ?? 100,
      learning_rate: settings.learningRate ?? 0.1,
      max_leaves: settings.maxLeaves ?? 31,
      min_samples_leaf: settings.minSamplesLeaf ?? 20,
      l2: settings.l2 ?? 0,
      max_bins: settings.maxBins ?? 255,
      ...(settings.maxDepth === undefined ? {} : { max_depth: settings.maxDepth }),
      ...(settings.subsample === undefined ? {} : { subsample: settings.subsample }),
      ...(settings.featureFraction === undefined ? {} : { feature_fraction: settings.featureFraction }),
      ...(patience === undefined ? {} : { early_stopping: patience }),
      ...(settings.seed === undefined ? {} : { seed: settings.seed }),
    };
    return result(model, input, used, rounds);
  },
};

function linearFit(kind: 'logistic' | 'linear') {
  return (input: FitInput): FitResult => {
    const p = input.params;
    const l2 = nonNegative(p, 'l2');
    const maxIterations = positiveInt(p, 'max_iterations');
    const maxCategories = positiveInt(p, 'max_categories');
    const batch = learnBatch(input.features.columns, input.features.rows, new Set(input.categorical));
    let iterations = 0;
    const callback = iterationCallback(input);
    const options = {
      ...(l2 === undefined ? {} : { l2 }),
      ...(maxIterations === undefined ? {} : { maxIterations }),
      ...(maxCategories === undefined ? {} : { preprocessing: { maxCategories } }),
      onIteration: (info: IterationInfo) => {
        iterations = info.iteration;
        callback?.(info);
      },
    };
    const model =
      kind === 'logistic'
        ? trainLogistic(batch, input.labels!, { ...options, classes: input.classes })
        : trainLinear(batch, input.values!, options);
    const used = {
      l2: l2 ?? (kind === 'logistic' ? 1e-4 : 0),
      max_iterations: maxIterations ?? (kind === 'logistic' ? 200 : 500),
      max_categories: maxCategories ?? 255,
    };
    return result(model, input, used, iterations);
  };
}

export const logisticTrainer: Trainer = {
  name: 'logistic',
  task: 'binary-classification',
  params: {
    l2: 'L2 penalty on standardised features (default 1e-4)',
    max_iterations: 'L-BFGS iterations at most (default 200)',
    max_categories: 'levels kept per categorical column, the most frequent (default 255)',
  },
  fit: linearFit('logistic'),
};

const linearTrainer: Trainer = {
  name: 'linear',
  task: 'regression',
  params: {
    l2: 'L2 penalty on standardised features (default 0)',
    max_iterations: 'L-BFGS iterations at most (default 500)',
    max_categories: 'levels kept per categorical column, the most frequent (default 255)',
  },
  fit: linearFit('linear'),
};

const TRAINERS = new Map<string, Trainer>([gbdtTrainer, logisticTrainer, linearTrainer].map((t) => [t.name, t]));

/** Adds a trainer (by name) to those `train` can run. */
export function registerTrainer(trainer: Trainer): void {
  TRAINERS.set(trainer.name, trainer);
}

/** The trainer called `name`. @throws TrestleError `INVALID_ARGUMENT` naming the known ones. */
export function getTrainer(name: string): Trainer {
  const t = TRAINERS.get(name);
  if (t === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `no trainer '${name}' (this build has: ${[...TRAINERS.keys()].join(', ')})`,
    );
  }
  return t;
}

/** Names of the trainers `train` can run. */
export function trainerNames(): string[] {
  return [...TRAINERS.keys()];
}
