/**
 * The in-memory shape of a table: one typed array per column, never one object per row.
 *
 * - numbers (every numeric type, booleans as 0/1, datetimes as epoch milliseconds) are a
 *   `Float64Array` with NaN for missing;
 * - strings are dictionary codes (`Int32Array`, -1 for missing) into a `dictionary`, which
 *   is also the shape `@trestle/monitoring` and the trainers of `@trestle/learn` read.
 */
import { TrestleError } from '@trestle/core';

/** Column types, named as MLflow's column specs name them. */
export type ColumnType = 'boolean' | 'integer' | 'long' | 'float' | 'double' | 'datetime' | 'string';

/** The numeric column types (stored as Float64Array). */
export type NumericType = Exclude<ColumnType, 'string'>;

export const COLUMN_TYPES: readonly ColumnType[] = [
  'boolean',
  'integer',
  'long',
  'float',
  'double',
  'datetime',
  'string',
];

/**
 * A numeric column.
 *
 * @example const distance: NumericColumn = { type: 'double', values: Float64Array.of(1, NaN, 3) };
 */
export interface NumericColumn {
  readonly type: NumericType;
  readonly values: Float64Array;
}

/**
 * A string column as dictionary codes.
 *
 * @example const origin: StringColumn = { type: 'string', codes: Int32Array.of(0, 1, -1, 0), dictionary: ['SFO', 'LAX'] };
 */
export interface StringColumn {
  readonly type: 'string';
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
}

export type Column = NumericColumn | StringColumn;

/**
 * Columns of equal length, in file order.
 *
 * @example
 * const t: Table = { rows: 2, columns: { a: { type: 'double', values: Float64Array.of(1, 2) } } };
 */
export interface Table {
  readonly rows: number;
  /** Column order is the insertion order of this record (the file's order). */
  readonly columns: Readonly<Record<string, Column>>;
}

/** Whether the column holds strings. */
export function isStringColumn(column: Column): column is StringColumn {
  return column.type === 'string';
}

/** Rows of a column. */
export function columnLength(column: Column): number {
  return column.type === 'string' ? column.codes.length : column.values.length;
}

/** The value of one cell: a number (NaN missing) or a string (null missing). */
export function cellValue(column: Column, row: number): number | string | null {
  if (column.type === 'string') {
    const code = column.codes[row]!;
    return code < 0 ? null : (column.dictionary[code] ?? null);
  }
  return column.values[row]!;
}

/**
 * Dictionary-encodes strings (null/undefined → -1).
 *
 * @example stringColumn(['a', null, 'a']) // { type: 'string', codes: [0, -1, 0], dictionary: ['a'] }
 */
export function stringColumn(values: readonly (string | null | undefined)[]): StringColumn {
  const index = new Map<string, number>();
  const dictionary: string[] = [];
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      codes[i] = -1;
      continue;
    }
    let code = index.get(v);
    if (code === undefined) {
      code = dictionary.length;
      dictionary.push(v);
      index.set(v, code);
    }
    codes[i] = code;
  }
  return { type: 'string', codes, dictionary };
}

/** The rows `[start, end)` of a table (views, no copy). */
export function sliceTable(table: Table, start: number, end: number): Table {
  const columns: Record<string, Column> = {};
  for (const [name, c] of Object.entries(table.columns)) {
    columns[name] =
      c.type === 'string'
        ? { type: 'string', codes: c.codes.subarray(start, end), dictionary: c.dictionary }
        : { type: c.type, values: c.values.subarray(start, end) };
  }
  return { rows: Math.max(0, Math.min(end, table.rows) - start), columns };
}

/** The rows at `indices`, in that order (copies). */
export function takeRows(table: Table, indices: Int32Array | Uint32Array): Table {
  const columns: Record<string, Column> = {};
  for (const [name, c] of Object.entries(table.columns)) {
    if (c.type === 'string') {
      const codes = new Int32Array(indices.length);
      for (let i = 0; i < indices.length; i++) codes[i] = c.codes[indices[i]!]!;
      columns[name] = { type: 'string', codes, dictionary: c.dictionary };
    } else {
      const values = new Float64Array(indices.length);
      for (let i = 0; i < indices.length; i++) values[i] = c.values[indices[i]!]!;
      columns[name] = { type: c.type, values };
    }
  }
  return { rows: indices.length, columns };
}

/**
 * Concatenates tables with the same column names and kinds (string dictionaries are merged).
 *
 * @throws TrestleError `INVALID_ARGUMENT` when the tables' columns differ.
 */
export function concatTables(tables: readonly Table[]): Table {
  const first = tables[0];
  if (first === undefined) return { rows: 0, columns: {} };
  const rows = tables.reduce((s, t) => s + t.rows, 0);
  const columns: Record<string, Column> = {};
  for (const [name, c0] of Object.entries(first.columns)) {
    const parts = tables.map((t) => {
      const c = t.columns[name];
      if (c === undefined || (c.type === 'string') !== (c0.type === 'string')) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `cannot concatenate tables: column '${name}' differs between chunks`,
        );
      }
      return c;
    });
    if (c0.type === 'string') {
      const index = new Map<string, number>();
      const dictionary: string[] = [];
      const codes = new Int32Array(rows);
      let at = 0;
      for (const part of parts as StringColumn[]) {
        const remap = Int32Array.from(part.dictionary, (v) => {
          let code = index.get(v);
          if (code === undefined) {
            code = dictionary.length;
            dictionary.push(v);
            index.set(v, code);
          }
          return code;
        });
        for (let i = 0; i < part.codes.length; i++) {
          const code = part.codes[i]!;
          codes[at++] = code < 0 ? -1 : remap[code]!;
        }
      }
      columns[name] = { type: 'string', codes, dictionary };
    } else {
      const values = new Float64Array(rows);
      let at = 0;
      for (const part of parts as NumericColumn[]) {
        values.set(part.values, at);
        at += part.values.length;
      }
      columns[name] = { type: c0.type, values };
    }
  }
  return { rows, columns };
}
