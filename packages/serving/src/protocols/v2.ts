/**
 * The Open Inference Protocol (KServe V2) REST: request tensors → a batch, outputs → tensors.
 *
 * Tabular models take one tensor per signature column (`shape [n]` or `[n, 1]`), or one
 * `[n, k]` tensor holding all k columns in signature order (numeric models).
 */
import { TrestleError } from '@trestle/core';
import type { Batch, Outputs, Predictor } from '../predictor.js';
import type { InputSchema, ValueKind } from '../signature.js';

const NUMERIC = new Set([
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
]);
const DATATYPES = new Set([...NUMERIC, 'BOOL', 'BYTES']);

/** The V2 datatype of a signature kind. */
function datatypeOf(kind: ValueKind): string {
  return kind === 'string' ? 'BYTES' : kind === 'boolean' ? 'BOOL' : kind === 'integer' ? 'INT64' : 'FP64';
}

function bad(message: string, details: Record<string, unknown> = {}): TrestleError {
  return new TrestleError('INVALID_ARGUMENT', message, details);
}

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

function flatten(data: unknown): unknown[] {
  if (!Array.isArray(data)) throw bad('tensor data must be an array (row-major, flat or nested)');
  if (!data.some(Array.isArray)) return data;
  return data.flat(Infinity) as unknown[];
}

function readTensor(raw: unknown, i: number): Tensor {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw bad(`inputs[${i}] must be a tensor object {name, shape, datatype, data}`);
  const t = raw as Record<string, unknown>;
  const { name, shape, datatype } = t;
  if (typeof name !== 'string') throw bad(`inputs[${i}].name must be a string`);
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
    throw bad(`input '${name}': shape must be a non-empty array of non-negative integers, e.g. [2] or [2, 1]`, {
      column: name,
    });
  }
  if (typeof datatype !== 'string' || !DATATYPES.has(datatype)) {
    throw bad(`input '${name}': datatype must be one of ${[...DATATYPES].join(', ')}`, { column: name });
  }
  const data = flatten(t['data']);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw bad(
      `input '${name}': shape [${(shape as number[]).join(', ')}] holds ${size} values but data has ${data.length}`,
      { column: name },
    );
  }
  return { name, shape: shape as number[], datatype, data };
}

function checkDatatype(schema: InputSchema, c: number, datatype: string): void {
  const kind = schema.kinds[c]!;
  const ok =
    kind === 'string'
      ? datatype === 'BYTES'
      : kind === 'boolean'
        ? datatype === 'BOOL' || NUMERIC.has(datatype)
        : NUMERIC.has(datatype);
  if (!ok) {
    const name = schema.names[c]!;
    throw bad(
      `input '${name}' has datatype ${datatype}; the model's column '${name}' is ${schema.types[c]!} (send ${datatypeOf(kind)})`,
      {
        column: name,
      },
    );
  }
}

/** Decodes an `$inference_request` body. */
export function decodeInferRequest(
  schema: InputSchema,
  body: unknown,
): { batch: Batch; id?: string; outputs?: string[] } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw bad('the body must be an inference request object with "inputs"');
  const req = body as Record<string, unknown>;
  if (!Array.isArray(req['inputs']) || req['inputs'].length === 0)
    throw bad('"inputs" must be a non-empty array of tensors');
  const tensors = (req['inputs'] as unknown[]).map(readTensor);
  const result: { batch: Batch; id?: string; outputs?: string[] } = { batch: decodeTensors(schema, tensors) };
  if (req['id'] !== undefined) {
    if (typeof req['id'] !== 'string') throw bad('"id" must be a string');
    result.id = req['id'];
  }
  if (req['outputs'] !== undefined) {
    if (!Array.isArray(req['outputs'])) throw bad('"outputs" must be an array of {name}');
    result.outputs = (req['outputs'] as unknown[]).map((o, i) => {
      const name = o !== null && typeof o === 'object' ? (o as Record<string, unknown>)['name'] : undefined;
      if (typeof name !== 'string') throw bad(`outputs[${i}].name must be a string`);
      return name;
    });
  }
  return result;
}

function decodeTensors(schema: InputSchema, tensors: Tensor[]): Batch {
  const first = tensors[0]!;
  // One [n, k] tensor with all columns in signature order.
  if (
    tensors.length === 1 &&
    schema.position(first.name) === undefined &&
    first.shape.length === 2 &&
    first.shape[1] === schema.names.length &&
    schema.names.length > 1
  ) {
    schema.names.forEach((_, c) => checkDatatype(schema, c, first.datatype));
    const n = first.shape[0]!;
    const k = schema.names.length;
    const rows: unknown[][] = new Array<unknown[]>(n);
    for (let r = 0; r < n; r++) rows[r] = first.data.slice(r * k, r * k + k);
    return schema.fromMatrix(rows, undefined, `input '${first.name}'`);
  }
  const byName = new Map<string, Tensor>();
  for (const t of tensors) {
    const c = schema.position(t.name);
    if (c === undefined) throw schema.unknownColumn(t.name);
    if (byName.has(t.name)) throw bad(`input '${t.name}' is given twice`, { column: t.name });
    if (t.shape.length > 2 || (t.shape.length === 2 && t.shape[1] !== 1)) {
      throw bad(`input '${t.name}': shape must be [n] or [n, 1] (one value per row), got [${t.shape.join(', ')}]`, {
        column: t.name,
      });
    }
    checkDatatype(schema, c, t.datatype);
    byName.set(t.name, t);
  }
  const rows = first.shape[0]!;
  for (const t of tensors) {
    if (t.shape[0] !== rows)
      throw bad(`input '${t.name}' has ${t.shape[0]} rows but '${first.name}' has ${rows}`, { column: t.name });
  }
  const columns: Record<string, unknown[]> = {};
  for (const [name, t] of byName) {
    // BOOL tensors carry true/false; the schema stores them as 0/1.
    columns[name] = t.data;
  }
  return schema.fromColumns(columns, 'inputs');
}

/** Encodes an `$inference_response`. */
export function encodeInferResponse(
  predictor: Predictor,
  outputs: Outputs,
  id: string | undefined,
  wanted: string[] | undefined,
): unknown {
  const names = wanted ?? Object.keys(outputs);
  const tensors = names.map((name) => {
    const col = outputs[name];
    if (col === undefined) throw bad(`unknown output '${name}'; the model gives ${Object.keys(outputs).join(', ')}`);
    const isText = !(col instanceof Float64Array);
    return {
      name,
      shape: [col.length],
      datatype: isText ? 'BYTES' : 'FP64',
      data: Array.from(col as ArrayLike<number | string>),
    };
  });
  const res: Record<string, unknown> = { model_name: predictor.name, model_version: predictor.version };
  if (id !== undefined) res['id'] = id;
  res['outputs'] = tensors;
  return res;
}

/** `$metadata_model_response`. */
export function modelMetadata(predictor: Predictor, schema: InputSchema, versions: string[]): unknown {
  return {
    name: predictor.name,
    versions,
    platform: predictor.platform,
    inputs: schema.names.map((name, c) => ({ name, datatype: datatypeOf(schema.kinds[c]!), shape: [-1] })),
    outputs: predictor.signature.outputs.map((o) => ({
      name: o.name,
      datatype: o.type === 'string' ? 'BYTES' : 'FP64',
      shape: [-1],
    })),
  };
}
