/**
 * MLflow's `MLmodel` file, both ways: written beside `model.onnx` so that
 * `mlflow.pyfunc.load_model` opens a Trestle package (flavors `onnx` and `python_function`
 * with `loader_module: mlflow.onnx`), and read from models that MLflow logged with the
 * `onnx` flavor (the ONNX file and the column signature, whose inputs and outputs are JSON
 * strings inside the YAML). See `shared/reference/mlflow-model-format.md`.
 */
import { randomUUID } from 'node:crypto';
import { parse, stringify } from 'yaml';
import { TrestleError } from '@trestle/core';
import { COLUMN_TYPES, type ColumnType } from '@trestle/tables';
import type { ColumnSpec, Signature } from './signature.js';

export const MLMODEL_FILE = 'MLmodel';

/** The MLflow release whose format we write (fields as 2.17 writes them). */
const MLFLOW_VERSION = '2.17.2';

function specsJson(specs: readonly ColumnSpec[]): string {
  return JSON.stringify(specs.map((s) => ({ type: s.type, name: s.name, required: s.optional !== true })));
}

/**
 * The text of an `MLmodel` for an ONNX graph at `onnxPath` (relative to the folder).
 *
 * @example await writeFile(join(dir, 'MLmodel'), mlmodelText({ onnxPath: 'model.onnx', signature, sizeBytes: 1234 }));
 */
export function mlmodelText(options: {
  onnxPath: string;
  signature: Signature;
  sizeBytes: number;
  runId?: string;
  artifactPath?: string;
  createdAt?: Date;
}): string {
  const created = options.createdAt ?? new Date();
  const doc: Record<string, unknown> = {
    ...(options.artifactPath === undefined ? {} : { artifact_path: options.artifactPath }),
    flavors: {
      onnx: {
        code: null,
        data: options.onnxPath,
        onnx_session_options: null,
        onnx_version: '1.16.0',
        providers: ['CPUExecutionProvider'],
      },
      python_function: {
        data: options.onnxPath,
        env: { conda: 'conda.yaml', virtualenv: 'python_env.yaml' },
        loader_module: 'mlflow.onnx',
        python_version: '3.11.2',
      },
    },
    mlflow_version: MLFLOW_VERSION,
    model_size_bytes: options.sizeBytes,
    model_uuid: randomUUID().replaceAll('-', ''),
    ...(options.runId === undefined ? {} : { run_id: options.runId }),
    signature: {
      inputs: specsJson(options.signature.inputs),
      outputs: specsJson(options.signature.outputs),
      params: null,
    },
    utc_time_created: created.toISOString().replace('T', ' ').replace('Z', ''),
  };
  return stringify(doc, { lineWidth: 0 });
}

/** The Python environment files `mlflow models serve` and `pyfunc` expect beside `MLmodel`. */
export function pythonEnvironmentFiles(): Record<string, string> {
  const requirements = ['mlflow', 'onnx', 'onnxruntime'];
  return {
    'requirements.txt': `${requirements.join('\n')}\n`,
    'python_env.yaml': stringify({
      python: '3.11.2',
      build_dependencies: ['pip'],
      dependencies: ['-r requirements.txt'],
    }),
    'conda.yaml': stringify({
      channels: ['conda-forge'],
      dependencies: ['python=3.11.2', 'pip', { pip: requirements }],
      name: 'mlflow-env',
    }),
  };
}

/** What Trestle takes from an MLflow `MLmodel`. */
export interface MlflowModelInfo {
  /** The ONNX file, relative to the model folder. */
  readonly onnxPath: string;
  /** The column signature; undefined when the model has none or a tensor signature. */
  readonly signature?: Signature;
  /** Why there is no usable signature. */
  readonly signatureProblem?: string;
  readonly runId?: string;
}

function parseSpecs(text: unknown, part: 'inputs' | 'outputs'): ColumnSpec[] | string {
  if (text === null || text === undefined) return `it has no ${part}`;
  let list: unknown;
  try {
    list = typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    return `its ${part} are not JSON`;
  }
  if (!Array.isArray(list)) return `its ${part} are not a list`;
  const out: ColumnSpec[] = [];
  for (const [i, s] of list.entries()) {
    const o = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
    if (o['type'] === 'tensor')
      return `it is a tensor signature (${part}), not columns; give a column signature at registration`;
    const type = o['type'];
    if (typeof type !== 'string' || !COLUMN_TYPES.includes(type as ColumnType))
      return `${part}[${i}] has type ${JSON.stringify(type)}, which Trestle cannot feed`;
    const name = typeof o['name'] === 'string' ? o['name'] : part === 'outputs' ? `output_${i}` : undefined;
    if (name === undefined) return `${part}[${i}] has no name`;
    out.push({ name, type: type as ColumnType, ...(o['required'] === false ? { optional: true } : {}) });
  }
  return out;
}

/**
 * Reads an `MLmodel` (YAML text) of a model logged with MLflow's `onnx` flavor.
 *
 * @throws TrestleError `INVALID_ARGUMENT` when the YAML is invalid or the model has no
 *   `onnx` flavor (Trestle loads no pickled Python models).
 */
export function readMlmodel(text: string, where = MLMODEL_FILE): MlflowModelInfo {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} is not valid YAML: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  const o = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  const flavors = (o['flavors'] ?? {}) as Record<string, unknown>;
  const onnx = flavors['onnx'] as Record<string, unknown> | undefined;
  if (onnx === undefined || typeof onnx['data'] !== 'string') {
    throw new TrestleError(
      'INVALID_ARGUMENT',
      `${where} has no 'onnx' flavor (it has: ${Object.keys(flavors).join(', ') || 'none'}); Trestle loads MLflow models logged with mlflow.onnx`,
    );
  }
  const sig = o['signature'] as Record<string, unknown> | undefined;
  const runId = typeof o['run_id'] === 'string' ? o['run_id'] : undefined;
  const base = { onnxPath: onnx['data'], ...(runId === undefined ? {} : { runId }) };
  if (sig === undefined || sig === null)
    return { ...base, signatureProblem: 'the model was logged without a signature' };
  const inputs = parseSpecs(sig['inputs'], 'inputs');
  if (typeof inputs === 'string') return { ...base, signatureProblem: inputs };
  const outputs = parseSpecs(sig['outputs'], 'outputs');
  return { ...base, signature: { inputs, outputs: typeof outputs === 'string' ? [] : outputs } };
}
