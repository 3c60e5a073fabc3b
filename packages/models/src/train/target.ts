import { TrestleError } from '@trestle/core';
import type { Column, Table } from '@trestle/tables';
import type { Task } from '../manifest.js';

/** The target column read as labels (classification) or values (regression). */
export interface Target {
  readonly task: Exclude<Task, 'other'>;
  /** Class names in label order (classification), `[]` for regression. */
  readonly classes: readonly string[];
  /** Rows whose target is present (the others cannot be trained on). */
  readonly rows: Int32Array;
}

function keyOf(column: Column, i: number): string | undefined {
  if (column.type === 'string') {
    const c = column.codes[i]!;
    return c < 0 ? undefined : column.dictionary[c];
  }
  const v = column.values[i]!;
  return Number.isNaN(v) ? undefined : String(v);
}

/**
 * Reads the target column of the training table: which rows have one, the task it implies
 * and the classes. `task` forces the task (a numeric 0/1 column can be either).
 *
 * @throws TrestleError `INVALID_ARGUMENT` when the column is missing, holds no values, or
 *   holds a single value (no model can learn from a constant).
 */
export function readTarget(
  table: Table,
  name: string,
  task: Exclude<Task, 'other'> | 'classification',
  source = 'the data',
): Target {
  const column = table.columns[name];
  if (column === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${source} has no target column '${name}' (its columns: ${Object.keys(table.columns).join(', ')})`,
      { column: name },
    );
  }
  const present: number[] = [];
  const distinct = new Map<string, number>();
  for (let i = 0; i < table.rows; i++) {
    const key = keyOf(column, i);
    if (key === undefined) continue;
    present.push(i);
    if (distinct.size <= 1000) distinct.set(key, (distinct.get(key) ?? 0) + 1);
  }
  if (present.length === 0) {
    throw new TrestleError('INVALID_ARGUMENT', `target column '${name}' has no values in ${source}`, { column: name });
  }
  if (distinct.size === 1) {
    const [only] = distinct.keys();
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `target column '${name}' is constant in ${source} (every row is ${JSON.stringify(only)}); a model needs at least two different values to learn from`,
      { column: name },
    );
  }
  const rows = Int32Array.from(present);
  if (task === 'regression') {
    if (column.type === 'string') {
      throw new TrestleError('INVALID_ARGUMENT', `target column '${name}' holds strings; regression needs numbers`, {
        column: name,
      });
    }
    return { task, classes: [], rows };
  }
  if (distinct.size > 1000) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `target column '${name}' has more than 1,000 different values; is it a regression target? (use 'linear', or gbdt with --param task=regression)`,
      { column: name },
    );
  }
  const numeric = column.type !== 'string';
  const classes = [...distinct.keys()].sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
  const resolved =
    task === 'classification' ? (classes.length === 2 ? 'binary-classification' : 'multiclass-classification') : task;
  if (resolved === 'binary-classification' && classes.length !== 2) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `target column '${name}' has ${classes.length} classes (${classes.slice(0, 5).join(', ')}${classes.length > 5 ? ', …' : ''}); this trainer does binary classification only`,
      { column: name },
    );
  }
  return { task: resolved, classes, rows };
}

/**
 * Labels of `rows` as class indices (Int32), given the class names.
 * Rows whose label is not a known class get -1.
 */
export function classIndices(column: Column, rows: Int32Array, classes: readonly string[]): Int32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  const out = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = index.get(keyOf(column, rows[i]!) ?? '\u0000') ?? -1;
  return out;
}

/** Values of `rows` of a numeric column. */
export function targetValues(column: Column, rows: Int32Array): Float64Array {
  if (column.type === 'string') throw new TrestleError('INVALID_ARGUMENT', 'a regression target must be numeric');
  return Float64Array.from(rows, (r) => column.values[r]!);
}
