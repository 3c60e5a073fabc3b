import type { ParseContext } from './parse-error.js';
import { searchError, showToken } from './parse-error.js';

/**
 * `word`: an unquoted run such as `metrics.accuracy`, `0.92`, `AND` (the parser decides which);
 * `string`: text in `'…'`, `"…"` or `` `…` ``; `op`: a run of `= ! < >`.
 */
type TokenKind = 'word' | 'string' | 'op' | '(' | ')' | ',' | 'eof';

type Quote = "'" | '"' | '`';

/** One token; `position`/`end` are 0-based offsets into the source, `text` is the source slice. */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** The unescaped content of a string; otherwise the same as `text`. */
  readonly value: string;
  /** Set on strings only. */
  readonly quote?: Quote;
  readonly position: number;
  readonly end: number;
}

const PUNCTUATION: ReadonlySet<string> = new Set(['(', ')', ',']);
const OPERATOR_CHARS: ReadonlySet<string> = new Set(['=', '!', '<', '>']);
const QUOTES: ReadonlySet<string> = new Set(["'", '"', '`']);
const WHITESPACE = /\s/;

/**
 * Splits a filter or order_by clause into tokens, ending with one `eof` token.
 * An unquoted word runs up to whitespace, a quote, a parenthesis, a comma or a comparator
 * character, as MLflow reads identifiers, so `tags.mlflow.source.git.commit` and `val-loss`
 * are single words. Inside quotes, a doubled quote or a backslash escapes the quote
 * (`'it''s'`, `'it\'s'`) and `\\` is one backslash; any other backslash is kept, so `\%`
 * and `\_` still reach LIKE as escapes.
 *
 * @example tokenize("a = 'x'", ctx).map((t) => t.kind) // ['word', 'op', 'string', 'eof']
 */
export function tokenize(source: string, ctx: ParseContext): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source.charAt(i);
    const start = i;
    if (WHITESPACE.test(ch)) {
      i += 1;
    } else if (PUNCTUATION.has(ch)) {
      i += 1;
      tokens.push({ kind: ch as '(' | ')' | ',', text: ch, value: ch, position: start, end: i });
    } else if (OPERATOR_CHARS.has(ch)) {
      while (i < source.length && OPERATOR_CHARS.has(source.charAt(i))) i += 1;
      const text = source.slice(start, i);
      tokens.push({ kind: 'op', text, value: text, position: start, end: i });
    } else if (QUOTES.has(ch)) {
      tokens.push(readQuoted(source, start, ch as Quote, ctx));
      i = tokens[tokens.length - 1]?.end ?? source.length;
    } else {
      while (i < source.length && isWordChar(source.charAt(i))) i += 1;
      const text = source.slice(start, i);
      tokens.push({ kind: 'word', text, value: text, position: start, end: i });
    }
  }
  tokens.push({ kind: 'eof', text: '', value: '', position: source.length, end: source.length });
  return tokens;
}

function isWordChar(ch: string): boolean {
  return !WHITESPACE.test(ch) && !PUNCTUATION.has(ch) && !OPERATOR_CHARS.has(ch) && !QUOTES.has(ch);
}

function readQuoted(source: string, start: number, quote: Quote, ctx: ParseContext): Token {
  let value = '';
  let i = start + 1;
  while (i < source.length) {
    const ch = source.charAt(i);
    const next = source.charAt(i + 1);
    if (ch === '\\' && (next === quote || next === '\\')) {
      value += next;
      i += 2;
    } else if (ch === quote && next === quote) {
      value += quote;
      i += 2;
    } else if (ch === quote) {
      return { kind: 'string', text: source.slice(start, i + 1), value, quote, position: start, end: i + 1 };
    } else {
      value += ch;
      i += 1;
    }
  }
  const at = { position: start, text: source.slice(start) };
  throw searchError(
    ctx,
    `unterminated string ${showToken(at.text)} at position ${start}; add the closing ${quote}`,
    at,
  );
}

/** A cursor over tokens; reading past the end keeps returning the `eof` token. */
export class TokenStream {
  private index = 0;
  private readonly eof: Token;

  constructor(private readonly tokens: readonly Token[]) {
    const last = tokens[tokens.length - 1];
    this.eof = last?.kind === 'eof' ? last : { kind: 'eof', text: '', value: '', position: 0, end: 0 };
  }

  /** The token `ahead` places after the current one, without consuming anything. */
  peek(ahead = 0): Token {
    return this.tokens[this.index + ahead] ?? this.eof;
  }

  /** Consumes and returns the current token. */
  next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length) this.index += 1;
    return token;
  }
}

/** True when `token` is the unquoted keyword `keyword` (keywords are case-insensitive). */
export function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === 'word' && token.text.toUpperCase() === keyword;
}

const RESERVED: ReadonlySet<string> = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'ILIKE', 'ASC', 'DESC']);

/** True for unquoted words that are grammar keywords and so cannot start an identifier. */
export function isReserved(token: Token): boolean {
  return token.kind === 'word' && RESERVED.has(token.text.toUpperCase());
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The value of a numeric literal (`3`, `-0.5`, `1e-3`, `.5`), or undefined if `text` is not one. */
export function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
