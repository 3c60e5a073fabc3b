/**
 * Monitoring benchmark (`npm run bench -- monitoring`): drift over 1,000,000 reference rows
 * against 1,000,000 current rows × 20 columns (10 numeric, 10 categorical with 20 categories),
 * with Evidently's automatic choice (references this large: Wasserstein normed for numeric
 * columns, Jensen–Shannon for categorical ones) and with KS on every numeric column:
 *
 *  a. exactly from raw rows, on every core (`DriftPool`, threads started before timing) and on
 *     one thread (`driftFromColumns`), against the same tests in SciPy/NumPy (Debian
 *     `/usr/bin/python3`, one thread) on the same data, timed inside Python (loading excluded);
 *  b. from window summaries (`driftFromSummary`): the cost when serving ships summaries;
 *  c. the per-prediction cost of keeping the window summary (`WindowAccumulator.add`).
 *
 * Goals: raw ≤ 1 s and faster than SciPy; summaries ≤ 10 ms. Prints figures, ratios and the
 * largest difference from SciPy's scores; never asserts. `TRESTLE_BENCH_ROWS` sets the rows per table
 * (default 1,000,000; a small value checks that the benchmark runs, its figures mean nothing).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildReferenceProfile,
  driftFromColumns,
  driftFromSummary,
  DriftPool,
  normals,
  rng,
  WindowAccumulator,
  type DictionaryColumn,
} from '../packages/monitoring/src/index.js';

/** Rows per table; `TRESTLE_BENCH_ROWS` makes a quick run (e.g. 20000) to check the benchmark works. */
const ROWS = Number(process.env['TRESTLE_BENCH_ROWS'] ?? 1_000_000);
const NUMERIC = 10;
const CATEGORICAL = 10;
const CATEGORIES = 20;

function categorical(random: () => number, n: number, skew: number): DictionaryColumn {
  const weights = Array.from({ length: CATEGORIES }, (_, i) => Math.exp(-skew * i));
  const total = weights.reduce((a, b) => a + b, 0);
  const cum: number[] = [];
  let acc = 0;
  for (const w of weights) cum.push((acc += w / total));
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = random();
    let c = 0;
    while (c < CATEGORIES - 1 && u > cum[c]!) c++;
    codes[i] = c;
  }
  return { codes, dictionary: Array.from({ length: CATEGORIES }, (_, i) => `c${i}`) };
}

function table(seed: number, drift: boolean): Record<string, Float64Array | DictionaryColumn> {
  const random = rng(seed);
  const t: Record<string, Float64Array | DictionaryColumn> = {};
  for (let j = 0; j < NUMERIC; j++)
    t[`num${j}`] = normals(random, ROWS, drift && j % 2 === 0 ? 0.05 * j : 0, 1 + j / 10);
  for (let j = 0; j < CATEGORICAL; j++) t[`cat${j}`] = categorical(random, ROWS, drift && j % 3 === 0 ? 0.3 : 0.25);
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** CPU time of the whole process (every thread), in ms: less sensitive than the wall clock to other processes. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Median wall and CPU time of `rounds` calls of `fn` (awaited when it returns a promise). */
async function time<T>(fn: () => T | Promise<T>, rounds: number): Promise<{ ms: number; cpu: number; value: T }> {
  const times: number[] = [];
  const cpus: number[] = [];
  let value!: T;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    const c = cpuMs();
    value = await fn();
    times.push(performance.now() - t);
    cpus.push(cpuMs() - c);
  }
  return { ms: median(times), cpu: median(cpus), value };
}

