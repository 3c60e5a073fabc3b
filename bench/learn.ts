/**
 * Trainer benchmark (`npm run bench -- learn`): our GBDT against scikit-learn's
 * HistGradientBoostingClassifier (Debian /usr/bin/python3 with python3-sklearn) on the
 * quickstart's flights, same rows, same features, same settings, in the same run:
 *
 *  a. training time and test AUC: 100 trees, 31 leaves, 255 bins, learning rate 0.1,
 *     20 rows per leaf, no L2, no early stopping; trained on the first TRAIN_ROWS flights
 *     (by departure), tested on the TEST_ROWS after them. Features: hour and weekday of the
 *     estimated scheduled departure, distance (numeric), origin and destination
 *     (categorical). Label: arrival delay > 15 minutes. Goals: time ≤ 1.5× sklearn's,
 *     AUC within 0.005 of sklearn's.
 *  b. prediction latency, one row and 1,000 rows: built-in model, the same model exported
 *     to ONNX and run by onnxruntime-node, and sklearn's predict_proba. Goal: one row
 *     built-in ≤ 10 µs.
 *
 * Prints figures and ratios; never asserts. sklearn is skipped with a note when
 * /usr/bin/python3 lacks it (`apt-get install python3-sklearn`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { rocAuc, trainGbdt, type ColumnBatch, type GbdtModel } from '../packages/learn/src/index.js';
import { loadFlights, type FlightsColumns } from '../packages/cli/src/quickstart/flights-data.js';

const TRAIN_ROWS = Number(process.env['BENCH_LEARN_TRAIN_ROWS'] ?? 1_000_000);
const TEST_ROWS = Number(process.env['BENCH_LEARN_TEST_ROWS'] ?? 200_000);
const PARAMS = { rounds: 100, learningRate: 0.1, maxLeaves: 31, minSamplesLeaf: 20, l2: 0, maxBins: 255 };
const PYTHON = '/usr/bin/python3';
const here = dirname(fileURLToPath(import.meta.url));

interface Features {
  readonly batch: ColumnBatch;
  readonly y: Uint8Array;
  /** Row-major float32 rows × 5 (categories as codes) for sklearn. */
  readonly matrix: Float32Array;
}

const FEATURES = [
  { name: 'hour', categorical: false },
  { name: 'weekday', categorical: false },
  { name: 'distance', categorical: false },
  { name: 'origin', categorical: true },
  { name: 'destination', categorical: true },
] as const;

/** The quickstart's features for rows [from, to): hour and weekday of `departure − delay`. */
function features(cols: FlightsColumns, from: number, to: number): Features {
  const n = to - from;
  const hour = new Float64Array(n);
  const weekday = new Float64Array(n);
  const distance = new Float64Array(n);
  const origin = new Int32Array(n);
  const destination = new Int32Array(n);
  const y = new Uint8Array(n);
  const matrix = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) {
    const r = from + i;
    const scheduled = cols.departureMs[r]! - cols.delay[r]! * 60_000;
    const day = Math.floor(scheduled / 86_400_000);
    hour[i] = Math.floor((scheduled - day * 86_400_000) / 3_600_000);
    weekday[i] = (((day + 4) % 7) + 7) % 7;
    distance[i] = cols.distance[r]!;
    origin[i] = cols.origin[r]!;
    destination[i] = cols.destination[r]!;
    y[i] = cols.delay[r]! > 15 ? 1 : 0;
    matrix.set([hour[i]!, weekday[i]!, distance[i]!, origin[i]!, destination[i]!], i * 5);
  }
  const batch: ColumnBatch = {
    rows: n,
    columns: [
      { name: 'hour', type: 'numeric', values: hour },
      { name: 'weekday', type: 'numeric', values: weekday },
      { name: 'distance', type: 'numeric', values: distance },
      { name: 'origin', type: 'categorical', codes: origin, categories: cols.airports },
      { name: 'destination', type: 'categorical', codes: destination, categories: cols.airports },
    ],
  };
  return { batch, y, matrix };
}

