import { TrestleError } from '../errors.js';

/** Where the parser is, so every error can name what it was reading. */
export interface ParseContext {
  /** Names the text in syntax errors: `filter`, or `order_by clause 'x DESC'`. */
  readonly subject: string;
  /** Prefixed to other errors so they name the clause too (empty for filters). */
  readonly prefix: string;
  /** Merged into every error's details (e.g. the clause and its index). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** A piece of source text; `text` is empty at the end of the input. */
export interface Located {
  readonly position: number;
  readonly text: string;
}

const MAX_SHOWN = 40;

/** Quotes a token for a message, unless it already is a quoted string; long tokens are cut. */
export function showToken(text: string): string {
  const cut = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return /^['"`]/.test(cut) ? cut : `'${cut}'`;
}

/**
 * The grammar did not allow `at` here.
 *
 * @example syntaxError(ctx, token, 'a comparator (=, !=)')
 * // invalid filter at position 17 near 'BETWEEN': expected a comparator (=, !=)
 */
export function syntaxError(ctx: ParseContext, at: Located, expected: string): TrestleError {
  const where =
    at.text === ''
      ? `at position ${at.position} (end of input)`
      : `at position ${at.position} near ${showToken(at.text)}`;
  return invalidArgument(ctx, `invalid ${ctx.subject} ${where}: expected ${expected}`, at);
}

/**
 * Any other bad input at `at` (the message names the token and its position itself);
 * order_by errors get the clause put in front.
 *
 * @example searchError(ctx, `unknown attribute 'foo' at position 0; …`, token)
 */
export function searchError(ctx: ParseContext, message: string, at: Located): TrestleError {
  return invalidArgument(ctx, ctx.prefix + message, at);
}

function invalidArgument(ctx: ParseContext, message: string, at: Located): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', message, { ...ctx.details, position: at.position, token: at.text });
}
