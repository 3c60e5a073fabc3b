/**
 * The signature of a model: its named, typed input columns and outputs (MLflow's column
 * specs, so an `MLmodel` signature maps one to one), and the validation of what callers
 * send against it. Every error names the column, and the row when one row is at fault.
 */
import { TrestleError } from '@trestle/core';
import { COLUMN_TYPES, type Column, type ColumnType, type StringColumn } from '@trestle/tables';

/**
 * One input or output column.
 *
 * @example const distance: ColumnSpec = { name: 'distance', type: 'double' };
 */
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** The column may be left out entirely (its values are then missing). Default false. */
  readonly optional?: boolean;
}

/**
 * @example
 * const signature: Signature = {
 *   inputs: [{ name: 'distance', type: 'double' }, { name: 'origin', type: 'string' }],
 *   outputs: [{ name: 'label', type: 'string' }, { name: 'probability', type: 'double' }],
 * };
 */
export interface Signature {
  readonly inputs: readonly ColumnSpec[];
  readonly outputs: readonly ColumnSpec[];
}

/**
 * What `predict` takes per column: a tables column, numbers (NaN or null for missing),
 * strings (null for missing), booleans, or dictionary codes.
 */
export type InputColumn =
  | Column
  | Float64Array
  | Float32Array
  | Int32Array
  | Uint8Array
  | { readonly codes: Int32Array; readonly dictionary: readonly string[] }
  | readonly unknown[];

/** Validated input: every signature input present, numbers as Float64Array, strings as codes. */
export interface ModelInput {
  readonly rows: number;
  readonly columns: Readonly<Record<string, Column>>;
}

const NUMERIC = new Set<ColumnType>(['boolean', 'integer', 'long', 'float', 'double', 'datetime']);

/** Checks a signature read from JSON (names unique and non-empty, known types). */
export function checkSignature(signature: Signature, what = 'signature'): Signature {
  for (const part of ['inputs', 'outputs'] as const) {
    const seen = new Set<string>();
    for (const spec of signature[part]) {
      if (typeof spec.name !== 'string' || spec.name === '')
        throw new TrestleError('INVALID_ARGUMENT', `${what}: an ${part.slice(0, -1)} has no name`);
      if (seen.has(spec.name))
        throw new TrestleError('INVALID_ARGUMENT', `${what}: ${part.slice(0, -1)} '${spec.name}' appears twice`);
      seen.add(spec.name);
      if (!COLUMN_TYPES.includes(spec.type)) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `${what}: ${part.slice(0, -1)} '${spec.name}' has type ${JSON.stringify(spec.type)}; use one of ${COLUMN_TYPES.join(', ')}`,
        );
      }
    }
  }
  if (signature.inputs.length === 0) throw new TrestleError('INVALID_ARGUMENT', `${what} has no inputs`);
  return signature;
}

/**
 * A signature given by hand: `name:type,…` (inputs only), or JSON: MLflow's
 * `{"inputs": …, "outputs": …}` (each a list of `{name, type}` or that list as a JSON string,
 * as in an `MLmodel`) or just the list of inputs.
 *
 * @throws TrestleError `INVALID_ARGUMENT` saying what is wrong and how to write it.
 * @example parseSignatureText('distance:double,origin:string') // inputs distance (double), origin (string); no outputs
 */
export function parseSignatureText(text: string, what = 'signature'): Signature {
  const trimmed = text.trim();
  const how = `write it as name:type,… (types: ${COLUMN_TYPES.join(', ')}) or as MLflow's JSON`;
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (err) {
      throw new TrestleError('INVALID_ARGUMENT', `${what} is not valid JSON (${(err as Error).message}); ${how}`);
    }
    const specs = (value: unknown, part: string): ColumnSpec[] => {
      const list: unknown = typeof value === 'string' ? JSON.parse(value) : value;
      if (!Array.isArray(list))
        throw new TrestleError('INVALID_ARGUMENT', `${what}: its ${part} are not a list; ${how}`);
      return list.map((s: unknown, i) => {
        const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
        if (typeof o['name'] !== 'string')
          throw new TrestleError('INVALID_ARGUMENT', `${what}: ${part}[${i}] has no name; ${how}`);
        return {
          name: o['name'],
          type: o['type'] as ColumnType,
          ...(o['required'] === false || o['optional'] === true ? { optional: true } : {}),
        };
      });
    };
    const o = (Array.isArray(doc) ? { inputs: doc } : doc) as Record<string, unknown>;
    if (o['inputs'] === undefined) throw new TrestleError('INVALID_ARGUMENT', `${what} has no inputs; ${how}`);
    return checkSignature(
      { inputs: specs(o['inputs'], 'inputs'), outputs: o['outputs'] == null ? [] : specs(o['outputs'], 'outputs') },
      what,
    );
  }
  const inputs = trimmed.split(',').map((part): ColumnSpec => {
    const at = part.lastIndexOf(':');
    if (at <= 0) throw new TrestleError('INVALID_ARGUMENT', `${what}: '${part.trim()}' is not name:type; ${how}`);
    return { name: part.slice(0, at).trim(), type: part.slice(at + 1).trim() as ColumnType };
  });
  return checkSignature({ inputs, outputs: [] }, what);
}

