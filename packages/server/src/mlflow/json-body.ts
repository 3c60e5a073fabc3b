import { MlflowProtocolError } from './errors.js';

/**
 * The bare literals Python's `json.dumps` writes for non-finite floats (`allow_nan=True` is its
 * default), quoted into the string forms MLflow's proto JSON parser accepts for doubles.
 */
const NON_FINITE_LITERALS = ['-Infinity', 'Infinity', 'NaN'] as const;

/**
 * Parses an MLflow request body. Strict JSON first; if that fails, once more after quoting
 * bare `NaN`, `Infinity` and `-Infinity` outside strings (as Python's `json.dumps` writes
 * them), so a metric value of NaN arrives as the string `"NaN"` that the double readers
 * accept. A blank body is `undefined` (MLflow treats it as `{}`). Anything else that is not
 * JSON is `MALFORMED_REQUEST`.
 *
 * @example
 * parseJsonBody('{"value": NaN}'); // { value: 'NaN' }
 * parseJsonBody('');               // undefined
 * parseJsonBody('{"value": ');     // throws MlflowProtocolError MALFORMED_REQUEST
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (strictError) {
    const relaxed = quoteNonFiniteLiterals(text);
    if (relaxed !== text) {
      try {
        return JSON.parse(relaxed) as unknown;
      } catch {
        // Report the error of the text as sent, below.
      }
    }
    const why = strictError instanceof Error ? strictError.message : String(strictError);
    throw new MlflowProtocolError(
      'MALFORMED_REQUEST',
      `The request body is not valid JSON (${why}); send a JSON object such as {"run_id": "…"}.`,
    );
  }
}

/**
 * Wraps bare `NaN`, `Infinity` and `-Infinity` tokens that stand outside JSON strings in quotes.
 *
 * @example quoteNonFiniteLiterals('[NaN, "NaN", -Infinity]') // '["NaN", "NaN", "-Infinity"]'
 */
function quoteNonFiniteLiterals(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '"') {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    const literal = NON_FINITE_LITERALS.find((word) => text.startsWith(word, i) && !isWordChar(text[i + word.length]));
    if (literal !== undefined && !isWordChar(text[i - 1])) {
      out += `"${literal}"`;
      i += literal.length;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

// Index just past the closing quote of the string starting at `start` (or the end of the text).
function endOfString(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

function isWordChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_.+-]/.test(ch);
}
