import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { likeToGlob, postgresDialect, sqliteDialect } from './dialects.js';

describe('likeToGlob', () => {
  it('maps wildcards, escapes and GLOB metacharacters', () => {
    expect(likeToGlob('abc%')).toBe('abc*');
    expect(likeToGlob('a_c')).toBe('a?c');
    expect(likeToGlob('50\\%')).toBe('50%');
    expect(likeToGlob('a\\_b')).toBe('a_b');
    expect(likeToGlob('x*y?[z]')).toBe('x[*]y[?][[]z]');
    expect(likeToGlob('trailing\\')).toBe('trailing\\');
  });
});

describe('bulkInsert', () => {
  it('splits SQLite statements under the bind-parameter limit and keeps ±Infinity', async () => {
    const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    await sql`CREATE TABLE t (a text, b bigint, c double precision)`.execute(db);
    const rows = Array.from({ length: 12_000 }, (_, i) => [
      `k${i}`,
      i,
      i === 0 ? Infinity : i === 1 ? -Infinity : i / 2,
    ]);
    const queries = sqliteDialect.bulkInsert({
      into: 't',
      columns: ['a', 'b', 'c'],
      types: ['text', 'bigint', 'double'],
      rows,
      tail: '',
    });
    expect(queries).toHaveLength(2);
    expect(queries.every((q) => q.parameters.length <= 32_766)).toBe(true);
    for (const q of queries) await db.executeQuery(q);
    const { rows: out } = await sql<{ n: number; s: number; lo: number; hi: number }>`
      SELECT count(*) AS n, sum(b) AS s, min(c) AS lo, max(c) AS hi FROM t`.execute(db);
    expect(out[0]).toEqual({ n: 12_000, s: (11_999 * 12_000) / 2, lo: -Infinity, hi: Infinity });
    expect(sqliteDialect.bulkInsert({ into: 't', columns: ['a'], types: ['text'], rows: [], tail: '' })).toEqual([]);
    await db.destroy();
  });

  it('binds one array per column on PostgreSQL, whatever the row count', () => {
    const [q, ...rest] = postgresDialect.bulkInsert({
      into: 'metrics',
      columns: ['key', 'value'],
      types: ['text', 'double'],
      rows: [
        ['a', 1],
        ['b', null],
      ],
      tail: 'ON CONFLICT DO NOTHING',
    });
    expect(rest).toEqual([]);
    expect(q!.sql).toBe(
      'INSERT INTO metrics (key, value) SELECT * FROM unnest($1::text[], $2::float8[]) ON CONFLICT DO NOTHING',
    );
    expect(q!.parameters).toEqual([
      ['a', 'b'],
      [1, null],
    ]);
  });
});
