import { extname } from 'node:path';
import { TrestleError } from '@trestle/core';
import type { ColumnType, Table } from './column.js';
import { readCsv, readCsvChunks } from './csv-read.js';
import { readParquet, readParquetChunks, readParquetColumns } from './parquet-read.js';
import type { ReadChunksOptions, TableChunk } from './read-options.js';

/** The formats tables reads, told by the file's extension. */
export type TableFormat = 'csv' | 'parquet';

/**
 * The format of a file from its extension: `.csv`, `.tsv`, `.txt` → csv; `.parquet`, `.pq` → parquet.
 *
 * @throws TrestleError `INVALID_ARGUMENT` for any other extension.
 */
export function tableFormat(path: string): TableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv' || ext === '.tsv' || ext === '.txt') return 'csv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  throw new TrestleError('INVALID_ARGUMENT', `cannot tell the format of ${path}: give a .csv, .tsv or .parquet file`, {
    path,
  });
}

/**
 * Reads a whole CSV or Parquet file into typed columns. CSV column types are inferred from
 * every row unless `options.schema` names them.
 *
 * @example
 * const flights = await readTable('flights.parquet', { columns: ['distance', 'origin'] });
 * flights.columns.distance; // { type: 'long', values: Float64Array [...] }
 */
export function readTable(path: string, options: ReadChunksOptions = {}): Promise<Table> {
  return tableFormat(path) === 'csv' ? readCsv(path, options) : readParquet(path, options);
}

/**
 * Reads a CSV or Parquet file in chunks of at most `options.chunkRows` rows, so that a file
 * larger than memory streams through. CSV types come from `options.schema` or the first chunk.
 *
 * @example
 * for await (const chunk of readTableChunks('big.csv', { chunkRows: 10_000 })) total += chunk.rows;
 */
export function readTableChunks(path: string, options: ReadChunksOptions = {}): AsyncGenerator<TableChunk> {
  return tableFormat(path) === 'csv' ? readCsvChunks(path, options) : readParquetChunks(path, options);
}

/**
 * Column names and types of a file, without reading it whole: the Parquet footer, or the
 * first chunk of a CSV (`chunkRows`, default 65,536 rows) for inferred types.
 *
 * @example await readTableSchema('flights.csv') // [{ name: 'distance', type: 'long' }, …]
 */
export async function readTableSchema(
  path: string,
  options: Pick<ReadChunksOptions, 'chunkRows' | 'delimiter'> = {},
): Promise<{ name: string; type: ColumnType }[]> {
  if (tableFormat(path) === 'parquet') {
    return (await readParquetColumns(path)).columns.map(({ name, type }) => ({ name, type }));
  }
  const chunks = readCsvChunks(path, options);
  try {
    const first = await chunks.next();
    if (first.done === true) return [];
    return Object.entries(first.value.columns).map(([name, c]) => ({ name, type: c.type }));
  } finally {
    await chunks.return(undefined);
  }
}