/** `name (type)` list of the inputs, for messages. */
export function describeInputs(signature: Signature): string {
  return signature.inputs.map((s) => `${s.name} (${s.type}${s.optional === true ? ', optional' : ''})`).join(', ');
}

function fail(message: string, details: Record<string, unknown>): never {
  throw new TrestleError('INVALID_ARGUMENT', message, details);
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

/** A number for a numeric spec, NaN for missing; `where` names the cell. */
function numberOf(spec: ColumnSpec, v: unknown, where: () => string, details: () => Record<string, unknown>): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'number') {
    if ((spec.type === 'long' || spec.type === 'integer') && Number.isFinite(v) && !Number.isInteger(v)) {
      fail(`${where()}: expected an integer (${spec.type}), got ${v}`, details());
    }
    if (spec.type === 'boolean' && !Number.isNaN(v) && v !== 0 && v !== 1) {
      fail(`${where()}: expected a boolean (true, false, 0 or 1), got ${v}`, details());
    }
    return v;
  }
  if (typeof v === 'boolean' && spec.type === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && spec.type === 'datetime') {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return t;
    fail(`${where()}: expected a date or time (ISO 8601), got ${show(v)}`, details());
  }
  return fail(`${where()}: expected a number (${spec.type}), got ${show(v)}`, details());
}

function stringOf(
  spec: ColumnSpec,
  v: unknown,
  where: () => string,
  details: () => Record<string, unknown>,
): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  return fail(`${where()}: expected a string, got ${show(v)}`, details());
}

function missingColumn(signature: Signature, spec: ColumnSpec, got: readonly string[]): never {
  return fail(
    `the input has no column '${spec.name}' (${spec.type}); the model needs: ${describeInputs(signature)}${got.length > 0 ? `; got: ${got.join(', ')}` : ''}`,
    { column: spec.name },
  );
}

function missingValues(spec: ColumnSpec, rows: number): Column {
  return spec.type === 'string'
    ? { type: 'string', codes: new Int32Array(rows).fill(-1), dictionary: [] }
    : { type: spec.type, values: new Float64Array(rows).fill(NaN) };
}

function isCodes(c: InputColumn): c is { codes: Int32Array; dictionary: readonly string[] } {
  return !ArrayBuffer.isView(c) && !Array.isArray(c) && typeof c === 'object' && 'codes' in c;
}

/** A numeric tables column (arrays have a `values` method too, hence the checks). */
function isNumericColumn(c: InputColumn): c is Extract<Column, { values: Float64Array }> {
  return !ArrayBuffer.isView(c) && !Array.isArray(c) && typeof c === 'object' && 'values' in c && 'type' in c;
}

function columnRows(c: InputColumn): number {
  if (isCodes(c)) return c.codes.length;
  if (isNumericColumn(c)) return c.values.length;
  return (c as ArrayLike<unknown>).length;
}

/**
 * Checks columns against the signature's inputs and converts them to the model's form.
 * Columns the signature does not name are ignored; an absent optional column is all missing.
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming the column (and row) at fault: an absent
 *   required column, columns of unequal length, a value of the wrong type.
 * @example
 * const input = validateColumns(signature, { distance: [1200, 300], origin: ['SFO', 'LAX'] });
 */
export function validateColumns(signature: Signature, columns: Readonly<Record<string, InputColumn>>): ModelInput {
  const names = Object.keys(columns);
  let rows: number | undefined;
  let first = '';
  for (const spec of signature.inputs) {
    const c = columns[spec.name];
    if (c === undefined) continue;
    const n = columnRows(c);
    if (rows === undefined) {
      rows = n;
      first = spec.name;
    } else if (n !== rows) {
      fail(
        `input column '${spec.name}' has ${n} values but '${first}' has ${rows}; give every column one value per row`,
        {
          column: spec.name,
        },
      );
    }
  }
  const n = rows ?? 0;
  const out: Record<string, Column> = {};
  for (const spec of signature.inputs) {
    const c = columns[spec.name];
    if (c === undefined) {
      if (spec.optional === true) {
        out[spec.name] = missingValues(spec, n);
        continue;
      }
      missingColumn(signature, spec, names);
    }
    out[spec.name] = convertColumn(spec, c);
  }
  return { rows: n, columns: out };
}

