import { mkdtempSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CsvTokenizer, type CsvRecord } from './csv-tokenizer.js';
import { CsvWriter } from './csv-write.js';
import { readTable, readTableChunks, readTableSchema } from './read-table.js';
import { cellValue, concatTables, type StringColumn, type NumericColumn } from './column.js';

const dir = mkdtempSync(join(tmpdir(), 'trestle-tables-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('CsvTokenizer', () => {
  it('handles quotes, doubled quotes, newlines in quotes, CRLF, blank lines and any chunking', () => {
    const text = 'a,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n\r\n1,,3\n4,5,';
    const whole: CsvRecord[] = [];
    const t = new CsvTokenizer(',');
    t.push(text, whole);
    t.end(whole);
    expect(whole).toEqual([
      { fields: ['a', 'b', 'c'], line: 1 },
      { fields: ['x, y', 'say "hi"', 'two\nlines'], line: 2 },
      { fields: ['1', '', '3'], line: 5 },
      { fields: ['4', '5', ''], line: 6 },
    ]);
    // One character at a time gives the same records.
    const bytewise: CsvRecord[] = [];
    const t2 = new CsvTokenizer(',');
    for (const ch of text) t2.push(ch, bytewise);
    t2.end(bytewise);
    expect(bytewise).toEqual(whole);
  });

  it('names the line of an unclosed quote', () => {
    const t = new CsvTokenizer(',', 'f.csv');
    const out: CsvRecord[] = [];
    t.push('a\n"open\nstill', out);
    expect(() => t.end(out)).toThrow(/f\.csv line 2: a quoted field is never closed/);
  });
});

describe('readTable (CSV)', () => {
  it('infers types from every row and dictionary-encodes strings', async () => {
    const path = file('typed.csv', 'n,x,s,b\n1,1.5,SFO,true\n2,,LAX,false\n3,2e3,SFO,\n');
    const t = await readTable(path);
    expect(t.rows).toBe(3);
    expect(t.columns['n']).toEqual({ type: 'long', values: Float64Array.of(1, 2, 3) });
    expect((t.columns['x'] as NumericColumn).values).toEqual(Float64Array.of(1.5, NaN, 2000));
    const s = t.columns['s'] as StringColumn;
    expect([...s.codes].map((c) => s.dictionary[c])).toEqual(['SFO', 'LAX', 'SFO']);
    expect(t.columns['b']).toEqual({ type: 'boolean', values: Float64Array.of(1, 0, NaN) });
  });

  it('refuses ragged rows naming the line', async () => {
    const path = file('ragged.csv', 'a,b,c\n1,2,3\n"q\nq",5,6\n7,8\n');
    const err = await caught(readTable(path));
    expect(err.message).toBe(
      `${path} line 5 has 2 fields but the header has 3; every row needs one value per column (quote values that contain ',')`,
    );
    const err2 = await caught(
      (async () => {
        for await (const _ of readTableChunks(path, { chunkRows: 2 })) void _;
      })(),
    );
    expect(err2.message).toContain('line 5 has 2 fields');
  });

  it('selects columns, refuses missing ones and a missing file', async () => {
    const path = file('sel.csv', 'a,b\n1,x\n');
    expect(Object.keys((await readTable(path, { columns: ['b'] })).columns)).toEqual(['b']);
    expect((await caught(readTable(path, { columns: ['zz'] }))).message).toBe(
      `${path} has no column 'zz' (its columns: a, b)`,
    );
    expect((await caught(readTable(join(dir, 'nope.csv')))).message).toContain('does not exist');
  });

  it('streams chunks with types from the first chunk, and names line and column when a later value does not fit', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => `${i},c${i % 3}`);
    const path = file('chunks.csv', `id,cat\n${rows.join('\n')}\nbad,c1\n`);
    const seen: number[] = [];
    const err = await caught(
      (async () => {
        for await (const chunk of readTableChunks(path, { chunkRows: 4 })) {
          seen.push(chunk.rows);
          expect(chunk.columns['id']!.type).toBe('long');
        }
      })(),
    );
    expect(seen).toEqual([4, 4]);
    expect(err.message).toBe(
      `${path} line 12, column 'id': "bad" is not a number (the column is long) (its type was inferred from the first 4 rows)`,
    );
    // With a schema, 'id' can be read as strings throughout.
    let total = 0;
    for await (const chunk of readTableChunks(path, { chunkRows: 4, schema: { id: 'string' } })) {
      total += chunk.rows;
      expect(chunk.columns['id']!.type).toBe('string');
    }
    expect(total).toBe(11);
    expect(await readTableSchema(path, { chunkRows: 4 })).toEqual([
      { name: 'id', type: 'long' },
      { name: 'cat', type: 'string' },
    ]);
  });
});

