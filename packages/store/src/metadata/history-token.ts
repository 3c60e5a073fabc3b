/**
 * Page tokens of metric histories: the position of the last point returned (keyset paging),
 * so page N costs the same as page 1 on a 1,000,000-point history. Opaque base64url JSON.
 */
import { TrestleError } from '@trestle/core';

/** Where a history page ended, in the order of the history's primary key. */
export interface HistoryCursor {
  step: number;
  timestamp: number;
  /** Stored value (0 for NaN); may be ±Infinity. */
  value: number;
  isNan: 0 | 1;
}

/** @example encodeHistoryToken({ step: 99, timestamp: 1717000000000, value: 0.5, isNan: 0 }) */
export function encodeHistoryToken(cursor: HistoryCursor): string {
  const state = { h: [cursor.step, cursor.timestamp, String(cursor.value), cursor.isNan] };
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

/** Decodes a token from {@link encodeHistoryToken}; anything else is `INVALID_ARGUMENT`. */
export function decodeHistoryToken(token: string): HistoryCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const h = (parsed as { h?: unknown } | undefined)?.h;
  if (Array.isArray(h) && h.length === 4) {
    const [step, timestamp, value, isNan] = h as unknown[];
    const v = typeof value === 'string' ? Number(value) : NaN;
    if (
      Number.isSafeInteger(step) &&
      Number.isSafeInteger(timestamp) &&
      !Number.isNaN(v) &&
      (isNan === 0 || isNan === 1)
    ) {
      return { step: step as number, timestamp: timestamp as number, value: v, isNan };
    }
  }
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `invalid metric history page token '${token}': pass the next_page_token of the previous history page`,
  );
}