function convertColumn(spec: ColumnSpec, c: InputColumn): Column {
  const where = (row: number) => () => `input column '${spec.name}' row ${row}`;
  const details = (row: number) => () => ({ column: spec.name, row });
  if (spec.type === 'string') {
    if (isCodes(c)) return { type: 'string', codes: c.codes, dictionary: c.dictionary };
    if (ArrayBuffer.isView(c) || isNumericColumn(c)) {
      fail(`input column '${spec.name}' holds numbers but the model expects strings`, { column: spec.name });
    }
    const values = c as readonly unknown[];
    const index = new Map<string, number>();
    const dictionary: string[] = [];
    const codes = new Int32Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const s = stringOf(spec, values[i], where(i), details(i));
      if (s === null) {
        codes[i] = -1;
        continue;
      }
      let code = index.get(s);
      if (code === undefined) {
        code = dictionary.length;
        dictionary.push(s);
        index.set(s, code);
      }
      codes[i] = code;
    }
    return { type: 'string', codes, dictionary } satisfies StringColumn;
  }
  if (isCodes(c)) {
    fail(`input column '${spec.name}' holds strings but the model expects numbers (${spec.type})`, {
      column: spec.name,
    });
  }
  if (isNumericColumn(c)) return checkNumbers(spec, c.values);
  if (c instanceof Float64Array) return checkNumbers(spec, c);
  if (ArrayBuffer.isView(c)) return checkNumbers(spec, Float64Array.from(c as ArrayLike<number>));
  const values = c as readonly unknown[];
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = numberOf(spec, values[i], where(i), details(i));
  return { type: spec.type, values: out };
}

function checkNumbers(spec: ColumnSpec, values: Float64Array): Column {
  if (spec.type === 'long' || spec.type === 'integer') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (Number.isFinite(v) && !Number.isInteger(v)) {
        fail(`input column '${spec.name}' row ${i}: expected an integer (${spec.type}), got ${v}`, {
          column: spec.name,
          row: i,
        });
      }
    }
  }
  return { type: spec.type as Exclude<ColumnType, 'string'>, values };
}

/**
 * Checks rows (objects keyed by column name, as JSON requests carry them) against the
 * signature's inputs and converts them to columns.
 *
 * @throws TrestleError `INVALID_ARGUMENT` naming row and column: a row that is not an object,
 *   a required column absent from a row, a value of the wrong type.
 * @example
 * const input = validateRows(signature, [{ distance: 1200, origin: 'SFO' }]);
 */
export function validateRows(signature: Signature, rows: readonly unknown[]): ModelInput {
  if (!Array.isArray(rows)) fail('rows must be an array of objects, one per row', {});
  const n = rows.length;
  const out: Record<string, Column> = {};
  for (let i = 0; i < n; i++) {
    const r = rows[i] as unknown;
    if (typeof r !== 'object' || r === null || Array.isArray(r)) {
      fail(`row ${i} is ${show(r)}; each row must be an object of column values (${describeInputs(signature)})`, {
        row: i,
      });
    }
  }
  for (const spec of signature.inputs) {
    const where = (row: number) => () => `row ${row}, column '${spec.name}'`;
    const details = (row: number) => () => ({ column: spec.name, row });
    if (spec.type === 'string') {
      const index = new Map<string, number>();
      const dictionary: string[] = [];
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const row = rows[i] as Record<string, unknown>;
        if (!(spec.name in row) && spec.optional !== true) missingInRow(signature, spec, i, row);
        const s = stringOf(spec, row[spec.name], where(i), details(i));
        if (s === null) {
          codes[i] = -1;
          continue;
        }
        let code = index.get(s);
        if (code === undefined) {
          code = dictionary.length;
          dictionary.push(s);
          index.set(s, code);
        }
        codes[i] = code;
      }
      out[spec.name] = { type: 'string', codes, dictionary };
    } else {
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const row = rows[i] as Record<string, unknown>;
        if (!(spec.name in row) && spec.optional !== true) missingInRow(signature, spec, i, row);
        values[i] = numberOf(spec, row[spec.name], where(i), details(i));
      }
      out[spec.name] = { type: spec.type, values };
    }
  }
  return { rows: n, columns: out };
}

function missingInRow(signature: Signature, spec: ColumnSpec, row: number, value: Record<string, unknown>): never {
  return fail(
    `row ${row} has no '${spec.name}' (${spec.type}); the model needs: ${describeInputs(signature)}; the row has: ${Object.keys(value).join(', ') || 'nothing'}`,
    { column: spec.name, row },
  );
}

/** Whether a type is stored as numbers. */
export function isNumericType(type: ColumnType): boolean {
  return NUMERIC.has(type);
}
