/**
 * Turns decoded request bodies (records, columns, split tables, matrices) into typed input
 * columns, checking every value against the model's signature in the same pass.
 *
 * Every refusal is a `TrestleError('INVALID_ARGUMENT')` whose message names the column and
 * the row (0-based) and whose `details` carry `{ column, row }`, so a client sees exactly
 * which cell to fix; nothing a client sends can turn into a 500.
 */
import { TrestleError } from '@trestle/core';
import type { Batch, InputColumn, Signature } from './predictor.js';

/** How a signature type is checked: MLflow's column types and common aliases. */
export type ValueKind = 'number' | 'integer' | 'boolean' | 'string';

const KINDS: Readonly<Record<string, ValueKind>> = {
  double: 'number',
  float: 'number',
  float32: 'number',
  float64: 'number',
  number: 'number',
  numeric: 'number',
  long: 'integer',
  integer: 'integer',
  int: 'integer',
  int32: 'integer',
  int64: 'integer',
  boolean: 'boolean',
  bool: 'boolean',
  string: 'string',
  str: 'string',
  category: 'string',
  categorical: 'string',
  // Epoch milliseconds, as @trestle/tables stores dates.
  datetime: 'number',
};

/** The check applied to a signature type; unknown types are refused when the model loads. */
export function valueKind(type: string): ValueKind {
  const kind = KINDS[type.toLowerCase()];
  if (kind === undefined) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `signature type '${type}' is not supported by the server; use one of ${Object.keys(KINDS).join(', ')}`,
    );
  }
  return kind;
}

const MAX_SHOWN = 40;
function shown(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

function invalid(message: string, details: Record<string, unknown>): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', message, details);
}

/** A signature compiled for fast checking: column order, kinds and a name index. */
export class InputSchema {
  readonly names: readonly string[];
  readonly kinds: readonly ValueKind[];
  readonly types: readonly string[];
  readonly optional: readonly boolean[];
  private readonly index: ReadonlyMap<string, number>;

  constructor(readonly signature: Signature) {
    if (signature.inputs.length === 0) {
      throw new TrestleError('INVALID_ARGUMENT', 'the model signature has no inputs; it cannot be served');
    }
    this.names = signature.inputs.map((c) => c.name);
    this.types = signature.inputs.map((c) => c.type);
    this.kinds = signature.inputs.map((c) => valueKind(c.type));
    this.optional = signature.inputs.map((c) => c.optional === true);
    this.index = new Map(this.names.map((n, i) => [n, i]));
  }

  /** Position of a column in the signature, or undefined. */
  position(name: string): number | undefined {
    return this.index.get(name);
  }

  private allocate(rows: number): InputColumn[] {
    return this.kinds.map((k) => (k === 'string' ? new Array<string | null>(rows) : new Float64Array(rows)));
  }

  private batch(rows: number, cols: InputColumn[]): Batch {
    const columns: Record<string, InputColumn> = {};
    for (let c = 0; c < cols.length; c++) columns[this.names[c]!] = cols[c]!;
    return { rows, columns };
  }

  /** Stores value `v` of column `c` at row `r`, or throws naming both. */
  put(cols: InputColumn[], c: number, r: number, v: unknown): void {
    const kind = this.kinds[c]!;
    const col = cols[c]!;
    if (kind === 'string') {
      if (typeof v === 'string') (col as (string | null)[])[r] = v;
      else if (v === null || v === undefined) {
        if (!this.optional[c]) throw this.missing(c, r);
        (col as (string | null)[])[r] = null;
      } else throw this.wrongType(c, r, v);
      return;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw this.wrongType(c, r, v);
      if (kind === 'integer' && !Number.isInteger(v)) throw this.wrongType(c, r, v);
      if (kind === 'boolean' && v !== 0 && v !== 1) throw this.wrongType(c, r, v);
      (col as Float64Array)[r] = v;
    } else if (typeof v === 'boolean' && kind === 'boolean') {
      (col as Float64Array)[r] = v ? 1 : 0;
    } else if (v === null || v === undefined) {
      if (!this.optional[c]) throw this.missing(c, r);
      (col as Float64Array)[r] = NaN;
    } else throw this.wrongType(c, r, v);
  }

  /** Stores a text cell (CSV): parsed by the column's kind; empty text is a missing value. */
  putText(cols: InputColumn[], c: number, r: number, text: string): void {
    if (text === '') return this.put(cols, c, r, null);
    const kind = this.kinds[c]!;
    if (kind === 'string') return this.put(cols, c, r, text);
    if (kind === 'boolean' && (text === 'true' || text === 'false')) return this.put(cols, c, r, text === 'true');
    const v = Number(text);
    if (Number.isNaN(v) || text.trim() === '') throw this.wrongType(c, r, text);
    return this.put(cols, c, r, v);
  }

  missing(c: number, r: number): TrestleError {
    const name = this.names[c]!;
    return invalid(
      `column '${name}' row ${r}: a value is required (type ${this.types[c]!}); only optional columns may be null or absent`,
      { column: name, row: r },
    );
  }

  wrongType(c: number, r: number, v: unknown): TrestleError {
    const name = this.names[c]!;
    const want: Record<ValueKind, string> = {
      number: 'a finite number',
      integer: 'a whole number',
      boolean: 'true or false',
      string: 'a string',
    };
    return invalid(`column '${name}' row ${r}: expected ${want[this.kinds[c]!]} (${this.types[c]!}), got ${shown(v)}`, {
      column: name,
      row: r,
    });
  }

