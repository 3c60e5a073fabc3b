import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchFieldNames, searchFieldRule } from '@trestle/core';
import type { Comparison, FieldRule, FilterExpr, OrderBy } from '@trestle/core';
import { openMetadataStore } from './open.js';
import { sqliteDialect } from './dialects.js';
import type { MetadataDatabase } from './schema.js';
import { compileExperimentSearch, compileRunSearch } from './search-compiler.js';
import { SqlMetadataStore } from './sql-metadata-store.js';

let position = 0;
const cmp = (
  entity: Comparison['entity'],
  key: string,
  op: Comparison['op'],
  value: Comparison['value'],
): Comparison => ({
  kind: 'comparison',
  entity,
  key,
  op,
  value,
  position: position++,
});
const and = (...operands: FilterExpr[]): FilterExpr => ({ kind: 'and', operands });
const or = (...operands: FilterExpr[]): FilterExpr => ({ kind: 'or', operands });

describe('search compiler (hand-built ASTs on SQLite)', () => {
  let db: Kysely<MetadataDatabase>;
  let store: SqlMetadataStore;
  let experimentId: string;
  const runIds: Record<string, string> = {};

  const names = async (filter: FilterExpr | undefined, orderBy: OrderBy[] = []): Promise<string[]> => {
    const c = compileRunSearch(filter, orderBy, sqliteDialect);
    const { rows } = await sql<{ run_name: string }>`
      SELECT r.run_name FROM runs r ${sql.join(c.joins, sql` `)}
      WHERE r.experiment_id = ${Number(experimentId)} AND ${c.where}
      ORDER BY ${sql.join(c.orderBy)}`.execute(db);
    return rows.map((r) => r.run_name);
  };
  const sorted = async (filter: FilterExpr) => (await names(filter)).sort();

  beforeAll(async () => {
    db = new Kysely<MetadataDatabase>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    store = new SqlMetadataStore({ db, dialect: sqliteDialect, artifactRoot: '/artifacts' });
    await store.migrate();
    experimentId = (await store.createExperiment({ name: 'compiler' })).experimentId;
    const specs = [
      { name: 'a', start: 1, acc: 0.5, model: 'Tree*1', tag: '50%' },
      { name: 'b', start: 2, acc: 0.8, model: 'tree_2', tag: '50x' },
      { name: 'c', start: 3, acc: NaN, model: 'Forest', tag: undefined },
      { name: 'd', start: 4, acc: undefined, model: undefined, tag: 'x' },
    ];
    for (const s of specs) {
      const run = await store.createRun({ experimentId, runName: s.name, startTime: s.start });
      runIds[s.name] = run.info.runId;
      await store.logBatch(run.info.runId, {
        ...(s.acc === undefined ? {} : { metrics: [{ key: 'acc', value: s.acc, step: 0, timestamp: 0 }] }),
        ...(s.model === undefined ? {} : { params: [{ key: 'model', value: s.model }] }),
        ...(s.tag === undefined ? {} : { tags: [{ key: 'share', value: s.tag }] }),
      });
    }
    await store.logInputs(runIds['a']!, [
      {
        dataset: { name: 'train', digest: 'd1', sourceType: 'local', source: '/t' },
        tags: [{ key: 'mlflow.data.context', value: 'training' }],
      },
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  it('compiles nested AND / OR trees', async () => {
    expect(
      await sorted(
        or(
          cmp('metric', 'acc', '>', 0.7),
          and(cmp('param', 'model', '=', 'Forest'), cmp('attribute', 'start_time', '>=', 3)),
        ),
      ),
    ).toEqual(['b', 'c']);
    expect(
      await sorted(
        and(
          or(cmp('attribute', 'run_name', '=', 'a'), cmp('attribute', 'run_name', '=', 'd')),
          cmp('tag', 'share', 'LIKE', '%'),
        ),
      ),
    ).toEqual(['a', 'd']);
    expect(await sorted(and())).toEqual(['a', 'b', 'c', 'd']);
    expect(await sorted(or())).toEqual([]);
  });

  it('matches NaN only with != (as MLflow), never a missing metric', async () => {
    expect(await sorted(cmp('metric', 'acc', '!=', 0.5))).toEqual(['b', 'c']);
    expect(await sorted(cmp('metric', 'acc', '>', -1e300))).toEqual(['a', 'b']);
  });

  it('makes LIKE case-sensitive and literal for GLOB metacharacters, ILIKE case-insensitive', async () => {
    expect(await sorted(cmp('param', 'model', 'LIKE', 'tree%'))).toEqual(['b']);
    expect(await sorted(cmp('param', 'model', 'ILIKE', 'tree%'))).toEqual(['a', 'b']);
    expect(await sorted(cmp('param', 'model', 'LIKE', 'Tree*_'))).toEqual(['a']);
    expect(await sorted(cmp('param', 'model', 'LIKE', 'tree\\_%'))).toEqual(['b']);
    expect(await sorted(cmp('tag', 'share', 'LIKE', '50\\%'))).toEqual(['a']);
    expect(await sorted(cmp('tag', 'share', 'LIKE', '50_'))).toEqual(['a', 'b']);
  });

  it('handles IN / NOT IN, including empty lists', async () => {
    expect(await sorted(cmp('attribute', 'run_id', 'IN', [runIds['a']!, runIds['c']!]))).toEqual(['a', 'c']);
    expect(await sorted(cmp('attribute', 'run_id', 'NOT IN', [runIds['a']!]))).toEqual(['b', 'c', 'd']);
    expect(await sorted(cmp('attribute', 'run_id', 'IN', []))).toEqual([]);
    expect(await sorted(cmp('attribute', 'run_id', 'NOT IN', []))).toEqual(['a', 'b', 'c', 'd']);
    expect(await sorted(cmp('dataset', 'name', 'IN', ['train']))).toEqual(['a']);
    expect(await sorted(cmp('dataset', 'context', '=', 'training'))).toEqual(['a']);
  });

  it('orders NaN after every number and before missing values, in both directions (as MLflow)', async () => {
    expect(await names(undefined, [{ entity: 'metric', key: 'acc', direction: 'ASC' }])).toEqual(['a', 'b', 'c', 'd']);
    expect(await names(undefined, [{ entity: 'metric', key: 'acc', direction: 'DESC' }])).toEqual(['b', 'a', 'c', 'd']);
    expect(await names(undefined, [{ entity: 'param', key: 'model', direction: 'DESC' }])).toEqual([
      'b',
      'a',
      'c',
      'd',
    ]);
    expect(await names(undefined)).toEqual(['d', 'c', 'b', 'a']);
  });

  it('rejects comparisons the grammar does not allow with INVALID_ARGUMENT naming the position', () => {
    const bad: Comparison[] = [
      cmp('metric', 'acc', '>', 'high'),
      cmp('metric', 'acc', 'LIKE', '1%'),
      cmp('param', 'model', '>', 'a'),
      cmp('param', 'model', 'IN', ['a']),
      cmp('attribute', 'start_time', '=', 1.5),
      cmp('attribute', 'run_name', 'IN', ['a']),
      cmp('attribute', 'nope', '=', 'a'),
      cmp('dataset', 'size', '=', 'a'),
    ];
    for (const c of bad) {
      let err: unknown;
      try {
        compileRunSearch(c, [], sqliteDialect);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(c)).toMatchObject({ code: 'INVALID_ARGUMENT', details: { position: c.position } });
    }
    expect(() =>
      compileRunSearch(undefined, [{ entity: 'dataset', key: 'name', direction: 'ASC' }], sqliteDialect),
    ).toThrow(/dataset/);
    expect(() => compileExperimentSearch(cmp('metric', 'x', '>', 1), [], sqliteDialect)).toThrow(/attributes and tags/);
  });

  it('reaches metrics, params and tags through their (key, value) indexes', async () => {
    const plan = async (filter: FilterExpr): Promise<string> => {
      const c = compileRunSearch(filter, [], sqliteDialect);
      const { rows } = await sql<{
        detail: string;
      }>`EXPLAIN QUERY PLAN SELECT r.run_id FROM runs r WHERE ${c.where}`.execute(db);
      return rows.map((r) => r.detail).join('\n');
    };
    expect(await plan(cmp('metric', 'acc', '>', 0.5))).toMatch(/latest_metrics_key_value/);
    expect(await plan(cmp('param', 'model', '=', 'x'))).toMatch(/params_key_value/);
    expect(await plan(cmp('tag', 'share', '=', 'x'))).toMatch(/tags_key_value/);
  });
});

describe('search fields: one table in core', () => {
  // Every field the parser accepts compiles to SQL that runs: the compiler has no list of its own to drift.
  const literal = (rule: FieldRule): string =>
    rule.value === 'number' ? '>= 0' : rule.oneOf !== undefined ? `= '${rule.oneOf[0]}'` : `= 'x'`;

  it.each(['runs', 'experiments'] as const)('filters and orders %s by every attribute core allows', async (target) => {
    const store = await openMetadataStore(':memory:');
    try {
      for (const key of searchFieldNames(target, 'attribute')) {
        const filter = `attributes.${key} ${literal(searchFieldRule(target, 'attribute', key)!)}`;
        const search =
          target === 'runs'
            ? store.searchRuns({ experimentIds: ['0'], filter, orderBy: [`attributes.${key} DESC`] })
            : store.searchExperiments({ filter, orderBy: [`attributes.${key} DESC`] });
        await expect(search, filter).resolves.toMatchObject({ items: expect.any(Array) });
      }
    } finally {
      await store.close();
    }
  });
});