describe('readTable (Parquet)', () => {
  it('reads the flights file by column, whole and in chunks that add up', async () => {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const entry = require.resolve('vega-datasets');
    const root = entry.slice(0, entry.lastIndexOf('node_modules/vega-datasets') + 'node_modules/vega-datasets'.length);
    const path = join(root, 'data', 'flights-3m.parquet');
    const schema = await readTableSchema(path);
    expect(schema.map((c) => c.name)).toEqual(['date', 'delay', 'distance', 'origin', 'destination']);
    let rows = 0;
    let chunks = 0;
    const sizes: number[] = [];
    let first: Record<string, unknown> | undefined;
    for await (const chunk of readTableChunks(path, { columns: ['distance', 'origin'], chunkRows: 100_000 })) {
      if (chunks === 0) {
        const origin = chunk.columns['origin']!;
        first = { distance: cellValue(chunk.columns['distance']!, 0), origin: cellValue(origin, 0), type: origin.type };
      }
      expect(chunk.rows).toBeLessThanOrEqual(100_000);
      expect(chunk.offset).toBe(rows);
      rows += chunk.rows;
      sizes.push(chunk.rows);
      chunks++;
      if (chunks === 4) break; // enough to prove chunking; the whole file is read in the quickstart test
    }
    // Row groups of 272,727 rows, cut into chunks of at most 100,000.
    expect(sizes).toEqual([100_000, 100_000, 72_727, 100_000]);
    expect(first).toMatchObject({ type: 'string' });
    expect(typeof first!['distance']).toBe('number');
  });
});

describe('CsvWriter', () => {
  it('writes quoted strings, empty missing values, and only renames into place on close', async () => {
    const path = join(dir, 'out.csv');
    const w = await CsvWriter.open(path, ['name', 'p', 'flag']);
    await w.write({
      name: ['plain', 'with, comma', null],
      p: Float64Array.of(0.25, NaN, 1),
      flag: { type: 'boolean', values: Float64Array.of(1, 0, NaN) },
    });
    expect(existsSync(path)).toBe(false);
    await w.close();
    expect(readFileSync(path, 'utf8')).toBe('name,p,flag\nplain,0.25,true\n"with, comma",,false\n,1,\n');
    const back = await readTable(path);
    expect(back.rows).toBe(3);
    const aborted = await CsvWriter.open(join(dir, 'aborted.csv'), ['a']);
    await aborted.write({ a: [1] });
    await aborted.abort();
    expect(readdirSync(dir).filter((f) => f.startsWith('aborted'))).toEqual([]);
  });

  it('concatenates chunks with different dictionaries', () => {
    const a = {
      rows: 2,
      columns: { s: { type: 'string' as const, codes: Int32Array.of(0, 1), dictionary: ['x', 'y'] } },
    };
    const b = { rows: 2, columns: { s: { type: 'string' as const, codes: Int32Array.of(0, -1), dictionary: ['y'] } } };
    const t = concatTables([a, b]);
    const s = t.columns['s']!;
    expect([0, 1, 2, 3].map((i) => cellValue(s, i))).toEqual(['x', 'y', 'y', null]);
  });
});
