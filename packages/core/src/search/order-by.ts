import type { OrderBy } from './ast.js';
import type { SearchTarget } from './identifiers.js';
import { readField } from './identifiers.js';
import { TokenStream, isKeyword, tokenize } from './lexer.js';
import type { ParseContext } from './parse-error.js';
import { syntaxError } from './parse-error.js';

/**
 * Parses `order_by` clauses, each `<identifier> [ASC|DESC]` (case-insensitive, ASC by
 * default), with the same identifiers as filters: entity prefixes, quoted keys
 * (`metrics."model class"`) and aliases (`created` → `start_time`). Runs order by metrics,
 * params, tags and attributes (not datasets); experiments by `name`, `creation_time`,
 * `last_update_time` and `experiment_id`. `undefined` or `[]` gives `[]`.
 * A bad clause throws `INVALID_ARGUMENT` naming the clause; `details` holds
 * `{ clause, index, position, token }`, `position` being an offset into the clause.
 *
 * @example
 * parseOrderBy(['metrics.auc DESC', 'created'], 'runs')
 * // [{ entity: 'metric', key: 'auc', direction: 'DESC' },
 * //  { entity: 'attribute', key: 'start_time', direction: 'ASC' }]
 */
export function parseOrderBy(clauses: readonly string[] | undefined, target: SearchTarget): OrderBy[] {
  return (clauses ?? []).map((clause, index) => parseClause(clause, index, target));
}

function parseClause(clause: string, index: number, target: SearchTarget): OrderBy {
  const ctx: ParseContext = {
    subject: `order_by clause '${clause}'`,
    prefix: `invalid order_by clause '${clause}': `,
    details: { clause, index },
  };
  const tokens = new TokenStream(tokenize(clause, ctx));
  const field = readField(tokens, target, ctx, 'order_by');

  const word = tokens.peek();
  const hasDirection = isKeyword(word, 'ASC') || isKeyword(word, 'DESC');
  if (hasDirection) tokens.next();
  const rest = tokens.peek();
  if (rest.kind !== 'eof') {
    throw syntaxError(ctx, rest, hasDirection ? 'the end of the clause' : 'ASC, DESC or the end of the clause');
  }
  return { entity: field.entity, key: field.key, direction: isKeyword(word, 'DESC') ? 'DESC' : 'ASC' };
}
