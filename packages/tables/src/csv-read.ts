import { createReadStream } from 'node:fs';
import { TrestleError } from '@trestle/core';
import type { Column, ColumnType, Table } from './column.js';
import { convertCells, inferType } from './convert.js';
import { CsvTokenizer, type CsvRecord } from './csv-tokenizer.js';
import { fileError } from './file-error.js';
import type { ReadChunksOptions, TableChunk } from './read-options.js';

/**
 * Reads a CSV file in chunks of `chunkRows` rows. Column types come from `options.schema`,
 * else are inferred from the first chunk (later chunks must fit them). Each chunk is typed
 * columns: the text of one chunk at a time is held, never the whole file.
 */
export async function* readCsvChunks(path: string, options: ReadChunksOptions = {}): AsyncGenerator<TableChunk> {
  const chunkRows = options.chunkRows ?? 65_536;
  const tokenizer = new CsvTokenizer(options.delimiter ?? (path.endsWith('.tsv') ? '\t' : ','), path);
  let header: string[] | undefined;
  let selected: { name: string; index: number }[] = [];
  let types: Record<string, ColumnType> | undefined;
  let inferredFrom = 0;
  let pending: CsvRecord[] = [];
  let offset = 0;

  const makeChunk = (records: CsvRecord[]): TableChunk => {
    const lines = Int32Array.from(records, (r) => r.line);
    const columns: Record<string, Column> = {};
    const width = header!.length;
    for (const r of records) {
      if (r.fields.length !== width) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `${path} line ${r.line} has ${r.fields.length} field${r.fields.length === 1 ? '' : 's'} but the header has ${width}; every row needs one value per column (quote values that contain '${options.delimiter ?? ','}')`,
          { line: r.line, fields: r.fields.length, expected: width },
        );
      }
    }
    const cellsOf = (index: number): string[] => records.map((r) => r.fields[index]!);
    if (types === undefined) {
      types = {};
      for (const { name, index } of selected) types[name] = options.schema?.[name] ?? inferType(cellsOf(index));
      inferredFrom = records.length;
    }
    const hint = `its type was inferred from the first ${inferredFrom.toLocaleString('en-US')} rows`;
    for (const { name, index } of selected) {
      columns[name] = convertCells(name, types[name]!, cellsOf(index), {
        source: path,
        lines,
        ...(options.schema?.[name] === undefined ? { hint } : {}),
      });
    }
    const chunk: TableChunk = { rows: records.length, columns, offset, lines };
    offset += records.length;
    return chunk;
  };

  const takeHeader = (): void => {
    const first = pending.shift();
    if (first === undefined) return;
    header = first.fields.map((f) => f.trim());
    const seen = new Set<string>();
    for (const name of header) {
      if (name === '') throw new TrestleError('INVALID_ARGUMENT', `${path} line 1: a column has no name`);
      if (seen.has(name)) throw new TrestleError('INVALID_ARGUMENT', `${path} line 1: column '${name}' appears twice`);
      seen.add(name);
    }
    selected = selectColumns(path, header, options.columns);
    if (options.schema !== undefined) {
      for (const name of Object.keys(options.schema)) {
        if (!seen.has(name)) throw missingColumn(path, name, header);
      }
    }
  };

  let stream;
  try {
    stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
    for await (const text of stream as AsyncIterable<string>) {
      tokenizer.push(text, pending);
      if (header === undefined) takeHeader();
      while (header !== undefined && pending.length >= chunkRows) {
        const records = pending.slice(0, chunkRows);
        pending = pending.slice(chunkRows);
        yield makeChunk(records);
      }
    }
  } catch (err) {
    throw fileError(err, path);
  } finally {
    stream?.destroy();
  }
  tokenizer.end(pending);
  if (header === undefined) takeHeader();
  if (header === undefined)
    throw new TrestleError('INVALID_ARGUMENT', `${path} is empty: a CSV file needs a header line`);
  while (pending.length > 0) {
    const records = pending.slice(0, chunkRows);
    pending = pending.slice(chunkRows);
    yield makeChunk(records);
  }
  if (offset === 0) yield makeChunk([]);
}

/**
 * Reads a whole CSV file: all the text is tokenized first so that types are inferred from
 * every row, then each column is parsed once.
 */
export async function readCsv(path: string, options: ReadChunksOptions = {}): Promise<Table> {
  const tokenizer = new CsvTokenizer(options.delimiter ?? (path.endsWith('.tsv') ? '\t' : ','), path);
  const records: CsvRecord[] = [];
  try {
    for await (const text of createReadStream(path, {
      encoding: 'utf8',
      highWaterMark: 1 << 20,
    }) as AsyncIterable<string>)
      tokenizer.push(text, records);
  } catch (err) {
    throw fileError(err, path);
  }
  tokenizer.end(records);
  // With every row in hand, types are inferred from all of them.
  return tableOfRecords(path, records, options);
}

function tableOfRecords(path: string, records: CsvRecord[], options: ReadChunksOptions): Table {
  const first = records.shift();
  if (first === undefined)
    throw new TrestleError('INVALID_ARGUMENT', `${path} is empty: a CSV file needs a header line`);
  const header = first.fields.map((f) => f.trim());
  const seen = new Set<string>();
  for (const name of header) {
    if (name === '') throw new TrestleError('INVALID_ARGUMENT', `${path} line 1: a column has no name`);
    if (seen.has(name)) throw new TrestleError('INVALID_ARGUMENT', `${path} line 1: column '${name}' appears twice`);
    seen.add(name);
  }
  const selected = selectColumns(path, header, options.columns);
  const width = header.length;
  for (const r of records) {
    if (r.fields.length !== width) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `${path} line ${r.line} has ${r.fields.length} field${r.fields.length === 1 ? '' : 's'} but the header has ${width}; every row needs one value per column (quote values that contain '${options.delimiter ?? ','}')`,
        { line: r.line, fields: r.fields.length, expected: width },
      );
    }
  }
  const lines = Int32Array.from(records, (r) => r.line);
  const columns: Record<string, Column> = {};
  for (const { name, index } of selected) {
    const cells = records.map((r) => r.fields[index]!);
    const type = options.schema?.[name] ?? inferType(cells);
    columns[name] = convertCells(name, type, cells, { source: path, lines });
  }
  return { rows: records.length, columns };
}

function selectColumns(
  path: string,
  header: string[],
  wanted: readonly string[] | undefined,
): { name: string; index: number }[] {
  if (wanted === undefined) return header.map((name, index) => ({ name, index }));
  return wanted.map((name) => {
    const index = header.indexOf(name);
    if (index < 0) throw missingColumn(path, name, header);
    return { name, index };
  });
}

function missingColumn(path: string, name: string, header: readonly string[]): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', `${path} has no column '${name}' (its columns: ${header.join(', ')})`, {
    column: name,
  });
}
