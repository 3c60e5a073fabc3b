/**
 * `@trestle/tables`: CSV and Parquet files read by column into typed arrays (whole or in
 * chunks), and CSV written chunk by chunk.
 *
 * @example
 * import { readTable, readTableChunks, CsvWriter } from '@trestle/tables';
 * const train = await readTable('train.parquet');
 * for await (const chunk of readTableChunks('big.csv', { chunkRows: 50_000 })) { … }
 */
export * from './column.js';
export { inferType, isMissing } from './convert.js';
export { CsvTokenizer, type CsvRecord } from './csv-tokenizer.js';
export { readCsv, readCsvChunks } from './csv-read.js';
export { readParquet, readParquetChunks, readParquetColumns, type ParquetColumnInfo } from './parquet-read.js';
export { readTable, readTableChunks, readTableSchema, tableFormat, type TableFormat } from './read-table.js';
export type { ReadChunksOptions, TableChunk } from './read-options.js';
export { CsvWriter, type WritableColumn } from './csv-write.js';
export { fileDigest } from './digest.js';