  unknownColumn(name: string, r?: number): TrestleError {
    return invalid(
      `unknown column '${name}'${r === undefined ? '' : ` in row ${r}`}; the model takes ${this.names.join(', ')}`,
      r === undefined ? { column: name } : { column: name, row: r },
    );
  }

  absentColumn(c: number): TrestleError {
    const name = this.names[c]!;
    return invalid(`column '${name}' is missing; the model takes ${this.names.join(', ')}`, { column: name });
  }

  /** Rows as objects (`dataframe_records`, `/predict`, `instances` of objects). */
  fromRecords(records: unknown, what = 'records'): Batch {
    if (!Array.isArray(records)) throw invalid(`${what} must be an array of objects, one per row`, {});
    const rows = records.length;
    const cols = this.allocate(rows);
    const names = this.names;
    const n = names.length;
    for (let r = 0; r < rows; r++) {
      const rec: unknown = records[r];
      if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
        throw invalid(`row ${r} must be an object of column values, got ${shown(rec)}`, { row: r });
      }
      const obj = rec as Record<string, unknown>;
      let found = 0;
      for (let c = 0; c < n; c++) {
        const v = obj[names[c]!];
        if (v !== undefined) found++;
        else if (!this.optional[c] && !(names[c]! in obj)) throw this.missingInRow(c, r);
        this.put(cols, c, r, v);
      }
      let keys = 0;
      for (const _ in obj) keys++;
      if (keys > found) {
        for (const k in obj) if (!this.index.has(k)) throw this.unknownColumn(k, r);
      }
    }
    return this.batch(rows, cols);
  }

  private missingInRow(c: number, r: number): TrestleError {
    const name = this.names[c]!;
    return invalid(`column '${name}' row ${r}: missing; every row needs ${this.names.join(', ')}`, {
      column: name,
      row: r,
    });
  }

  /** Columns as arrays by name (`inputs` of MLflow's columnar format). */
  fromColumns(obj: unknown, what = 'inputs'): Batch {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      throw invalid(`${what} must be an object of columns ({"name": [values…]})`, {});
    }
    const given = obj as Record<string, unknown>;
    for (const k of Object.keys(given)) if (!this.index.has(k)) throw this.unknownColumn(k);
    let rows = -1;
    for (let c = 0; c < this.names.length; c++) {
      const v = given[this.names[c]!];
      if (v === undefined) {
        if (!this.optional[c]) throw this.absentColumn(c);
        continue;
      }
      if (!Array.isArray(v))
        throw invalid(`column '${this.names[c]!}' must be an array of values`, { column: this.names[c]! });
      if (rows === -1) rows = v.length;
      else if (v.length !== rows) {
        throw invalid(
          `column '${this.names[c]!}' has ${v.length} values but others have ${rows}; all columns need one value per row`,
          {
            column: this.names[c]!,
          },
        );
      }
    }
    if (rows === -1) rows = 0;
    const cols = this.allocate(rows);
    for (let c = 0; c < this.names.length; c++) {
      const v = given[this.names[c]!] as unknown[] | undefined;
      for (let r = 0; r < rows; r++) this.put(cols, c, r, v === undefined ? undefined : v[r]);
    }
    return this.batch(rows, cols);
  }

  /** A table given as column names and rows of values (`dataframe_split`). */
  fromSplit(columns: unknown, data: unknown): Batch {
    if (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string')) {
      throw invalid('dataframe_split.columns must be an array of column names', {});
    }
    const positions = (columns as string[]).map((name) => {
      const p = this.index.get(name);
      if (p === undefined) throw this.unknownColumn(name);
      return p;
    });
    const seen = new Set(positions);
    if (seen.size !== positions.length) throw invalid('dataframe_split.columns names a column twice', {});
    for (let c = 0; c < this.names.length; c++) if (!seen.has(c) && !this.optional[c]) throw this.absentColumn(c);
    return this.fromMatrix(data, positions, 'dataframe_split.data');
  }

  /**
   * Rows as arrays of values in the order of `positions` (default: the signature's order):
   * `instances` / `inputs` as lists of lists, `dataframe_split.data`.
   */
  fromMatrix(data: unknown, positions?: readonly number[], what = 'rows'): Batch {
    if (!Array.isArray(data)) throw invalid(`${what} must be an array of rows`, {});
    const order = positions ?? this.names.map((_, i) => i);
    const rows = data.length;
    const cols = this.allocate(rows);
    const present = new Set(order);
    for (let r = 0; r < rows; r++) {
      const row: unknown = data[r];
      if (!Array.isArray(row)) throw invalid(`${what} row ${r} must be an array of ${order.length} values`, { row: r });
      if (row.length !== order.length) {
        throw invalid(
          `${what} row ${r} has ${row.length} values; expected ${order.length} (${order.map((p) => this.names[p]!).join(', ')})`,
          { row: r },
        );
      }
      for (let j = 0; j < order.length; j++) this.put(cols, order[j]!, r, row[j]);
      for (let c = 0; c < this.names.length; c++) if (!present.has(c)) this.put(cols, c, r, null);
    }
    return this.batch(rows, cols);
  }
}
