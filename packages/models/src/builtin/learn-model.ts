/**
 * The builtin flavor for the models of `@trestle/learn` (gradient-boosted trees, logistic
 * and linear regression): `model.json` is the model's own `toJSON()`, read back with
 * `modelFromJSON`, and validated input columns are handed to its `predict` by name.
 */
import { TrestleError } from '@trestle/core';
import { modelFromJSON, type Column as LearnColumn, type ColumnBatch, type TrainedModel } from '@trestle/learn';
import type { Column } from '@trestle/tables';
import type { ModelInput } from '../signature.js';
import type { BuiltinModel } from './builtin-model.js';

/**
 * A categorical learn column from a table column: strings by their dictionary, numbers
 * used as categories (an hour) by their text, as they were keyed at training.
 */
export function categoricalColumn(name: string, column: Column): LearnColumn {
  if (column.type === 'string')
    return { name, type: 'categorical', codes: column.codes, categories: column.dictionary };
  const index = new Map<number, number>();
  const categories: string[] = [];
  const codes = new Int32Array(column.values.length);
  for (let i = 0; i < codes.length; i++) {
    const v = column.values[i]!;
    if (Number.isNaN(v)) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = categories.length;
      categories.push(String(v));
      index.set(v, code);
    }
    codes[i] = code;
  }
  return { name, type: 'categorical', codes, categories };
}

/**
 * The learn batch of a table's columns: `categorical` names the numeric columns to pass
 * as categories; every string column is categorical.
 */
export function learnBatch(
  columns: Readonly<Record<string, Column>>,
  rows: number,
  categorical: ReadonlySet<string>,
): ColumnBatch {
  return {
    rows,
    columns: Object.entries(columns).map(([name, c]): LearnColumn =>
      c.type === 'string' || categorical.has(name)
        ? categoricalColumn(name, c)
        : { name, type: 'numeric', values: c.values },
    ),
  };
}

/** Wraps a learn model as a builtin model: input columns are converted to what its features need. */
export function fromLearnModel(model: TrainedModel): BuiltinModel {
  const categorical = new Set(model.features.filter((f) => f.type === 'categorical').map((f) => f.name));
  return {
    scores(input: ModelInput): Float64Array {
      const columns: Record<string, Column> = {};
      for (const f of model.features) {
        const c = input.columns[f.name];
        if (c === undefined)
          throw new TrestleError('INVALID_ARGUMENT', `the input has no column '${f.name}'`, { column: f.name });
        if (f.type === 'numeric' && c.type === 'string') {
          throw new TrestleError('INVALID_ARGUMENT', `column '${f.name}' holds strings but the model needs numbers`, {
            column: f.name,
          });
        }
        columns[f.name] = c;
      }
      return model.predict(learnBatch(columns, input.rows, categorical));
    },
  };
}

/** Reads a learn model's JSON (`trestle.gbdt`, `trestle.linear`, …) as a builtin model. */
export function readLearnModel(json: unknown): BuiltinModel {
  return fromLearnModel(modelFromJSON(json));
}
