import type { BooleanExpr, Comparator, Comparison, FilterExpr } from './ast.js';
import type { Field, SearchTarget } from './identifiers.js';
import { comparatorList, readField } from './identifiers.js';
import type { Token } from './lexer.js';
import { TokenStream, isKeyword, parseNumber, tokenize } from './lexer.js';
import type { ParseContext } from './parse-error.js';
import { searchError, syntaxError } from './parse-error.js';

export type { FieldRule, SearchTarget } from './identifiers.js';
export { searchFieldNames, searchFieldRule } from './identifiers.js';

/**
 * Parses a search filter into a tree; an empty or blank filter gives `undefined`.
 *
 * The grammar is MLflow's `comparison (AND comparison)*` plus `OR` and parentheses, with
 * `AND` binding tighter than `OR`; keywords are case-insensitive. Nested `and`/`or` nodes of
 * the same kind are flattened, and a lone comparison is returned as itself. Identifiers,
 * comparators and value types are checked per target (see `identifiers.ts`).
 * A bad filter throws `INVALID_ARGUMENT` whose message names the offending token, its
 * 0-based position and what was expected; `details` holds `{ position, token }`.
 *
 * @example
 * parseFilter("metrics.auc > 0.7 AND params.l2 = '0.1'", 'runs')
 * // { kind: 'and', operands: [
 * //   { kind: 'comparison', entity: 'metric', key: 'auc', op: '>', value: 0.7, position: 0 },
 * //   { kind: 'comparison', entity: 'param', key: 'l2', op: '=', value: '0.1', position: 22 } ] }
 * parseFilter("status = 'FAILED' OR (created > 1717000000000 AND tags.team LIKE 'ml%')", 'runs')
 */
export function parseFilter(
  filter: string | undefined,
  target: SearchTarget,
  options: ParseFilterOptions = {},
): FilterExpr | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  const ctx: ParseContext = { subject: 'filter', prefix: '', details: {} };
  return new FilterParser(new TokenStream(tokenize(filter, ctx)), target, ctx, options.anyValue === true).parse();
}

/** Options of {@link parseFilter}. */
export interface ParseFilterOptions {
  /**
   * Accept any string where a field takes a closed set of values (run status), as MLflow
   * does: such a comparison then matches nothing. Default false: an unknown value is
   * `INVALID_ARGUMENT` naming the values there are.
   */
  anyValue?: boolean;
}

/** Deeper nesting is refused rather than risking the stack on hostile input. */
const MAX_NESTING = 64;

const COMPARATORS: ReadonlyMap<string, Comparator> = new Map<string, Comparator>([
  ['=', '='],
  ['!=', '!='],
  ['>', '>'],
  ['>=', '>='],
  ['<', '<'],
  ['<=', '<='],
  ['LIKE', 'LIKE'],
  ['ILIKE', 'ILIKE'],
  ['IN', 'IN'],
]);

/**
 * Recursive descent over
 *   or      := and (OR and)*
 *   and     := primary (AND primary)*
 *   primary := '(' or ')' | identifier comparator value
 */
class FilterParser {
  private depth = 0;

  constructor(
    private readonly tokens: TokenStream,
    private readonly target: SearchTarget,
    private readonly ctx: ParseContext,
    private readonly anyValue = false,
  ) {}

  parse(): FilterExpr {
    const expr = this.parseOr();
    const rest = this.tokens.peek();
    if (rest.kind !== 'eof') {
      const unmatched = rest.kind === ')' ? " (this ')' has no matching '(')" : '';
      throw syntaxError(this.ctx, rest, `AND, OR or the end of the filter${unmatched}`);
    }
    return expr;
  }

  private parseOr(): FilterExpr {
    const operands = [this.parseAnd()];
    while (isKeyword(this.tokens.peek(), 'OR')) {
      this.tokens.next();
      operands.push(this.parseAnd());
    }
    return combine('or', operands);
  }

  private parseAnd(): FilterExpr {
    const operands = [this.parsePrimary()];
    while (isKeyword(this.tokens.peek(), 'AND')) {
      this.tokens.next();
      operands.push(this.parsePrimary());
    }
    return combine('and', operands);
  }

  private parsePrimary(): FilterExpr {
    const open = this.tokens.peek();
    if (open.kind !== '(') return this.parseComparison();

    if (++this.depth > MAX_NESTING) {
      throw searchError(
        this.ctx,
        `'(' at position ${open.position} nests parentheses deeper than ${MAX_NESTING} levels`,
        open,
      );
    }
    this.tokens.next();
    const inner = this.parseOr();
    const close = this.tokens.peek();
    if (close.kind !== ')') {
      throw syntaxError(this.ctx, close, `AND, OR or ')' to close the '(' at position ${open.position}`);
    }
    this.tokens.next();
    this.depth -= 1;
    return inner;
  }