const PY = String.raw`
import json, sys, time
import numpy as np
from scipy import stats
from scipy.spatial import distance
d, nn, nc, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ref = {}; cur = {}
for j in range(nn):
    ref[j] = np.fromfile(f"{d}/ref_num{j}.bin", dtype=np.float64); cur[j] = np.fromfile(f"{d}/cur_num{j}.bin", dtype=np.float64)
rc = {}; cc = {}
for j in range(nc):
    rc[j] = np.fromfile(f"{d}/ref_cat{j}.bin", dtype=np.int32); cc[j] = np.fromfile(f"{d}/cur_cat{j}.bin", dtype=np.int32)
def js():
    out = []
    for j in range(nc):
        a = np.bincount(rc[j], minlength=k) / len(rc[j]); b = np.bincount(cc[j], minlength=k) / len(cc[j])
        keep = (a > 0) | (b > 0)
        out.append(float(distance.jensenshannon(a[keep], b[keep])))
    return out
def auto():
    return [float(stats.wasserstein_distance(ref[j], cur[j]) / max(np.std(ref[j]), 0.001)) for j in range(nn)] + js()
def ks():
    return [float(stats.ks_2samp(ref[j], cur[j]).pvalue) for j in range(nn)] + js()
res = {}
for name, fn in (("auto", auto), ("ks", ks)):
    times = []
    for _ in range(3):
        t = time.perf_counter(); v = fn(); times.append(time.perf_counter() - t)
    res[name] = {"ms": sorted(times)[1] * 1000, "scores": v}
json.dump(res, sys.stdout)
`;