function slice(batch: ColumnBatch, from: number, to: number): ColumnBatch {
  return {
    rows: to - from,
    columns: batch.columns.map((c) =>
      c.type === 'numeric'
        ? { ...c, values: c.values.subarray(from, to) }
        : { ...c, codes: c.codes.subarray(from, to) },
    ),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function medianMs(repeats: number, fn: () => unknown, warmup = 20): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return median(times);
}

function onnxFeeds(batch: ColumnBatch, airports: readonly string[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const c of batch.columns) {
    feeds[c.name] =
      c.type === 'numeric'
        ? new ort.Tensor('float32', Float32Array.from(c.values), [batch.rows])
        : new ort.Tensor(
            'string',
            Array.from(c.codes, (code) => airports[code]!),
            [batch.rows],
          );
  }
  return feeds;
}

interface SklearnResult {
  sklearn: string;
  fitSeconds: number;
  testAuc: number;
  trees: number;
  singleRowMicros: number;
  thousandRowsMillis: number;
}

function runSklearn(train: Features, test: Features): SklearnResult | string {
  try {
    execFileSync(PYTHON, ['-c', 'import sklearn'], { stdio: 'ignore' });
  } catch {
    return `skipped: ${PYTHON} has no scikit-learn (apt-get install python3-sklearn)`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'trestle-bench-learn-'));
  try {
    const write = (name: string, a: Float32Array | Uint8Array): void =>
      writeFileSync(join(dir, name), new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    write('train_X.f32', train.matrix);
    write('train_y.u8', train.y);
    write('test_X.f32', test.matrix);
    write('test_y.u8', test.y);
    writeFileSync(join(dir, 'meta.json'), JSON.stringify({ features: FEATURES, params: PARAMS }));
    const out = execFileSync(PYTHON, [join(here, 'learn', 'sklearn_hgb.py'), dir], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    return JSON.parse(out) as SklearnResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(v: number, digits = 2): string {
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export async function run(): Promise<void> {
  console.log(
    `learn benchmark: ${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' ',
      )}, train ${TRAIN_ROWS.toLocaleString('en-US')} flights, test the next ${TEST_ROWS.toLocaleString('en-US')}`,
  );
  const cols = await loadFlights();
  if (cols.rows < TRAIN_ROWS + TEST_ROWS) throw new Error(`the flights file has only ${cols.rows} rows`);
  const train = features(cols, 0, TRAIN_ROWS);
  const test = features(cols, TRAIN_ROWS, TRAIN_ROWS + TEST_ROWS);
  const positives = (y: Uint8Array): string => `${((100 * y.reduce((a, b) => a + b, 0)) / y.length).toFixed(1)} %`;
  console.log(`delayed: ${positives(train.y)} of training rows, ${positives(test.y)} of test rows`);

  // a. Training.
  const t0 = performance.now();
  const model: GbdtModel = trainGbdt(train.batch, train.y, { task: 'binary', ...PARAMS });
  const ourSeconds = (performance.now() - t0) / 1000;
  const p = model.predict(test.batch);
  const positive = new Float64Array(test.batch.rows);
  for (let i = 0; i < positive.length; i++) positive[i] = p[2 * i + 1]!;
  const ourAuc = rocAuc(test.y, positive);
  console.log(`trestle GBDT: ${fmt(ourSeconds)} s, test AUC ${ourAuc.toFixed(4)}, ${model.trees.length} trees`);
  const sk = runSklearn(train, test);
  if (typeof sk === 'string') console.log(`sklearn: ${sk}`);
  else
    console.log(`sklearn ${sk.sklearn}: ${fmt(sk.fitSeconds)} s, test AUC ${sk.testAuc.toFixed(4)}, ${sk.trees} trees`);

  // b. Latency.
  const one = slice(test.batch, 0, 1);
  const thousand = slice(test.batch, 0, 1000);
  const builtinOne = (await medianMs(5000, () => model.predict(one), 500)) * 1000;
  const builtinThousand = await medianMs(200, () => model.predict(thousand));
  const session = await ort.InferenceSession.create(model.toOnnx());
  const feedsOne = onnxFeeds(one, cols.airports);
  const feedsThousand = onnxFeeds(thousand, cols.airports);
  const onnxOne = (await medianMs(2000, () => session.run(feedsOne), 200)) * 1000;
  const onnxThousand = await medianMs(200, () => session.run(feedsThousand));
  // Both flavours agree on the benchmark rows.
  const onnxP = (await session.run(feedsThousand))['probability']!.data as Float32Array;
  let maxDiff = 0;
  for (let i = 0; i < 1000; i++) maxDiff = Math.max(maxDiff, Math.abs(onnxP[i]! - p[2 * i + 1]!));

  const rows: [string, string, string, string][] = [['figure', 'trestle', 'sklearn', 'ratio (trestle/sklearn)']];
  const ratio = (a: number, b: number | undefined): string => (b === undefined ? 'n/a' : `${fmt(a / b)}×`);
  const skv = typeof sk === 'string' ? undefined : sk;
  rows.push([
    'training time (s)',
    fmt(ourSeconds),
    skv ? fmt(skv.fitSeconds) : 'n/a',
    `${ratio(ourSeconds, skv?.fitSeconds)} (goal ≤ 1.50×)`,
  ]);
  rows.push([
    'test AUC',
    ourAuc.toFixed(4),
    skv ? skv.testAuc.toFixed(4) : 'n/a',
    skv ? `Δ ${(ourAuc - skv.testAuc).toFixed(4)} (goal |Δ| ≤ 0.005)` : 'n/a',
  ]);
  rows.push([
    'predict 1 row, builtin (µs)',
    fmt(builtinOne),
    skv ? fmt(skv.singleRowMicros) : 'n/a',
    `${ratio(builtinOne, skv?.singleRowMicros)} (goal builtin ≤ 10 µs)`,
  ]);
  rows.push([
    'predict 1 row, onnx (µs)',
    fmt(onnxOne),
    skv ? fmt(skv.singleRowMicros) : 'n/a',
    ratio(onnxOne, skv?.singleRowMicros),
  ]);
  rows.push([
    'predict 1,000 rows, builtin (ms)',
    fmt(builtinThousand, 3),
    skv ? fmt(skv.thousandRowsMillis, 3) : 'n/a',
    ratio(builtinThousand, skv?.thousandRowsMillis),
  ]);
  rows.push([
    'predict 1,000 rows, onnx (ms)',
    fmt(onnxThousand, 3),
    skv ? fmt(skv.thousandRowsMillis, 3) : 'n/a',
    ratio(onnxThousand, skv?.thousandRowsMillis),
  ]);
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  console.log('');
  for (const r of rows) console.log(r.map((cell, j) => cell.padEnd(widths[j]!)).join('  '));
  console.log(`\nonnx vs builtin on 1,000 test rows: max |Δp| = ${maxDiff.toExponential(2)}`);
}
