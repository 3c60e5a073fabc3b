/**
 * Compiles parsed search filters and order-by clauses (core's AST) into SQL for both
 * dialects. Nothing is filtered in JavaScript.
 *
 * Runs (alias `r`): metrics compare the latest value (`latest_metrics`, index on (key, value)),
 * params and tags go through their (key, value) index, attributes are columns, datasets go
 * through `inputs` → `datasets` and the `mlflow.data.context` input tag. Each comparison on a
 * child table is a semi-join `r.run_id IN (SELECT … WHERE key = ? AND value <op> ?)`, so a
 * run lacking the key never matches, and AND/OR/parentheses nest freely.
 * Order by: missing (and NaN) values sort last in both directions; ties by
 * `start_time DESC, run_id ASC`.
 *
 * Experiments (alias `e`): `name`, `experiment_id`, `creation_time`, `last_update_time` and `tags.*`.
 */
import { sql } from 'kysely';
import type { Expression, RawBuilder, SqlBool } from 'kysely';
import { searchFieldNames, searchFieldRule, SYSTEM_TAGS, TrestleError } from '@trestle/core';
import type { Comparator, Comparison, FilterExpr, OrderBy, SearchTarget } from '@trestle/core';
import type { SqlDialect } from './dialects.js';

/** SQL pieces of a search: extra joins (for ordering), the WHERE condition and the ORDER BY items. */
export interface CompiledSearch {
  joins: RawBuilder<unknown>[];
  where: RawBuilder<SqlBool>;
  orderBy: RawBuilder<unknown>[];
}

/** The field rules are core's (`searchFieldRule`), the same the parser checked: only the SQL lives here. */
const isNumber = (target: SearchTarget, key: string): boolean =>
  searchFieldRule(target, 'attribute', key)?.value === 'number';
const attributeNames = (target: SearchTarget): string => searchFieldNames(target, 'attribute').join(', ');

const NUMERIC_OPS: ReadonlySet<Comparator> = new Set(['=', '!=', '>', '>=', '<', '<=']);
const STRING_OPS: ReadonlySet<Comparator> = new Set(['=', '!=', 'LIKE', 'ILIKE']);
const LIST_OPS: ReadonlySet<Comparator> = new Set(['IN', 'NOT IN']);

const TRUE = sql<SqlBool>`1 = 1`;
const FALSE = sql<SqlBool>`1 = 0`;

function invalid(c: Pick<Comparison, 'entity' | 'key' | 'position'>, why: string): TrestleError {
  const name = c.entity === 'attribute' ? c.key : `${c.entity}s.${c.key}`;
  return new TrestleError('INVALID_ARGUMENT', `invalid filter at position ${c.position} ('${name}'): ${why}`, {
    position: c.position,
    key: c.key,
  });
}

function expectNumber(c: Comparison, integer: boolean): number {
  if (typeof c.value !== 'number' || !Number.isFinite(c.value) || (integer && !Number.isSafeInteger(c.value))) {
    throw invalid(c, `compare it with ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(c.value)}`);
  }
  return c.value;
}

function expectString(c: Comparison): string {
  if (typeof c.value !== 'string') throw invalid(c, `compare it with a quoted string, got ${JSON.stringify(c.value)}`);
  return c.value;
}

function expectList(c: Comparison): string[] {
  if (!Array.isArray(c.value) || c.value.some((v) => typeof v !== 'string')) {
    throw invalid(c, `${c.op} takes a parenthesised list of quoted strings, e.g. ('a', 'b')`);
  }
  return c.value;
}

/** `lhs <op> value` for a string-valued operand; `IN` lists only where `allowLists`. */
function compareString(
  dialect: SqlDialect,
  lhs: Expression<unknown>,
  c: Comparison,
  allowLists: boolean,
): RawBuilder<SqlBool> {
  if (LIST_OPS.has(c.op)) {
    if (!allowLists) throw invalid(c, `${c.op} is only supported for run_id and datasets.*; use = or LIKE`);
    const list = expectList(c);
    if (list.length === 0) return c.op === 'IN' ? FALSE : TRUE;
    const items = sql.join(list.map((v) => sql`${v}`));
    return c.op === 'IN' ? sql<SqlBool>`${lhs} IN (${items})` : sql<SqlBool>`${lhs} NOT IN (${items})`;
  }
  if (!STRING_OPS.has(c.op)) throw invalid(c, `${c.op} does not apply to strings; use =, !=, LIKE or ILIKE`);
  const value = expectString(c);
  switch (c.op) {
    case 'LIKE':
      return dialect.like(lhs, value);
    case 'ILIKE':
      return dialect.ilike(lhs, value);
    case '!=':
      return sql<SqlBool>`${lhs} <> ${value}`;
    default:
      return sql<SqlBool>`${lhs} = ${value}`;
  }
}

