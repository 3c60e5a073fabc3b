/**
 * The parts of compiling core's filter AST to SQL that every search shares (registry, logged
 * models, traces): AND/OR over the tree, and one comparison of a column with a value.
 */
import { sql } from 'kysely';
import type { RawBuilder, SqlBool } from 'kysely';
import type { Comparison, FilterExpr } from '@trestle/core';
import type { SqlDialect } from './dialects.js';

/** The WHERE condition of `expr`, each comparison compiled by `leaf`; no filter matches everything. */
export function compileFilterTree(
  expr: FilterExpr | undefined,
  leaf: (c: Comparison) => RawBuilder<SqlBool>,
): RawBuilder<SqlBool> {
  if (expr === undefined) return sql<SqlBool>`1 = 1`;
  if (expr.kind === 'comparison') return leaf(expr);
  const parts = expr.operands.map((e) => compileFilterTree(e, leaf));
  return sql<SqlBool>`(${sql.join(parts, sql` ${sql.raw(expr.kind === 'and' ? 'AND' : 'OR')} `)})`;
}

/** `lhs <op> value` for a comparison, with LIKE/ILIKE/IN as the dialect spells them. */
export function compareSql(lhs: RawBuilder<unknown>, c: Comparison, dialect: SqlDialect): RawBuilder<SqlBool> {
  switch (c.op) {
    case 'LIKE':
      return dialect.like(lhs, String(c.value));
    case 'ILIKE':
      return dialect.ilike(lhs, String(c.value));
    case 'IN':
      return dialect.inList(lhs, c.value as string[], 'text');
    case 'NOT IN':
      return sql<SqlBool>`NOT (${dialect.inList(lhs, c.value as string[], 'text')})`;
    default:
      return sql<SqlBool>`${lhs} ${sql.raw(c.op)} ${c.value}`;
  }
}
