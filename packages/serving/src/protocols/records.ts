/** `POST /predict`: JSON records for people who just want to curl it. */
import { TrestleError } from '@trestle/core';
import type { Batch } from '../predictor.js';
import type { InputSchema } from '../signature.js';

/** A record (one row), an array of records, or `{"records": [...]}`. */
export function decodePredict(schema: InputSchema, body: unknown): Batch {
  if (Array.isArray(body)) return schema.fromRecords(body);
  if (body !== null && typeof body === 'object') {
    const obj = body as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === 'records') return schema.fromRecords(obj['records']);
    return schema.fromRecords([obj]);
  }
  throw new TrestleError(
    'INVALID_ARGUMENT',
    `send one row as a JSON object ({"${schema.names[0]!}": …}) or several as an array of objects`,
  );
}
