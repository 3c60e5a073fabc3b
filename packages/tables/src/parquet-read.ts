import {
  asyncBufferFromFile,
  parquetMetadataAsync,
  parquetRead,
  type ColumnData,
  type FileMetaData,
  type SchemaElement,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { TrestleError } from '@trestle/core';
import type { Column, ColumnType, Table } from './column.js';
import { concatTables } from './column.js';
import { fileError } from './file-error.js';
import type { ReadChunksOptions, TableChunk } from './read-options.js';

/** Timestamps as epoch milliseconds (numbers), never Date objects. */
const PARSERS = {
  timestampFromMicroseconds: (micros: bigint): number => Number(micros) / 1000,
  timestampFromMilliseconds: (millis: bigint): number => Number(millis),
  timestampFromNanoseconds: (nanos: bigint): number => Number(nanos / 1_000_000n),
  dateFromDays: (days: number): number => days * 86_400_000,
};

/** A top-level column of a Parquet file and the type it is read as. */
export interface ParquetColumnInfo {
  readonly name: string;
  readonly type: ColumnType;
  readonly required: boolean;
}

async function open(
  path: string,
): Promise<{ file: Awaited<ReturnType<typeof asyncBufferFromFile>>; metadata: FileMetaData }> {
  let file;
  try {
    file = await asyncBufferFromFile(path);
  } catch (err) {
    throw fileError(err, path);
  }
  try {
    return { file, metadata: await parquetMetadataAsync(file, { parsers: PARSERS }) };
  } catch (err) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${path} is not a Parquet file: ${(err as Error).message}`,
      { path },
      { cause: err },
    );
  }
}

/** The type a Parquet leaf is read as, or undefined when tables cannot read it (nested, binary). */
function parquetColumnType(e: SchemaElement): ColumnType | undefined {
  const logical = e.logical_type?.type;
  if (e.num_children !== undefined && e.num_children > 0) return undefined;
  if (
    logical === 'TIMESTAMP' ||
    logical === 'DATE' ||
    e.converted_type === 'TIMESTAMP_MILLIS' ||
    e.converted_type === 'TIMESTAMP_MICROS' ||
    e.converted_type === 'DATE'
  )
    return 'datetime';
  if (logical === 'STRING' || logical === 'ENUM' || e.converted_type === 'UTF8') return 'string';
  switch (e.type) {
    case 'BOOLEAN':
      return 'boolean';
    case 'INT32':
      return 'integer';
    case 'INT64':
      return 'long';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    case 'BYTE_ARRAY':
      return 'string';
    default:
      return undefined;
  }
}

function topColumns(metadata: FileMetaData): ParquetColumnInfo[] {
  const out: ParquetColumnInfo[] = [];
  // Walk the flattened schema tree: keep top-level leaves, skip nested groups whole.
  const schema = metadata.schema;
  let i = 1;
  const skip = (at: number): number => {
    const e = schema[at]!;
    let next = at + 1;
    for (let c = 0; c < (e.num_children ?? 0); c++) next = skip(next);
    return next;
  };
  while (i < schema.length) {
    const e = schema[i]!;
    const type = parquetColumnType(e);
    if (type !== undefined) out.push({ name: e.name, type, required: e.repetition_type === 'REQUIRED' });
    i = skip(i);
  }
  return out;
}

/** Columns of a Parquet file (from its footer only) and its row count. */
export async function readParquetColumns(path: string): Promise<{ rows: number; columns: ParquetColumnInfo[] }> {
  const { metadata } = await open(path);
  return { rows: Number(metadata.num_rows), columns: topColumns(metadata) };
}

/**
 * Reads a Parquet file one row group at a time, handing out chunks of at most `chunkRows`
 * rows. Numbers (int64 included) become Float64Array, strings dictionary codes.
 */
export async function* readParquetChunks(path: string, options: ReadChunksOptions = {}): AsyncGenerator<TableChunk> {
  const chunkRows = options.chunkRows ?? 65_536;
  const { file, metadata } = await open(path);
  const available = topColumns(metadata);
  const wanted = options.columns ?? available.map((c) => c.name);
  const infos = wanted.map((name) => {
    const info = available.find((c) => c.name === name);
    if (info === undefined) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `${path} has no readable column '${name}' (its columns: ${available.map((c) => c.name).join(', ')})`,
        { column: name },
      );
    }
    return info;
  });
  let offset = 0;
  let yielded = false;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    if (groupRows === 0) continue;
    const rowStart = offset;
    const rowEnd = offset + groupRows;
    const columns: Record<string, Column> = {};
    const builders = new Map(infos.map((info) => [info.name, builder(info, groupRows)]));
    const onChunk = (chunk: ColumnData): void => {
      const b = builders.get(chunk.columnName);
      if (b === undefined) return;
      const from = Math.max(chunk.rowStart, rowStart);
      const to = Math.min(chunk.rowEnd, rowEnd);
      b.add(chunk.columnData as ArrayLike<unknown>, from - chunk.rowStart, from - rowStart, to - from);
    };
    try {
      await parquetRead({
        file,
        metadata,
        compressors,
        parsers: PARSERS,
        columns: infos.map((c) => c.name),
        rowStart,
        rowEnd,
        onChunk,
      });
    } catch (err) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `cannot read ${path}: ${(err as Error).message}`,
        { path },
        { cause: err },
      );
    }
    for (const info of infos) columns[info.name] = builders.get(info.name)!.done();
    for (let at = 0; at < groupRows; at += chunkRows) {
      const end = Math.min(groupRows, at + chunkRows);
      const part: Record<string, Column> = {};
      for (const [name, c] of Object.entries(columns)) {
        part[name] =
          c.type === 'string'
            ? { type: 'string', codes: c.codes.subarray(at, end), dictionary: c.dictionary }
            : { type: c.type, values: c.values.subarray(at, end) };
      }
      yield { rows: end - at, columns: part, offset: offset + at };
      yielded = true;
    }
    offset += groupRows;
  }
  if (!yielded) {
    const columns: Record<string, Column> = {};
    for (const info of infos) columns[info.name] = builder(info, 0).done();
    yield { rows: 0, columns, offset: 0 };
  }
}

/** Reads the whole Parquet file (chunks concatenated). */
export async function readParquet(path: string, options: ReadChunksOptions = {}): Promise<Table> {
  const parts: Table[] = [];
  for await (const chunk of readParquetChunks(path, { ...options, chunkRows: Number.MAX_SAFE_INTEGER }))
    parts.push(chunk);
  return parts.length === 1 ? parts[0]! : concatTables(parts);
}

interface Builder {
  add(data: ArrayLike<unknown>, from: number, at: number, count: number): void;
  done(): Column;
}

function builder(info: ParquetColumnInfo, rows: number): Builder {
  if (info.type === 'string') {
    const codes = new Int32Array(rows);
    const dictionary: string[] = [];
    const index = new Map<string, number>();
    return {
      add(data, from, at, count) {
        for (let i = 0; i < count; i++) {
          const v = data[from + i];
          if (v === null || v === undefined) {
            codes[at + i] = -1;
            continue;
          }
          const s = typeof v === 'string' ? v : cellText(v);
          let code = index.get(s);
          if (code === undefined) {
            code = dictionary.length;
            dictionary.push(s);
            index.set(s, code);
          }
          codes[at + i] = code;
        }
      },
      done: () => ({ type: 'string', codes, dictionary }),
    };
  }
  const values = new Float64Array(rows);
  return {
    add(data, from, at, count) {
      for (let i = 0; i < count; i++) {
        const v = data[from + i];
        values[at + i] =
          typeof v === 'number'
            ? v
            : typeof v === 'bigint'
              ? Number(v)
              : typeof v === 'boolean'
                ? v
                  ? 1
                  : 0
                : v instanceof Date
                  ? v.getTime()
                  : NaN;
      }
    },
    done: () => ({ type: info.type as Exclude<ColumnType, 'string'>, values }),
  };
}

/** Text of a non-string cell under a string column (bytes, numbers): JSON keeps it readable. */
function cellText(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  return JSON.stringify(v) ?? '';
}