export async function run(): Promise<void> {
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  console.log(`load average (1, 5, 15 min): ${load()} on ${availableParallelism()} cores`);
  console.log(
    `monitoring benchmark: ${ROWS.toLocaleString('en-US')} reference rows vs ${ROWS.toLocaleString('en-US')} current rows × ${NUMERIC + CATEGORICAL} columns`,
  );
  const ref = table(1, false);
  const cur = table(2, true);

  // a. raw rows: on every core, then on this thread alone
  const pool = new DriftPool();
  const helpers = await pool.start();
  await pool.driftFromColumns(ref, cur); // the helpers' first run compiles the code
  const raw = await time(() => pool.driftFromColumns(ref, cur), 3);
  const rawKs = await time(() => pool.driftFromColumns(ref, cur, { numMethod: 'ks' }), 3);
  await pool.close();
  const oneThread = await time(() => driftFromColumns(ref, cur), 3);

  // b. summaries
  const tProfile = performance.now();
  const profile = buildReferenceProfile(ref);
  const profileMs = performance.now() - tProfile;
  const acc = new WindowAccumulator(profile);
  const tAcc = performance.now();
  acc.addColumns(cur);
  const accColumnsMs = performance.now() - tAcc;
  const window = acc.snapshot();
  const summary = await time(() => driftFromSummary(profile, window), 50);

  // c. per prediction
  const random = rng(3);
  const rows = Array.from({ length: 20_000 }, () => {
    const r: Record<string, unknown> = {};
    for (let j = 0; j < NUMERIC; j++) r[`num${j}`] = random() * 4 - 2;
    for (let j = 0; j < CATEGORICAL; j++) r[`cat${j}`] = `c${Math.floor(random() * CATEGORIES)}`;
    return r;
  });
  const rowAcc = new WindowAccumulator(profile);
  const outputs = {};
  for (const r of rows) rowAcc.add(r, outputs); // warm up
  const passes = 10;
  const tRow = performance.now();
  for (let p = 0; p < passes; p++) for (const r of rows) rowAcc.add(r, outputs);
  const perRowNs = ((performance.now() - tRow) * 1e6) / (passes * rows.length);

  // SciPy on the same data
  const dir = mkdtempSync(join(tmpdir(), 'trestle-bench-mon-'));
  let py: { auto: { ms: number; scores: number[] }; ks: { ms: number; scores: number[] } } | undefined;
  let pyNote = '';
  try {
    for (const [prefix, t] of [
      ['ref', ref],
      ['cur', cur],
    ] as const) {
      for (const [name, col] of Object.entries(t)) {
        const bytes = col instanceof Float64Array ? col : col.codes;
        writeFileSync(
          join(dir, `${prefix}_${name}.bin`),
          new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        );
      }
    }
    const r = spawnSync('/usr/bin/python3', ['-c', PY, dir, String(NUMERIC), String(CATEGORICAL), String(CATEGORIES)], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    });
    if (r.status === 0) py = JSON.parse(r.stdout) as typeof py;
    else pyNote = (r.stderr || String(r.error)).trim().split('\n').at(-1) ?? 'failed';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const ours = raw.value.features.map((f) => f.score ?? NaN);
  const oursKs = rawKs.value.features.slice(0, NUMERIC).map((f) => f.score ?? NaN);
  const maxDiff = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  const line = (label: string, ms: number, goal: string, extra = ''): void =>
    console.log(`  ${label.padEnd(46)} ${ms.toFixed(ms < 10 ? 2 : 0).padStart(8)} ms   ${goal}${extra}`);

  console.log(`\nraw rows (exact), Trestle on ${helpers + 1} thread(s) unless said:`);
  const best = Math.min(raw.ms, oneThread.ms);
  line(
    'Trestle, automatic tests (Wasserstein + JS)',
    raw.ms,
    `goal ≤ 1000 ms: ${best <= 1000 ? 'met' : 'NOT met'}${best < raw.ms ? ' on one thread' : ''} (CPU ${raw.cpu.toFixed(0)} ms, all threads)`,
  );
  line(
    'Trestle, the same on one thread',
    oneThread.ms,
    `${(oneThread.ms / raw.ms).toFixed(2)}× the time on every core (CPU ${oneThread.cpu.toFixed(0)} ms)`,
  );
  if (py !== undefined) {
    line(
      'SciPy/NumPy, the same tests',
      py.auto.ms,
      `Trestle ${(py.auto.ms / raw.ms).toFixed(2)}× faster${raw.ms < py.auto.ms ? '' : ' (NOT faster)'}; one thread ${(py.auto.ms / oneThread.ms).toFixed(2)}×`,
    );
    console.log(`  largest score difference from SciPy: ${maxDiff(ours, py.auto.scores).toExponential(2)}`);
  }
  line('Trestle, KS on numeric + JS', rawKs.ms, '');
  if (py !== undefined) {
    line(
      'SciPy ks_2samp + jensenshannon, the same tests',
      py.ks.ms,
      `Trestle ${(py.ks.ms / rawKs.ms).toFixed(2)}× faster${rawKs.ms < py.ks.ms ? '' : ' (NOT faster)'}`,
    );
    console.log(`  largest KS p-value difference from SciPy: ${maxDiff(oursKs, py.ks.scores).toExponential(2)}`);
  } else console.log(`  SciPy not run: ${pyNote}`);
  console.log(
    `  drifted features (automatic): ${raw.value.features
      .filter((f) => f.drifted)
      .map((f) => f.name)
      .join(', ')}`,
  );

  console.log('\nwindow summaries:');
  line(
    'drift from summaries (20 features)',
    summary.ms,
    `goal ≤ 10 ms: ${summary.ms <= 10 ? 'met' : 'NOT met'}`,
    `; ${(raw.ms / summary.ms).toFixed(0)}× less than raw`,
  );
  console.log(
    `  drifted features (summaries): ${summary.value.features
      .filter((f) => f.drifted)
      .map((f) => f.name)
      .join(', ')}`,
  );
  line(`reference profile of ${ROWS.toLocaleString('en-US')} rows (once per model)`, profileMs, '');
  line(`window of ${ROWS.toLocaleString('en-US')} rows from columns`, accColumnsMs, '');

  console.log('\nper prediction (serving keeps the window summary):');
  console.log(
    `  WindowAccumulator.add, 20 features per row: ${perRowNs.toFixed(0)} ns per prediction (${(1e9 / perRowNs / 1e6).toFixed(2)} M predictions/s on one core)`,
  );
  console.log(`\nload average at the end: ${load()}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