/** `lhs <op> value` for a numeric operand. */
function compareNumber(lhs: Expression<unknown>, c: Comparison, integer: boolean): RawBuilder<SqlBool> {
  if (!NUMERIC_OPS.has(c.op)) throw invalid(c, `${c.op} does not apply to numbers; use =, !=, <, <=, > or >=`);
  const value = expectNumber(c, integer);
  const op = c.op === '!=' ? '<>' : c.op;
  return sql<SqlBool>`${lhs} ${sql.raw(op)} ${value}`;
}

/** Value of a (key, value) child table compared with `=`: through the dialect's indexed form. */
function compareTextValue(dialect: SqlDialect, lhs: Expression<unknown>, c: Comparison): RawBuilder<SqlBool> {
  if (c.op === '=' && typeof c.value === 'string') return dialect.textEquals(lhs, c.value);
  return compareString(dialect, lhs, c, false);
}

function combine(expr: FilterExpr, leaf: (c: Comparison) => RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  if (expr.kind === 'comparison') return leaf(expr);
  if (expr.operands.length === 0) return expr.kind === 'and' ? TRUE : FALSE;
  const parts = expr.operands.map((e) => combine(e, leaf));
  return sql<SqlBool>`(${sql.join(parts, expr.kind === 'and' ? sql` AND ` : sql` OR `)})`;
}

function runComparison(dialect: SqlDialect, c: Comparison): RawBuilder<SqlBool> {
  switch (c.entity) {
    case 'metric':
      // As in MLflow, a NaN value is unequal to every number and matches no other comparison.
      return c.op === '!='
        ? sql<SqlBool>`r.run_id IN (SELECT lm.run_id FROM latest_metrics lm WHERE lm.key = ${c.key} AND (lm.is_nan = 1 OR (lm.is_nan = 0 AND ${compareNumber(sql.ref('lm.value'), c, false)})))`
        : sql<SqlBool>`r.run_id IN (SELECT lm.run_id FROM latest_metrics lm WHERE lm.key = ${c.key} AND lm.is_nan = 0 AND ${compareNumber(sql.ref('lm.value'), c, false)})`;
    case 'param':
      return sql<SqlBool>`r.run_id IN (SELECT p.run_id FROM params p WHERE p.key = ${c.key} AND ${compareTextValue(dialect, sql.ref('p.value'), c)})`;
    case 'tag':
      return sql<SqlBool>`r.run_id IN (SELECT t.run_id FROM tags t WHERE t.key = ${c.key} AND ${compareTextValue(dialect, sql.ref('t.value'), c)})`;
    case 'dataset':
      if (c.key === 'name' || c.key === 'digest') {
        return sql<SqlBool>`r.run_id IN (SELECT i.run_id FROM inputs i JOIN datasets d ON d.dataset_id = i.dataset_id WHERE ${compareString(dialect, sql.ref(`d.${c.key}`), c, true)})`;
      }
      if (c.key === 'context') {
        return sql<SqlBool>`r.run_id IN (SELECT i.run_id FROM inputs i JOIN input_tags it ON it.input_id = i.input_id WHERE it.key = ${SYSTEM_TAGS.datasetContext} AND ${compareString(dialect, sql.ref('it.value'), c, true)})`;
      }
      throw invalid(c, `datasets can be filtered by name, digest or context`);
    case 'metadata':
      throw invalid(c, `runs have no metadata; filter on metrics, params, tags, attributes or datasets`);
    case 'attribute': {
      if (searchFieldRule('runs', 'attribute', c.key) === undefined)
        throw invalid(c, `unknown attribute; use one of ${attributeNames('runs')}`);
      const column = sql.ref(`r.${c.key}`);
      return isNumber('runs', c.key)
        ? compareNumber(column, c, true)
        : compareString(dialect, column, c, c.key === 'run_id');
    }
  }
}

