/**
 * Text cells to typed columns: type inference and parsing with errors that name the cell.
 */
import { TrestleError } from '@trestle/core';
import type { Column, ColumnType } from './column.js';

/** Cells that mean "missing" in every column type (as pandas reads them). */
const MISSING = new Set(['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None']);

export function isMissing(cell: string): boolean {
  return MISSING.has(cell) || MISSING.has(cell.trim());
}

const TRUE = new Set(['true', 'True', 'TRUE']);
const FALSE = new Set(['false', 'False', 'FALSE']);

function parseNumber(cell: string): number {
  const t = cell.trim();
  // Number('') is 0 and Number('0x1f') is 31: accept decimal notation only.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) {
    if (t === 'Infinity' || t === '+Infinity' || t === 'inf') return Infinity;
    if (t === '-Infinity' || t === '-inf') return -Infinity;
    return NaN;
  }
  return Number(t);
}

/**
 * The narrowest type that every non-missing cell fits: boolean, long, double, else string.
 * A column with no values at all is `double` (all missing).
 *
 * @example inferType(['1', '2', '']) // 'long'
 */
export function inferType(cells: readonly string[]): ColumnType {
  let bool = true;
  let long = true;
  let number = true;
  let any = false;
  for (const cell of cells) {
    if (isMissing(cell)) continue;
    any = true;
    if (bool && !TRUE.has(cell) && !FALSE.has(cell)) bool = false;
    if (number) {
      const v = parseNumber(cell);
      if (Number.isNaN(v)) {
        number = false;
        long = false;
      } else if (long && !Number.isSafeInteger(v)) long = false;
    }
    if (!bool && !number) return 'string';
  }
  if (!any) return 'double';
  if (bool) return 'boolean';
  if (long) return 'long';
  return number ? 'double' : 'string';
}

/** Where a cell came from, for error messages. */
export interface CellOrigin {
  /** e.g. the file path. */
  readonly source: string;
  /** Line of each cell (1-based), by index. */
  readonly lines: ArrayLike<number>;
  /** Extra advice appended to a parse error. */
  readonly hint?: string;
}

/**
 * Parses text cells into a column of `type`.
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming source, line, column and value when a cell
 *   does not fit the type.
 */
export function convertCells(name: string, type: ColumnType, cells: readonly string[], origin: CellOrigin): Column {
  const n = cells.length;
  if (type === 'string') {
    const index = new Map<string, number>();
    const dictionary: string[] = [];
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const cell = cells[i]!;
      if (isMissing(cell)) {
        codes[i] = -1;
        continue;
      }
      let code = index.get(cell);
      if (code === undefined) {
        code = dictionary.length;
        dictionary.push(cell);
        index.set(cell, code);
      }
      codes[i] = code;
    }
    return { type, codes, dictionary };
  }
  const values = new Float64Array(n);
  const fail = (i: number, why: string): never => {
    const line = origin.lines[i];
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${origin.source} line ${line}, column '${name}': ${JSON.stringify(cells[i])} ${why}${origin.hint === undefined ? '' : ` (${origin.hint})`}`,
      { column: name, line, value: cells[i] },
    );
  };
  for (let i = 0; i < n; i++) {
    const cell = cells[i]!;
    if (isMissing(cell)) {
      values[i] = NaN;
      continue;
    }
    let v: number;
    if (type === 'boolean') {
      v = TRUE.has(cell) || cell === '1' ? 1 : FALSE.has(cell) || cell === '0' ? 0 : fail(i, 'is not true or false');
    } else if (type === 'datetime') {
      v = Date.parse(cell);
      if (Number.isNaN(v)) v = fail(i, 'is not a date or time (ISO 8601)');
    } else {
      v = parseNumber(cell);
      if (Number.isNaN(v)) v = fail(i, `is not a number (the column is ${type})`);
      if ((type === 'long' || type === 'integer') && !Number.isInteger(v))
        v = fail(i, `is not an integer (the column is ${type})`);
    }
    values[i] = v;
  }
  return { type, values };
}
