import { TrestleError } from './errors.js';

/** One page of results and the token for the next page (absent on the last page). */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/**
 * Opaque page tokens: base64url of a small JSON object. Callers must treat them as opaque;
 * stores decode them with {@link decodePageToken} and reject tampered ones as INVALID_ARGUMENT.
 *
 * @example encodePageToken({ offset: 100 }) // 'eyJvZmZzZXQiOjEwMH0'
 */
export function encodePageToken(state: { offset: number }): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

/** Decodes a page token; `undefined` or empty means the first page (offset 0). */
export function decodePageToken(token: string | undefined | null): { offset: number } {
  if (token === undefined || token === null || token === '') return { offset: 0 };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const offset = (parsed as { offset?: unknown } | undefined)?.offset;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `invalid page token '${token}': pass the next_page_token of a previous page`,
    );
  }
  return { offset };
}