function experimentComparison(dialect: SqlDialect, c: Comparison): RawBuilder<SqlBool> {
  if (c.entity === 'tag') {
    return sql<SqlBool>`e.experiment_id IN (SELECT et.experiment_id FROM experiment_tags et WHERE et.key = ${c.key} AND ${compareTextValue(dialect, sql.ref('et.value'), c)})`;
  }
  if (c.entity !== 'attribute') throw invalid(c, `experiments can be filtered by attributes and tags only`);
  if (searchFieldRule('experiments', 'attribute', c.key) === undefined)
    throw invalid(c, `unknown attribute; use one of ${attributeNames('experiments')}`);
  // Ids are strings in the API (filtered as text), integers in the table (ordered as such).
  const column = c.key === 'experiment_id' ? sql`CAST(e.experiment_id AS TEXT)` : sql.ref(`e.${c.key}`);
  return isNumber('experiments', c.key) ? compareNumber(column, c, true) : compareString(dialect, column, c, false);
}

function direction(o: OrderBy): RawBuilder<unknown> {
  return sql.raw(o.direction === 'DESC' ? 'DESC' : 'ASC');
}

function unsupportedOrder(o: OrderBy, what: string): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', `cannot order by '${o.entity}.${o.key}': ${what}`, { key: o.key });
}

/**
 * Compiles a run search: `filter` and `orderBy` from core's parsers.
 *
 * @example
 * const { joins, where, orderBy } = compileRunSearch(parseFilter(f, 'runs'), parseOrderBy(o, 'runs'), sqliteDialect);
 */
export function compileRunSearch(
  filter: FilterExpr | undefined,
  orderBy: readonly OrderBy[],
  dialect: SqlDialect,
): CompiledSearch {
  const where = filter === undefined ? TRUE : combine(filter, (c) => runComparison(dialect, c));
  const joins: RawBuilder<unknown>[] = [];
  const items: RawBuilder<unknown>[] = [];
  orderBy.forEach((o, i) => {
    const alias = sql.id(`o${i}`);
    switch (o.entity) {
      case 'metric':
        joins.push(sql`LEFT JOIN latest_metrics ${alias} ON ${alias}.run_id = r.run_id AND ${alias}.key = ${o.key}`);
        // MLflow's order in both directions: numbers, then NaN, then runs without the metric.
        items.push(sql`CASE WHEN ${alias}.run_id IS NULL THEN 2 WHEN ${alias}.is_nan = 1 THEN 1 ELSE 0 END ASC`);
        items.push(sql`CASE WHEN ${alias}.is_nan = 1 THEN NULL ELSE ${alias}.value END ${direction(o)} NULLS LAST`);
        break;
      case 'param':
      case 'tag':
        joins.push(
          sql`LEFT JOIN ${sql.table(o.entity === 'param' ? 'params' : 'tags')} ${alias} ON ${alias}.run_id = r.run_id AND ${alias}.key = ${o.key}`,
        );
        items.push(sql`${alias}.value ${direction(o)} NULLS LAST`);
        break;
      case 'attribute':
        if (searchFieldRule('runs', 'attribute', o.key) === undefined)
          throw unsupportedOrder(o, `unknown attribute; use one of ${attributeNames('runs')}`);
        items.push(sql`${sql.ref(`r.${o.key}`)} ${direction(o)} NULLS LAST`);
        break;
      case 'dataset':
        throw unsupportedOrder(o, 'runs cannot be ordered by dataset');
    }
  });
  items.push(sql`r.start_time DESC`, sql`r.run_id ASC`);
  return { joins, where, orderBy: items };
}

/**
 * Compiles an experiment search. Order keys: attributes and tags; ties by
 * `creation_time DESC, experiment_id ASC`.
 */
export function compileExperimentSearch(
  filter: FilterExpr | undefined,
  orderBy: readonly OrderBy[],
  dialect: SqlDialect,
): CompiledSearch {
  const where = filter === undefined ? TRUE : combine(filter, (c) => experimentComparison(dialect, c));
  const joins: RawBuilder<unknown>[] = [];
  const items: RawBuilder<unknown>[] = [];
  orderBy.forEach((o, i) => {
    if (o.entity === 'tag') {
      const alias = sql.id(`o${i}`);
      joins.push(
        sql`LEFT JOIN experiment_tags ${alias} ON ${alias}.experiment_id = e.experiment_id AND ${alias}.key = ${o.key}`,
      );
      items.push(sql`${alias}.value ${direction(o)} NULLS LAST`);
    } else if (o.entity === 'attribute' && searchFieldRule('experiments', 'attribute', o.key) !== undefined) {
      items.push(sql`${sql.ref(`e.${o.key}`)} ${direction(o)} NULLS LAST`);
    } else {
      throw unsupportedOrder(o, `experiments are ordered by ${attributeNames('experiments')} or tags.*`);
    }
  });
  items.push(sql`e.creation_time DESC`, sql`e.experiment_id ASC`);
  return { joins, where, orderBy: items };
}
