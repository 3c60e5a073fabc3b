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

function compare(lhs: RawBuilder<unknown>, c: Comparison, dialect: SqlDialect): RawBuilder<SqlBool> {
  const v = c.value;
  switch (c.op) {
    case 'LIKE':
      return dialect.like(lhs, String(v));
    case 'ILIKE':
      return dialect.ilike(lhs, String(v));
    case 'IN':
      return dialect.inList(lhs, v as string[], 'text');
    case 'NOT IN':
      return sql<SqlBool>`NOT (${dialect.inList(lhs, v as string[], 'text')})`;
    case '=':
    case '!=':
    case '>':
    case '>=':
    case '<':
    case '<=':
      return sql<SqlBool>`${lhs} ${sql.raw(c.op)} ${v}`;
  }
}

function tagCondition(c: Comparison, target: RegistryTarget, dialect: SqlDialect): RawBuilder<SqlBool> {
  const positive: Comparison = c.op === '!=' ? { ...c, op: '=' } : c;
  const inner =
    target === 'registered_models'
      ? sql<SqlBool>`EXISTS (SELECT 1 FROM registered_model_tags t WHERE t.model_id = m.model_id AND t.key = ${c.key} AND ${compare(sql.ref('t.value'), positive, dialect)})`
      : sql<SqlBool>`EXISTS (SELECT 1 FROM model_version_tags t WHERE t.model_id = v.model_id AND t.version = v.version AND t.key = ${c.key} AND ${compare(sql.ref('t.value'), positive, dialect)})`;
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
  if (expr === undefined) return sql<SqlBool>`1 = 1`;
  if (expr.kind !== 'comparison') {
    const parts = expr.operands.map((e) => compileRegistryFilter(e, target, dialect));
    return sql<SqlBool>`(${sql.join(parts, sql` ${sql.raw(expr.kind === 'and' ? 'AND' : 'OR')} `)})`;
  }
  if (expr.entity === 'tag') return tagCondition(expr, target, dialect);
  const column = COLUMNS[target][expr.key];
  if (expr.entity !== 'attribute' || column === undefined) {
    throw new TrestleError('INVALID_ARGUMENT', `cannot filter ${target.replace('_', ' ')} on '${expr.key}'`);
  }
  return compare(sql.ref(column), expr, dialect);
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
