/**
 * Adapters from a table to the trainers of `@trestle/learn`: each fits on training columns
 * and returns the builtin model (and ONNX graph, where the trainer exports one).
 */
import { TrestleError } from '@trestle/core';
import { trainLogisticRegression } from '@trestle/learn';
import type { Table } from '@trestle/tables';
import type { BuiltinModel } from '../builtin/builtin-model.js';
import { readBuiltinModel } from '../builtin/builtin-model.js';
import { logisticRegressionJson } from '../builtin/logistic.js';
import { encodeLinear, fitLinearEncoding } from '../builtin/linear-encoding.js';
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
  /** Numeric columns to treat as categories. */
  readonly categorical: readonly string[];
  readonly params: Readonly<Record<string, string>>;
  /** Called after each iteration with metrics of that iteration (e.g. `train_loss`). */
  readonly onIteration?: (iteration: number, metrics: Record<string, number>) => void;
}

/** What a trainer returns. */
export interface FitResult {
  /** `model.json` of the builtin flavor. */
  readonly builtin: Record<string, unknown>;
  /** The model read back from that JSON: what is evaluated is what is shipped. */
  readonly model: BuiltinModel;
  readonly onnx?: Uint8Array;
  readonly onnxScores?: string;
  /** Settings actually used (defaults filled in), logged as run params. */
  readonly params: Record<string, string | number | boolean>;
  readonly iterations: number;
}

/** A trainer the `train` workflow can run. */
export interface Trainer {
  readonly name: string;
  /** The task it does when the data do not say: 'classification' (binary or multiclass by the classes), or fixed. */
  readonly task: 'classification' | 'binary-classification' | 'regression';
  /** The params it takes (others are refused). */
  readonly params: Readonly<Record<string, string>>;
  fit(input: FitInput): FitResult;
}

function numberParam(
  params: Readonly<Record<string, string>>,
  key: string,
  fallback: number,
  check: (v: number) => boolean,
  what: string,
): number {
  const raw = params[key];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || !check(v)) {
    throw new TrestleError('INVALID_ARGUMENT', `--param ${key}=${raw}: ${key} must be ${what}`, { param: key });
  }
  return v;
}

export const logisticTrainer: Trainer = {
  name: 'logistic',
  task: 'binary-classification',
  params: {
    l2: 'L2 penalty (default 1e-4)',
    max_iterations: 'L-BFGS iterations at most (default 200)',
    top_k: 'levels kept per categorical column, the rest are "other" (default 50)',
  },
  fit(input) {
    const l2 = numberParam(input.params, 'l2', 1e-4, (v) => v >= 0, 'a number ≥ 0');
    const maxIterations = numberParam(
      input.params,
      'max_iterations',
      200,
      (v) => Number.isInteger(v) && v > 0,
      'a positive integer',
    );
    const topK = numberParam(input.params, 'top_k', 50, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
    const names = Object.keys(input.features.columns);
    const encodings = fitLinearEncoding(input.features, names, { categorical: input.categorical, topK });
    const X = encodeLinear(encodings, input.features.columns, input.features.rows);
    const y = Uint8Array.from(input.labels!, (v) => (v === 1 ? 1 : 0));
    const fitted = trainLogisticRegression(X, y, {
      l2,
      maxIterations,
      ...(input.onIteration === undefined
        ? {}
        : { onIteration: ({ iteration, loss }) => input.onIteration!(iteration, { train_loss: loss }) }),
    });
    const builtin = logisticRegressionJson(encodings, fitted);
    return {
      builtin,
      model: readBuiltinModel(JSON.parse(JSON.stringify(builtin))),
      params: { l2, max_iterations: maxIterations, top_k: topK },
      iterations: fitted.iterations,
    };
  },
};

const TRAINERS = new Map<string, Trainer>([[logisticTrainer.name, logisticTrainer]]);

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

export function trainerNames(): string[] {
  return [...TRAINERS.keys()];
}
