/**
 * What a model answers: one array per output, one entry per row.
 */
import { TrestleError } from '@trestle/core';
import type { Task } from './manifest.js';

/**
 * Predictions for `rows` rows: numbers as Float64Array, labels as strings.
 *
 * @example
 * const p: Predictions = { rows: 2, outputs: { label: ['1', '0'], probability: Float64Array.of(0.8, 0.3) } };
 */
export interface Predictions {
  readonly rows: number;
  readonly outputs: Readonly<Record<string, Float64Array | readonly string[]>>;
}

/**
 * Standard outputs from class scores. `scores` is either one value per row (binary: the
 * probability of `classes[1]`; regression: the value) or `rows × classes` probabilities,
 * row-major.
 *
 * @example classifierOutputs('binary-classification', ['0', '1'], Float64Array.of(0.8, 0.3)) // label ['1','0'], probability [0.8, 0.3]
 */
export function taskOutputs(
  task: Exclude<Task, 'other'>,
  classes: readonly string[],
  scores: Float64Array,
  rows: number,
): Predictions {
  if (task === 'regression') {
    if (scores.length !== rows) throw shape(scores.length, rows, 1);
    return { rows, outputs: { value: scores } };
  }
  const k = classes.length;
  if (task === 'binary-classification') {
    let positive: Float64Array;
    if (scores.length === rows) positive = scores;
    else if (scores.length === rows * 2) {
      positive = new Float64Array(rows);
      for (let i = 0; i < rows; i++) positive[i] = scores[2 * i + 1]!;
    } else throw shape(scores.length, rows, 2);
    const label = new Array<string>(rows);
    const [no, yes] = [classes[0]!, classes[1]!];
    for (let i = 0; i < rows; i++) label[i] = positive[i]! >= 0.5 ? yes : no;
    return { rows, outputs: { label, probability: positive } };
  }
  if (scores.length !== rows * k) throw shape(scores.length, rows, k);
  const outputs: Record<string, Float64Array | string[]> = {};
  const label = new Array<string>(rows);
  const perClass = classes.map(() => new Float64Array(rows));
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 0; j < k; j++) {
      const p = scores[i * k + j]!;
      perClass[j]![i] = p;
      if (p > scores[i * k + best]!) best = j;
    }
    label[i] = classes[best]!;
  }
  outputs['label'] = label;
  classes.forEach((c, j) => (outputs[`probability_${c}`] = perClass[j]!));
  return { rows, outputs };
}

function shape(got: number, rows: number, k: number): TrestleError {
  return new TrestleError('INTERNAL', `the model gave ${got} scores for ${rows} rows; expected ${rows} or ${rows * k}`);
}
