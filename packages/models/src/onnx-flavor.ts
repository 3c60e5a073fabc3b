/**
 * The `onnx` flavor: predictions through onnxruntime-node (loaded only when an ONNX model
 * is opened). Inputs are fed the way MLflow's pyfunc feeds them: one rank-1 tensor per
 * column named like the column, or, for a graph with a single input that no column is
 * named after, all (numeric) columns as one `[N, columns]` matrix in signature order.
 */
import { TrestleError } from '@trestle/core';
import type { Column } from '@trestle/tables';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type * as OrtModule from 'onnxruntime-node';
import type { Task } from './manifest.js';
import { taskOutputs, type Predictions } from './predictions.js';
import type { ModelInput, Signature } from './signature.js';

type Ort = typeof OrtModule;
type TensorMeta = Extract<InferenceSession.ValueMetadata, { isTensor: true }>;

let ort: Promise<Ort> | undefined;
function loadOrt(): Promise<Ort> {
  ort ??= import('onnxruntime-node');
  return ort;
}

/** An ONNX graph ready to predict validated input. */
export interface OnnxModel {
  predict(input: ModelInput): Promise<Predictions>;
  /** Names and element types of the graph's inputs and outputs. */
  readonly graph: {
    inputs: { name: string; type: string; shape: readonly (number | string)[] }[];
    outputs: { name: string; type: string }[];
  };
  close(): Promise<void>;
}

/** How to read the graph's answers. */
export interface OnnxOutputOptions {
  readonly task: Task;
  readonly classes?: readonly string[];
  /**
   * Graph output with the scores; default the first float output. A name ending in `*` is a
   * prefix: one `[N]` output per class, `<prefix><class>`, in the order of `classes`.
   */
  readonly scores?: string;
  /** `minimum`: feed an integer input's minimum (−2⁶³, −2³¹) for a missing value, which the graph reads as missing. */
  readonly integerMissing?: 'minimum';
}

/**
 * Opens an ONNX graph and checks that the signature can feed every graph input.
 *
 * @throws TrestleError `INVALID_ARGUMENT` when the bytes are not a model onnxruntime can
 *   load, or a graph input has no column to come from.
 * @example
 * const model = await openOnnxModel(await readFile('model.onnx'), signature, { task: 'binary-classification', classes: ['0', '1'] });
 */
export async function openOnnxModel(
  bytes: Uint8Array,
  signature: Signature,
  options: OnnxOutputOptions,
  where = 'model.onnx',
): Promise<OnnxModel> {
  const { InferenceSession, Tensor } = await loadOrt();
  let session: InferenceSession;
  try {
    session = await InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  } catch (err) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} does not load as an ONNX model: ${oneLine((err as Error).message)}`,
      {},
      { cause: err },
    );
  }
  const inputs = session.inputMetadata.map((m) => tensorMeta(m, where, 'input'));
  const outputs = session.outputMetadata;
  const byName = new Map(signature.inputs.map((s) => [s.name, s]));
  const matrix = inputs.length === 1 && !byName.has(inputs[0]!.name);
  if (matrix) {
    const bad = signature.inputs.find((s) => s.type === 'string');
    if (bad !== undefined) {
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `${where} takes one tensor '${inputs[0]!.name}', which can only be fed numeric columns, but column '${bad.name}' is a string; name the graph inputs after the columns`,
      );
    }
  } else {
    for (const m of inputs) {
      if (!byName.has(m.name)) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `${where} has an input '${m.name}' that the signature does not name (signature inputs: ${signature.inputs.map((s) => s.name).join(', ')})`,
          { input: m.name },
        );
      }
    }
  }
  const floatOutputs = outputs.filter((o) => o.isTensor && (o.type === 'float32' || o.type === 'float64'));
  const scoresName = options.scores ?? floatOutputs[0]?.name;
  // The outputs read for the scores: one, or one per class (`probability_*`).
  const scoreNames =
    scoresName?.endsWith('*') === true
      ? (options.classes ?? []).map((c) => `${scoresName.slice(0, -1)}${c}`)
      : scoresName === undefined
        ? []
        : [scoresName];
  const missingOutput = scoreNames.find((name) => !outputs.some((o) => o.name === name));
  if (options.task !== 'other' && (scoreNames.length === 0 || missingOutput !== undefined)) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} has no output '${missingOutput ?? scoresName ?? '(a float tensor)'}' with the model's scores (outputs: ${outputs.map((o) => o.name).join(', ')})`,
    );
  }
  const scores = (results: InferenceSession.ReturnType, n: number): Float64Array => {
    if (scoreNames.length === 1) return Float64Array.from((results[scoreNames[0]!] as Tensor).data as Float32Array);
    const k = scoreNames.length;
    const out = new Float64Array(n * k);
    scoreNames.forEach((name, j) => {
      const data = (results[name] as Tensor).data as Float32Array;
      for (let i = 0; i < n; i++) out[i * k + j] = data[i]!;
    });
    return out;
  };

  const feed = (input: ModelInput): Record<string, Tensor> => {
    const n = input.rows;
    if (matrix) {
      const m = inputs[0]!;
      const k = signature.inputs.length;
      const data = m.type === 'float64' ? new Float64Array(n * k) : new Float32Array(n * k);
      signature.inputs.forEach((s, j) => {
        const values = (input.columns[s.name] as Extract<Column, { values: Float64Array }>).values;
        for (let i = 0, at = j; i < n; i++, at += k) data[at] = values[i]!;
      });
      return { [m.name]: new Tensor(m.type === 'float64' ? 'float64' : 'float32', data, [n, k]) };
    }
    const feeds: Record<string, Tensor> = {};
    for (const m of inputs) {
      const column = input.columns[m.name]!;
      const dims = m.shape.length === 2 ? [n, 1] : [n];
      feeds[m.name] = toTensor(Tensor, m, column, dims, n, options.integerMissing === 'minimum');
    }
    return feeds;
  };

  return {
    graph: {
      inputs: inputs.map((m) => ({ name: m.name, type: m.type, shape: m.shape })),
      outputs: outputs.map((o) => ({ name: o.name, type: o.isTensor ? o.type : 'non-tensor' })),
    },
    async predict(input) {
      const n = input.rows;
      if (n === 0) return emptyPredictions(options);
      let results: InferenceSession.ReturnType;
      try {
        results = await session.run(feed(input));
      } catch (err) {
        throw new TrestleError(
          'INVALID_ARGUMENT',
          `${where} failed to run: ${oneLine((err as Error).message)}`,
          {},
          { cause: err },
        );
      }
      if (options.task === 'other') return rawOutputs(results, n);
      return taskOutputs(options.task, options.classes ?? [], scores(results, n), n);
    },
    close: () => session.release(),
  };
}

