import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { TrestleError } from '@trestle/core';
import { cellValue, type Column } from './column.js';

/** A column to write: a table column, numbers (NaN: empty) or strings (null: empty). */
export type WritableColumn = Column | Float64Array | Float32Array | readonly (string | number | null)[];

function quote(s: string): string {
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function formatNumber(v: number): string {
  return Number.isNaN(v) ? '' : String(v);
}

function cell(column: WritableColumn, row: number): string {
  if (column instanceof Float64Array || column instanceof Float32Array) return formatNumber(column[row]!);
  if (Array.isArray(column)) {
    const v = (column as readonly (string | number | null)[])[row];
    return v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : quote(v);
  }
  const c = column as Column;
  const v = cellValue(c, row);
  if (v === null) return '';
  if (typeof v === 'number') {
    if (c.type === 'boolean' && !Number.isNaN(v)) return v === 0 ? 'false' : 'true';
    if (c.type === 'datetime' && !Number.isNaN(v)) return new Date(v).toISOString();
    return formatNumber(v);
  }
  return quote(v);
}

function length(column: WritableColumn): number {
  if (column instanceof Float64Array || column instanceof Float32Array || Array.isArray(column)) return column.length;
  const c = column as Column;
  return c.type === 'string' ? c.codes.length : c.values.length;
}

/**
 * Writes a CSV file chunk by chunk. The file appears under its name only when `close()`
 * succeeds (it is written to a temporary name beside it and renamed), so a failed run never
 * leaves a half-written file where a whole one is expected.
 *
 * @example
 * const out = await CsvWriter.open('predictions.csv', ['distance', 'probability']);
 * await out.write({ distance: chunk.columns.distance, probability: p });
 * await out.close();
 */
export class CsvWriter {
  readonly #path: string;
  readonly #temp: string;
  readonly #stream: WriteStream;
  readonly #names: readonly string[];
  #rows = 0;
  #closed = false;

  private constructor(path: string, temp: string, stream: WriteStream, names: readonly string[]) {
    this.#path = path;
    this.#temp = temp;
    this.#stream = stream;
    this.#names = names;
  }

  /** Opens `path` for writing with a header of `names`. */
  static async open(path: string, names: readonly string[]): Promise<CsvWriter> {
    const temp = `${path}.${process.pid}.${Date.now()}.tmp`;
    const stream = createWriteStream(temp, { encoding: 'utf8' });
    try {
      await once(stream, 'open');
    } catch (err) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `cannot write ${path}: ${(err as Error).message}`,
        { path },
        { cause: err },
      );
    }
    const writer = new CsvWriter(path, temp, stream, names);
    await writer.#put(`${names.map(quote).join(',')}\n`);
    return writer;
  }

  /** Rows written so far. */
  get rows(): number {
    return this.#rows;
  }

  /** Appends rows: one column per header name, all of the same length. */
  async write(columns: Readonly<Record<string, WritableColumn>>): Promise<void> {
    const cols = this.#names.map((name) => {
      const c = columns[name];
      if (c === undefined) throw new TrestleError('INVALID_ARGUMENT', `no values for CSV column '${name}'`);
      return c;
    });
    const n = cols.length === 0 ? 0 : length(cols[0]!);
    for (let j = 0; j < cols.length; j++) {
      if (length(cols[j]!) !== n)
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `CSV column '${this.#names[j]}' has ${length(cols[j]!)} values for ${n} rows`,
        );
    }
    const lines: string[] = new Array<string>(n);
    const cells: string[] = new Array<string>(cols.length);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < cols.length; j++) cells[j] = cell(cols[j]!, i);
      lines[i] = cells.join(',');
    }
    if (n > 0) await this.#put(`${lines.join('\n')}\n`);
    this.#rows += n;
  }

  /** Finishes the file and moves it into place. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.end();
    await once(this.#stream, 'close');
    await rename(this.#temp, this.#path);
  }

  /** Drops the partial file (after a failure). */
  async abort(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.end();
    await once(this.#stream, 'close').catch(() => undefined);
    await rm(this.#temp, { force: true });
  }

  async #put(text: string): Promise<void> {
    if (!this.#stream.write(text)) await once(this.#stream, 'drain');
  }
}
