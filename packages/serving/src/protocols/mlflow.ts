/**
 * MLflow's scoring protocol (`POST /invocations`): a JSON object with exactly one of
 * `dataframe_split`, `dataframe_records`, `instances`, `inputs` (plus optional `params`),
 * or a `text/csv` body. See `inference-protocols.md`.
 */
import { TrestleError } from '@trestle/core';
import type { Batch } from '../predictor.js';
import type { InputSchema } from '../signature.js';

const KEYS = ['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const;

const PROTOCOL_HINT =
  'The scoring protocol changed in MLflow 2.0: send a JSON object with exactly one of the keys ' +
  `${KEYS.join(', ')} (for example {"dataframe_records": [{"col": 1}]}), or a text/csv body.`;

/** Decodes a parsed JSON body of `/invocations`. */
export function decodeInvocation(schema: InputSchema, body: unknown): Batch {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TrestleError('INVALID_ARGUMENT', PROTOCOL_HINT);
  }
  const obj = body as Record<string, unknown>;
  const present = KEYS.filter((k) => k in obj);
  if (present.length !== 1) throw new TrestleError('INVALID_ARGUMENT', PROTOCOL_HINT);
  for (const k of Object.keys(obj)) {
    if (k !== present[0] && k !== 'params') {
      throw new TrestleError('INVALID_ARGUMENT', `unexpected key '${k}'. ${PROTOCOL_HINT}`);
    }
  }
  const key = present[0]!;
  const value = obj[key];
  switch (key) {
    case 'dataframe_split': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          'dataframe_split must be an object {"columns": [...], "data": [[...]]}',
        );
      }
      const split = value as Record<string, unknown>;
      return schema.fromSplit(split['columns'], split['data']);
    }
    case 'dataframe_records':
      return schema.fromRecords(value, 'dataframe_records');
    case 'instances':
    case 'inputs':
      return decodeTensorish(schema, value, key);
  }
}

/** TF-Serving's `instances` (rows) and `inputs` (columns): lists of rows, of records, of scalars, or an object of columns. */
function decodeTensorish(schema: InputSchema, value: unknown, key: string): Batch {
  if (Array.isArray(value)) {
    const first: unknown = value[0];
    if (value.length === 0) return schema.fromMatrix(value, undefined, key);
    if (Array.isArray(first)) return schema.fromMatrix(value, undefined, key);
    if (first !== null && typeof first === 'object') return schema.fromRecords(value, key);
    // A list of scalars is one column, for a single-input model.
    if (schema.names.length === 1) return schema.fromColumns({ [schema.names[0]!]: value }, key);
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${key} is a list of scalars but the model takes ${schema.names.length} columns (${schema.names.join(', ')}); send a list of rows or of objects`,
    );
  }
  return schema.fromColumns(value, key);
}
