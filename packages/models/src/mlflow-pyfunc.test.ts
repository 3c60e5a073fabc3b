/**
 * A package opens in Python the way `mlflow.pyfunc.load_model(...).predict(df)` opens it: the
 * `python_function` flavor's loader (`mlflow.onnx`) feeds a pandas DataFrame to the ONNX graph
 * and makes a DataFrame of its outputs. The Python side below is MLflow's own code, copied from
 * `_OnnxModelWrapper` in `mlflow/onnx/__init__.py` (mlflow/mlflow@001cc178, 2.x; the logic
 * `shared/reference/mlflow-model-format.md` reads from 2.17.2): one rank-1 `data[name].values`
 * per graph input, float64 cast to float32 for a `tensor(float)` input and nothing else, the
 * outputs each `reshape(-1)` into one DataFrame. Before it, the signature is enforced the way
 * `_enforce_mlflow_datatype` does (its allowed upcasts only). Debian's python3 has no
 * onnxruntime and its onnx (1.12) no reference evaluator, so the feeds Python made are run,
 * with their exact dtypes and shapes, by onnxruntime through its Node binding (the same
 * runtime, which checks each input's element type and rank), and its outputs go back to
 * Python's output code. Run by /usr/bin/python3 with python3-onnx, -pandas and -yaml (CI
 * installs them); elsewhere skipped, saying why.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readTable, sliceTable, type Table } from '@trestle/tables';
import { loadModel } from './load.js';
import { trainModel, type TrainModelOptions } from './train/train-model.js';
import { writeModelPackage } from './write-package.js';
import { syntheticCsv } from './testing-data.js';

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import onnx, pandas, yaml, numpy'], { encoding: 'utf8' });
const unavailable =
  probe.status === 0
    ? undefined
    : `${PYTHON} cannot import onnx, pandas and yaml (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)}; apt-get install python3-onnx python3-pandas python3-yaml)`;
if (unavailable !== undefined && process.env['CI'] !== 'true')
  console.warn(`skipping the MLflow pyfunc test: ${unavailable}`);

const SCRIPT = String.raw`
import json, sys
import numpy as np
import pandas as pd
import yaml
import onnx

# What onnxruntime's NodeArg.type says for each ONNX element type.
ORT_TYPE = {1: "tensor(float)", 6: "tensor(int32)", 7: "tensor(int64)", 8: "tensor(string)", 9: "tensor(bool)", 11: "tensor(double)"}
# The numpy dtype each input type takes (onnxruntime refuses any other).
NUMPY = {"tensor(float)": np.float32, "tensor(int32)": np.int32, "tensor(int64)": np.int64, "tensor(string)": np.object_, "tensor(bool)": np.bool_, "tensor(double)": np.float64}
# MLflow's column types as numpy types (mlflow.types.DataType.to_numpy).
MLFLOW_NUMPY = {"boolean": np.dtype(np.bool_), "integer": np.dtype(np.int32), "long": np.dtype(np.int64), "float": np.dtype(np.float32), "double": np.dtype(np.float64)}

def enforce(name, values, t):
    # mlflow.models.utils._enforce_mlflow_datatype: the upcasts it allows, the rest refused.
    if t == "string":
        if values.dtype != object:
            raise TypeError(f"column {name}: {values.dtype} for a string column")
        return values
    numpy_type = MLFLOW_NUMPY[t]
    if values.dtype == numpy_type:
        return values
    if values.dtype.kind == numpy_type.kind:
        is_upcast = values.dtype.itemsize <= numpy_type.itemsize
    elif values.dtype.kind == "u" and numpy_type.kind == "i":
        is_upcast = values.dtype.itemsize < numpy_type.itemsize
    elif values.dtype.kind in ("i", "u") and numpy_type == np.float64:
        is_upcast = values.dtype.itemsize <= 6
    else:
        is_upcast = False
    if not is_upcast:
        raise TypeError(f"Incompatible input types for column {name}. Can not safely convert {values.dtype} to {numpy_type}.")
    return values.astype(numpy_type, errors="raise")

class Wrapper:
    """mlflow.onnx._OnnxModelWrapper without onnxruntime: inputs and outputs read from the graph."""

    def __init__(self, path):
        graph = onnx.load(path).graph
        self.inputs = [(i.name, ORT_TYPE[i.type.tensor_type.elem_type]) for i in graph.input]
        self.ranks = {i.name: len(i.type.tensor_type.shape.dim) for i in graph.input}
        self.output_names = [o.name for o in graph.output]

    # Copied from mlflow/onnx/__init__.py (_OnnxModelWrapper).
    def _cast_float64_to_float32(self, feeds):
        for input_name, input_type in self.inputs:
            if input_type == "tensor(float)":
                feed = feeds.get(input_name)
                if feed is not None and feed.dtype == np.float64:
                    feeds[input_name] = feed.astype(np.float32)
        return feeds

    def feeds(self, data):
        # Copied from _OnnxModelWrapper.predict: the DataFrame branch.
        if len(self.inputs) > 1:
            feed_dict = {name: data[name].values for (name, _) in self.inputs}
        else:
            feed_dict = {self.inputs[0][0]: data.values}
        feed_dict = self._cast_float64_to_float32(feed_dict)
        # What onnxruntime checks before it runs: the element type and the rank of every input.
        for name, input_type in self.inputs:
            feed = feed_dict[name]
            if feed.dtype != NUMPY[input_type] or feed.ndim != self.ranks[name]:
                raise TypeError(f"input {name}: {feed.dtype} of rank {feed.ndim}, the graph takes {input_type} of rank {self.ranks[name]}")
        return feed_dict

    def outputs(self, predicted):
        # Copied from _OnnxModelWrapper.predict: a DataFrame from the outputs.
        def format_output(data):
            data = np.asarray(data)
            return data.reshape(-1)

        return pd.DataFrame.from_dict({c: format_output(p) for (c, p) in zip(self.output_names, predicted)})

def frame(model_dir, csv):
    meta = yaml.safe_load(open(f"{model_dir}/MLmodel"))
    specs = json.loads(meta["signature"]["inputs"])
    data = pd.read_csv(csv, keep_default_na=False, na_values=[""])
    return pd.DataFrame({s["name"]: enforce(s["name"], data[s["name"]], s["type"]) for s in specs}), meta

step = sys.argv[1]
job = json.load(sys.stdin)
out = []
for m in job:
    df, meta = frame(m["dir"], m["csv"])
    wrapper = Wrapper(f"{m['dir']}/{meta['flavors']['python_function']['data']}")
    if step == "feeds":
        feeds = wrapper.feeds(df)
        out.append({name: {"dtype": str(v.dtype), "shape": list(v.shape), "data": v.tolist()} for name, v in feeds.items()})
    else:
        predicted = [np.array(o["data"], dtype=object if o["type"] == "string" else np.float32).reshape(o["dims"]) for o in m["outputs"]]
        result = wrapper.outputs(predicted)
        out.append({c: result[c].tolist() for c in result.columns})
print(json.dumps(out))
`;

function python(step: 'feeds' | 'outputs', job: unknown): unknown[] {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, step], {
    input: JSON.stringify(job),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`python (${step}) failed: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout) as unknown[];
}

interface Feed {
  dtype: string;
  shape: number[];
  data: (number | string | boolean)[];
}

/** A numpy array from Python as an onnxruntime tensor of the same element type and shape. */
function tensor(f: Feed): ort.Tensor {
  switch (f.dtype) {
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(f.data as number[]), f.shape);
    case 'float64':
      return new ort.Tensor('float64', Float64Array.from(f.data as number[]), f.shape);
    case 'int64':
      return new ort.Tensor(
        'int64',
        BigInt64Array.from(f.data as number[], (x) => BigInt(x)),
        f.shape,
      );
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(f.data as number[]), f.shape);
    case 'bool':
      return new ort.Tensor(
        'bool',
        Uint8Array.from(f.data as boolean[], (x) => (x ? 1 : 0)),
        f.shape,
      );
    case 'object':
      return new ort.Tensor('string', f.data as string[], f.shape);
    default:
      throw new Error(`a feed of dtype ${f.dtype}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'trestle-pyfunc-'));
let table: Table;
let scored: string;

beforeAll(async () => {
  const csv = join(dir, 'data.csv');
  writeFileSync(csv, syntheticCsv(2000, 5));
  table = await readTable(csv);
  // The rows a Python user scores: complete ones (MLflow refuses a missing value in a 'long'
  // column), with an airport and an hour the training never saw.
  const lines = readFileSync(csv, 'utf8').trim().split('\n');
  const complete = lines
    .slice(1)
    .filter((l) => !l.split(',').includes(''))
    .slice(0, 400);
  complete.push('1200,31,NOWHERE,1', '250,3,SFO,0');
  scored = join(dir, 'scored.csv');
  writeFileSync(scored, `${[lines[0], ...complete].join('\n')}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases: [string, TrainModelOptions][] = [
  ['gbdt, binary', { trainer: 'gbdt', target: 'delayed', categorical: ['hour'], params: { rounds: '20' } }],
  ['gbdt, multiclass', { trainer: 'gbdt', target: 'origin', params: { rounds: '15' } }],
  ['gbdt, regression', { trainer: 'gbdt', target: 'distance', params: { task: 'regression', rounds: '15' } }],
  ['logistic', { trainer: 'logistic', target: 'delayed', categorical: ['hour'] }],
  ['linear', { trainer: 'linear', target: 'distance' }],
];

describe.skipIf(unavailable !== undefined && process.env['CI'] !== 'true')(
  "mlflow.pyfunc's ONNX wrapper feeds and reads a Trestle package",
  () => {
    it('GBDT, logistic and linear packages predict in Python what Trestle predicts, to 1e-5', async () => {
      const models = await Promise.all(
        cases.map(async ([name, options]) => {
          const trained = trainModel(table, undefined, options);
          const packageDir = join(dir, name.replace(/[^a-z]+/g, '-'));
          await writeModelPackage(packageDir, trained.contents);
          return { name, dir: packageDir, csv: scored };
        }),
      );
      const feeds = python('feeds', models) as Record<string, Feed>[];
      const outputs = await Promise.all(
        models.map(async (m, i) => {
          const session = await ort.InferenceSession.create(join(m.dir, 'model.onnx'));
          try {
            const fed = Object.fromEntries(Object.entries(feeds[i]!).map(([k, f]) => [k, tensor(f)]));
            // Every input is one column, rank 1, of the column's own type.
            for (const f of Object.values(feeds[i]!)) expect(f.shape).toHaveLength(1);
            const result = await session.run(fed);
            return session.outputNames.map((name) => {
              const t = result[name]!;
              return { name, type: t.type, dims: t.dims, data: Array.from(t.data as ArrayLike<number | string>) };
            });
          } finally {
            await session.release();
          }
        }),
      );
      const frames = python(
        'outputs',
        models.map((m, i) => ({ ...m, outputs: outputs[i] })),
      ) as Record<string, (number | string)[]>[];

      const rows = await readTable(scored);
      for (const [i, m] of models.entries()) {
        const model = await loadModel(m.dir);
        const expected = await model.predict(sliceTable(rows, 0, rows.rows).columns);
        await model.close();
        const frame = frames[i]!;
        // The DataFrame's columns are the signature's outputs, with Trestle's values.
        expect(Object.keys(frame).sort(), m.name).toEqual(model.signature.outputs.map((o) => o.name).sort());
        for (const [name, values] of Object.entries(expected.outputs)) {
          const got = frame[name]!;
          expect(got, `${m.name}: ${name}`).toHaveLength(rows.rows);
          if (!(values instanceof Float64Array)) continue;
          let worst = 0;
          for (let r = 0; r < values.length; r++)
            worst = Math.max(worst, Math.abs(values[r]! - (got[r] as number)) / Math.max(1, Math.abs(values[r]!)));
          expect(worst, `${m.name}: ${name}`).toBeLessThan(1e-5);
        }
        if (expected.outputs['label'] !== undefined) {
          const label = expected.outputs['label'] as string[];
          const agree = label.filter((l, r) => l === frame['label']![r]).length;
          expect(agree, `${m.name}: labels`).toBe(label.length);
        }
      }
    }, 60_000);
  },
);
