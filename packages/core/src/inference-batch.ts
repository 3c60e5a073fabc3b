/**
 * Logged predictions as columns (an {@link InferenceBatch}): how serving ships them and how the
 * store keeps them, one batch per shipment. Row objects (`{requestId, time, inputs, outputs}`)
 * cost a key string and an object per value to build, parse and validate; a batch is one array
 * per field, which JSON encodes and decodes several times faster.
 */
import type { InferenceBatch, InferenceRecord } from './ports/monitoring-store.js';
import { TrestleError } from './errors.js';

/**
 * Turns row records into one batch. A field missing in some rows (records may differ in their
 * inputs) is null there.
 *
 * @example
 * inferenceBatchOf([{ requestId: 'r1', time: 1, inputs: { x: 2 }, outputs: { y: 0.5 } }]);
 * // { requestIds: ['r1'], times: [1], inputs: { x: [2] }, outputs: { y: [0.5] } }
 */
export function inferenceBatchOf(records: readonly InferenceRecord[]): InferenceBatch {
  const n = records.length;
  const columns = (pick: (r: InferenceRecord) => Record<string, unknown>): Record<string, unknown[]> => {
    const out: Record<string, unknown[]> = {};
    for (let i = 0; i < n; i++) {
      for (const [name, value] of Object.entries(pick(records[i]!))) {
        // Own property only: a column named `__proto__` or `constructor` is data.
        let col = Object.hasOwn(out, name) ? out[name] : undefined;
        if (col === undefined) {
          col = new Array<unknown>(n).fill(null);
          Object.defineProperty(out, name, { value: col, enumerable: true, writable: true, configurable: true });
        }
        col[i] = value ?? null;
      }
    }
    return out;
  };
  const batch: InferenceBatch = {
    requestIds: records.map((r) => r.requestId),
    times: records.map((r) => r.time),
    inputs: columns((r) => r.inputs),
    outputs: columns((r) => r.outputs),
  };
  if (records.some((r) => r.latencyMs !== undefined)) batch.latencyMs = records.map((r) => r.latencyMs ?? null);
  if (records.some((r) => r.key !== undefined)) batch.keys = records.map((r) => r.key ?? null);
  return batch;
}

/**
 * Checks that every column of a batch has one value per request id (the shapes of the values are
 * the wire schema's business); throws INVALID_ARGUMENT naming the first column that does not.
 */
export function checkInferenceBatch(batch: InferenceBatch): void {
  const n = batch.requestIds.length;
  const check = (what: string, values: readonly unknown[] | undefined): void => {
    if (values !== undefined && values.length !== n) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `columns.${what} has ${values.length} values but columns.requestIds has ${n}; send one value per prediction (null where there is none)`,
      );
    }
  };
  check('times', batch.times);
  check('latencyMs', batch.latencyMs);
  check('keys', batch.keys);
  for (const [name, values] of Object.entries(batch.inputs)) check(`inputs.${name}`, values);
  for (const [name, values] of Object.entries(batch.outputs)) check(`outputs.${name}`, values);
}

/** The values of row `i` of some columns, as one object (for readers of a stored batch). */
export function inferenceRow(columns: Record<string, readonly unknown[]>, i: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(columns)) {
    Object.defineProperty(out, name, {
      value: columns[name]![i] ?? null,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