function tensorMeta(m: InferenceSession.ValueMetadata, where: string, what: string): TensorMeta {
  if (!m.isTensor) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} has a non-tensor ${what} '${m.name}', which Trestle cannot feed`,
    );
  }
  return m;
}

/** The minimum of an integer type: what a graph with `integerMissing: 'minimum'` reads as missing. */
const INTEGER_MINIMUM = { int64: -(2n ** 63n), int32: -(2 ** 31) } as const;

function toTensor(
  T: Ort['Tensor'],
  m: TensorMeta,
  column: Column,
  dims: number[],
  n: number,
  minimumIsMissing: boolean,
): Tensor {
  if (m.type === 'string') {
    const data = new Array<string>(n);
    if (column.type !== 'string') {
      // Numbers used as categories (an hour): their text, as they were keyed at training.
      for (let i = 0; i < n; i++) data[i] = Number.isNaN(column.values[i]!) ? '' : String(column.values[i]);
      return new T('string', data, dims);
    }
    for (let i = 0; i < n; i++) {
      const c = column.codes[i]!;
      data[i] = c < 0 ? '' : column.dictionary[c]!;
    }
    return new T('string', data, dims);
  }
  if (column.type === 'string') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `the ONNX input '${m.name}' takes numbers (${m.type}) but the column holds strings`,
      { column: m.name },
    );
  }
  const v = column.values;
  switch (m.type) {
    case 'float32':
      return new T('float32', Float32Array.from(v), dims);
    case 'float64':
      return new T('float64', v.slice(0, n), dims);
    case 'int64':
    case 'int32':
    case 'bool': {
      const missingAsMinimum = minimumIsMissing && m.type !== 'bool';
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(v[i]!) && !(missingAsMinimum && Number.isNaN(v[i]!))) {
          throw new TrestleError(
            'INVALID_ARGUMENT',
            `input column '${m.name}' row ${i}: a missing value, but the ONNX graph takes ${m.type}, which has no missing values`,
            { column: m.name, row: i },
          );
        }
      }
      if (m.type === 'int64')
        return new T(
          'int64',
          BigInt64Array.from(v.subarray(0, n), (x) =>
            Number.isNaN(x) ? INTEGER_MINIMUM.int64 : BigInt(Math.trunc(x)),
          ),
          dims,
        );
      if (m.type === 'int32')
        return new T(
          'int32',
          Int32Array.from(v.subarray(0, n), (x) => (Number.isNaN(x) ? INTEGER_MINIMUM.int32 : x)),
          dims,
        );
      return new T(
        'bool',
        Uint8Array.from(v, (x) => (x !== 0 ? 1 : 0)),
        dims,
      );
    }
    default:
      throw new TrestleError(
        'INVALID_ARGUMENT',
        `the ONNX input '${m.name}' has element type ${m.type}, which Trestle cannot feed`,
      );
  }
}

function rawOutputs(results: InferenceSession.ReturnType, n: number): Predictions {
  const outputs: Record<string, Float64Array | string[]> = {};
  for (const [name, value] of Object.entries(results)) {
    const t = value;
    if (typeof t !== 'object' || !('dims' in t)) continue; // sequences and maps (ZipMap) are left out
    const k = t.dims.length >= 2 ? Number(t.dims.slice(1).reduce((a, b) => a * b, 1)) : 1;
    const data = t.data;
    const column = (j: number): Float64Array | string[] => {
      if (Array.isArray(data)) return Array.from({ length: n }, (_, i) => String(data[i * k + j]));
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = Number((data as ArrayLike<number | bigint>)[i * k + j]);
      return out;
    };
    if (k === 1) outputs[name] = column(0);
    else for (let j = 0; j < k; j++) outputs[`${name}_${j}`] = column(j);
  }
  return { rows: n, outputs };
}

function emptyPredictions(options: OnnxOutputOptions): Predictions {
  if (options.task === 'other') return { rows: 0, outputs: {} };
  return taskOutputs(options.task, options.classes ?? [], new Float64Array(0), 0);
}

/** onnxruntime's multi-line messages (the indices and sizes that do not fit) as one line. */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}
