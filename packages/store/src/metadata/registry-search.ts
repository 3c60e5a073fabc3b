/**
 * Compiles registry searches (core's filter AST for `registered_models` and `model_versions`)
 * to SQL for both dialects. Models are aliased `m`, versions `v` (joined to their model `m`).
 * Tag comparisons are semi-joins; `tags.k != 'v'` is `NOT EXISTS (tag k = 'v')`, so it also
 * matches what has no tag `k` (the clause MLflow 3 clients append to every registry search,
 * ``tag.`mlflow.prompt.is_prompt` != 'true'``, must keep ordinary models).
 */
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import { TrestleError } from '@trestle/core';
import type { Comparison, FilterExpr, OrderBy } from '@trestle/core';
import type { SqlDialect } from './dialects.js';
import { compareSql, compileFilterTree } from './filter-sql.js';

/** Which registry table a search runs over. */
export type RegistryTarget = 'registered_models' | 'model_versions';

const COLUMNS: Readonly<Record<RegistryTarget, Readonly<Record<string, string>>>> = {
  registered_models: {
    name: 'm.name',
    creation_timestamp: 'm.creation_time',
    last_updated_timestamp: 'm.last_updated_time',
  },
  model_versions: {
    name: 'm.name',
    version_number: 'v.version',
    run_id: 'v.run_id',
    source_path: 'v.source',
    current_stage: 'v.stage',
    creation_timestamp: 'v.creation_time',
    last_updated_timestamp: 'v.last_updated_time',
  },
};

function tagCondition(c: Comparison, target: RegistryTarget, dialect: SqlDialect): RawBuilder<SqlBool> {
  const positive: Comparison = c.op === '!=' ? { ...c, op: '=' } : c;
  const inner =
    target === 'registered_models'
      ? sql<SqlBool>`EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_id = m.model_id AND t.key = ${c.key} AND ${compareSql(sql.ref('t.value'), positive, dialect)})`
      : sql<SqlBool>`EXISTS (SELECT 1 FROM model_version_tags t WHERE t.model_id = v.model_id AND t.version = v.version AND t.key = ${c.key} AND ${compareSql(sql.ref('t.value'), positive, dialect)})`;
  return c.op === '!=' ? sql<SqlBool>`NOT ${inner}` : inner;
}

/**
 * The WHERE condition of a registry search; `undefined` filter matches everything.
 *
 * @example compileRegistryFilter(parseFilter("name LIKE 'fr%'", 'registered_models'), 'registered_models', dialect)
 */
export function compileRegistryFilter(
  expr: FilterExpr | undefined,
  target: RegistryTarget,
  dialect: SqlDialect,
): RawBuilder<SqlBool> {
  return compileFilterTree(expr, (c) => {
    if (c.entity === 'tag') return tagCondition(c, target, dialect);
    const column = COLUMNS[target][c.key];
    if (c.entity !== 'attribute' || column === undefined) {
      throw new TrestleError('INVALID_ARGUMENT', `cannot filter ${target.replace('_', ' ')} on '${c.key}'`);
    }
    return compareSql(sql.ref(column), c, dialect);
  });
}

/** ORDER BY items of a registry search, with the default and the tie-breaks appended. */
export function compileRegistryOrder(orderBy: readonly OrderBy[], target: RegistryTarget): RawBuilder<unknown>[] {
  const items = orderBy.map((o) => {
    const column = COLUMNS[target][o.key];
    if (o.entity !== 'attribute' || column === undefined) {
      throw new TrestleError('INVALID_ARGUMENT', `cannot order ${target.replace('_', ' ')} by '${o.key}'`);
    }
    return sql`${sql.ref(column)} ${sql.raw(o.direction)}`;
  });
  items.push(sql`m.name ASC`);
  if (target === 'model_versions') items.push(sql`v.version DESC`);
  return items;
}
