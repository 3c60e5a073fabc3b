import type { ColumnType, Table } from './column.js';

/** Options of `readTable` and `readTableChunks`. */
export interface ReadChunksOptions {
  /** Read only these columns, in this order (an absent one is `INVALID_ARGUMENT`). */
  readonly columns?: readonly string[];
  /** Rows per chunk (chunked reads). Default 65,536. */
  readonly chunkRows?: number;
  /** Column types to parse CSV cells as (else inferred); the named columns must exist. Ignored for Parquet, which carries its types. */
  readonly schema?: Readonly<Record<string, ColumnType>>;
  /** CSV field delimiter; default ',' (a `.tsv` file: tab). */
  readonly delimiter?: string;
}

/** A chunk of rows from a file. */
export interface TableChunk extends Table {
  /** Index of the chunk's first row among the file's data rows (0-based). */
  readonly offset: number;
  /** The file line of each row (CSV only), for messages that point at a line. */
  readonly lines?: Int32Array;
}