  private parseComparison(): Comparison {
    const field = readField(this.tokens, this.target, this.ctx, 'filter');
    const { op, token } = this.readComparator(field);
    if (!field.rule.comparators.includes(op)) {
      const hint =
        (op === 'IN' || op === 'NOT IN') && this.target === 'runs'
          ? ' (IN and NOT IN work only on attributes.run_id and datasets.*)'
          : '';
      throw searchError(
        this.ctx,
        `${field.label} only support${field.plural ? '' : 's'} ${comparatorList(field.rule)}; ` +
          `got ${token.text} at position ${token.position}${hint}`,
        token,
      );
    }
    const value = op === 'IN' || op === 'NOT IN' ? this.readList(field) : this.readScalar(field, op);
    return { kind: 'comparison', entity: field.entity, key: field.key, op, value, position: field.position };
  }

  private readComparator(field: Field): { op: Comparator; token: Token } {
    const token = this.tokens.peek();
    if (isKeyword(token, 'NOT')) {
      this.tokens.next();
      const next = this.tokens.peek();
      if (!isKeyword(next, 'IN')) throw syntaxError(this.ctx, next, "IN after NOT (only 'NOT IN' exists)");
      this.tokens.next();
      return { op: 'NOT IN', token: { ...token, text: `${token.text} ${next.text}`, end: next.end } };
    }
    const op =
      token.kind === 'op'
        ? COMPARATORS.get(token.text)
        : token.kind === 'word'
          ? COMPARATORS.get(token.text.toUpperCase())
          : undefined;
    if (op === undefined) {
      throw syntaxError(this.ctx, token, `a comparator (${comparatorList(field.rule)})`);
    }
    this.tokens.next();
    return { op, token };
  }

  private readScalar(field: Field, op: Comparator): number | string {
    const token = this.tokens.peek();
    if (field.rule.value === 'number') {
      const number = token.kind === 'word' ? parseNumber(token.text) : undefined;
      if (number !== undefined) {
        this.tokens.next();
        return number;
      }
      if (token.kind === 'string') {
        throw searchError(
          this.ctx,
          `${field.label} compare${field.plural ? '' : 's'} with numbers; got the string ${token.text} ` +
            `at position ${token.position} (remove the quotes)`,
          token,
        );
      }
      throw syntaxError(this.ctx, token, 'a number such as 0.92, -1 or 1e-3');
    }

    const value = this.readString(field);
    if (
      !this.anyValue &&
      field.rule.oneOf !== undefined &&
      (op === '=' || op === '!=') &&
      !field.rule.oneOf.includes(value)
    ) {
      throw searchError(
        this.ctx,
        `invalid value ${token.text} for ${field.label} at position ${token.position}; ` +
          `expected one of ${field.rule.oneOf.join(', ')}${upperHint(field.rule.oneOf, value)}`,
        token,
      );
    }
    return value;
  }

  private readString(field: Field): string {
    const token = this.tokens.peek();
    if (token.kind === 'string' && token.quote !== '`') {
      this.tokens.next();
      return token.value;
    }
    if (token.kind === 'string') {
      throw searchError(
        this.ctx,
        `backticks quote keys, not values: ${token.text} at position ${token.position}; write '…' or "…"`,
        token,
      );
    }
    if (token.kind === 'word' && parseNumber(token.text) !== undefined) {
      throw searchError(
        this.ctx,
        `${field.label} compare${field.plural ? '' : 's'} with quoted strings; got the number ${token.text} ` +
          `at position ${token.position} (write '${token.text}')`,
        token,
      );
    }
    throw syntaxError(this.ctx, token, `a quoted string ('…' or "…")`);
  }

  private readList(field: Field): string[] {
    const open = this.tokens.peek();
    if (open.kind !== '(') throw syntaxError(this.ctx, open, "a parenthesised list such as ('a', 'b')");
    this.tokens.next();
    if (this.tokens.peek().kind === ')') {
      throw syntaxError(this.ctx, this.tokens.peek(), 'a quoted string: an IN list cannot be empty');
    }
    const values = [this.readString(field)];
    for (;;) {
      const next = this.tokens.next();
      if (next.kind === ')') return values;
      if (next.kind !== ',') {
        throw syntaxError(this.ctx, next, `',' or ')' to close the list opened at position ${open.position}`);
      }
      values.push(this.readString(field));
    }
  }
}

function upperHint(allowed: readonly string[], value: string): string {
  const upper = value.toUpperCase();
  return allowed.includes(upper) ? ` (values are upper-case: '${upper}')` : '';
}

/** Joins operands under one node, splicing in children of the same kind. */
function combine(kind: BooleanExpr['kind'], operands: FilterExpr[]): FilterExpr {
  const [only] = operands;
  if (operands.length === 1 && only !== undefined) return only;
  return { kind, operands: operands.flatMap((o) => (o.kind === kind ? o.operands : [o])) };
}
