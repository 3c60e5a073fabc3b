import { open } from 'node:fs/promises';
import { extname } from 'node:path';

/** A column of a tabular file: its name and a type inferred from the file. */
export interface ColumnSchema {
  name: string;
  /** `integer`, `double`, `boolean`, `string` (CSV, inferred from the first rows), or the Parquet physical/logical type. */
  type: string;
}

/** The schema recorded with a tabular data version (JSON in the dataset record). */
export interface TabularSchema {
  format: 'csv' | 'tsv' | 'parquet';
  columns: ColumnSchema[];
  /** Rows in the file, when the format says so without a full read (Parquet). */
  rows?: number;
}

const SAMPLE_BYTES = 256 * 1024;

function splitLine(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function typeOf(values: string[]): string {
  const present = values.filter((v) => v !== '' && v.toUpperCase() !== 'NA' && v.toUpperCase() !== 'NULL');
  if (present.length === 0) return 'string';
  if (present.every((v) => /^[+-]?\d+$/.test(v))) return 'integer';
  if (present.every((v) => v.trim() !== '' && Number.isFinite(Number(v)))) return 'double';
  if (present.every((v) => /^(true|false)$/i.test(v))) return 'boolean';
  return 'string';
}

/**
 * The schema of a CSV/TSV (header and types inferred from the first 256 KB) or Parquet file
 * (from its footer), or `undefined` for other files or a file that cannot be parsed as its
 * extension says. Never reads a whole file.
 *
 * @example await tabularSchema('data/weather.csv') // { format: 'csv', columns: [{ name: 'date', type: 'string' }, …] }
 */
export async function tabularSchema(path: string): Promise<TabularSchema | undefined> {
  const ext = extname(path).toLowerCase();
  try {
    if (ext === '.csv' || ext === '.tsv') return await delimitedSchema(path, ext === '.tsv' ? '\t' : ',');
    if (ext === '.parquet') return await parquetSchema(path);
  } catch {
    return undefined;
  }
  return undefined;
}

async function delimitedSchema(path: string, sep: string): Promise<TabularSchema | undefined> {
  const handle = await open(path, 'r');
  let text: string;
  try {
    const buf = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    text = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
  const lines = text.split(/\r?\n/);
  if (text.length === SAMPLE_BYTES) lines.pop(); // the last line may be cut
  const header = lines[0];
  if (header === undefined || header === '') return undefined;
  const names = splitLine(header.replace(/^\uFEFF/, ''), sep);
  const rows = lines
    .slice(1, 1001)
    .filter((l) => l !== '')
    .map((l) => splitLine(l, sep));
  return {
    format: sep === '\t' ? 'tsv' : 'csv',
    columns: names.map((name, i) => ({ name, type: typeOf(rows.map((r) => r[i] ?? '')) })),
  };
}

async function parquetSchema(path: string): Promise<TabularSchema | undefined> {
  const { parquetMetadataAsync } = await import('hyparquet');
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const file = {
      byteLength: size,
      async slice(start: number, end?: number): Promise<ArrayBuffer> {
        const length = (end ?? size) - start;
        const buf = Buffer.alloc(length);
        await handle.read(buf, 0, length, start);
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + length);
      },
    };
    const meta = await parquetMetadataAsync(file);
    const columns = meta.schema
      .slice(1)
      .filter((el) => el.num_children === undefined)
      .map((el) => ({
        name: el.name,
        type: el.logical_type?.type ?? el.converted_type ?? el.type ?? 'unknown',
      }));
    return { format: 'parquet', columns, rows: Number(meta.num_rows) };
  } finally {
    await handle.close();
  }
}
