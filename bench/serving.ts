/**
 * Serving benchmark (`npm run bench -- serving`): `trestle serve` against the service every
 * MLOps tutorial builds (scikit-learn behind FastAPI + uvicorn, `bench/serving_reference.py`),
 * both trained on the same seeded flights-like table with the same model shape (gradient-
 * boosted trees: 100 trees, 31 leaves, 255 bins, categorical origin and destination).
 *
 * Each server runs alone in a child process; `wrk` (one thread, 64 connections, keep-alive)
 * posts the same JSON body to `/predict`: one row per request, then 100 rows. Printed per
 * variant: requests/s, rows/s, p50 and p99 latency, and the ratio to the reference measured in
 * the same run. Variants: the reference; trestle builtin flavor with batching on (default) and
 * off; onnx flavor; inference logging on (shipping to a real `trestle server`); two workers.
 * Goals (issue 8): ≥ 20× the reference's req/s on single rows with p99 ≤ 10 ms; logging costs
 * ≤ 10% of throughput. Never asserts. Needs `wrk` and Debian python3-fastapi, python3-uvicorn,
 * python3-sklearn, python3-pandas under /usr/bin/python3 (the reference is skipped, with a
 * note, when they are missing). `TRESTLE_BENCH_SECONDS` sets the length of a measurement (default 8),
 * `TRESTLE_BENCH_ROWS` the training rows (default 50,000).
 *
 * Beside req/s it prints the CPU time the server used per request (its process and workers, from
 * /proc, over the timed run), a figure other work on a shared machine sways much less than req/s.
 * `TRESTLE_BENCH_ONLY=batching-on,logging-on` runs only those variants (of reference, batching-on,
 * batching-off, onnx, logging-on, workers); `TRESTLE_BENCH_REQUEST_ROWS=1` only that body size
 * (1 or 100); `TRESTLE_BENCH_CPU_PROF=DIR` runs the trestle children with `--cpu-prof` into DIR.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBenchModel, flightsCsv } from './support/serving-model.js';
import { chosen } from './support/chosen.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const SECONDS = Number(process.env['TRESTLE_BENCH_SECONDS'] ?? 8);
/** Training rows; a small `TRESTLE_BENCH_ROWS` (with a short `TRESTLE_BENCH_SECONDS`) checks that the benchmark runs. */
const TRAIN_ROWS = Number(process.env['TRESTLE_BENCH_ROWS'] ?? 50_000);
const CONNECTIONS = 64;
const VARIANTS = ['reference', 'batching-on', 'batching-off', 'onnx', 'logging-on', 'workers'] as const;
type VariantKey = (typeof VARIANTS)[number];

const ONLY = chosen<VariantKey>('TRESTLE_BENCH_ONLY', VARIANTS);
const REQUEST_ROWS = chosen('TRESTLE_BENCH_REQUEST_ROWS', ['1', '100']);
const PROF_DIR = process.env['TRESTLE_BENCH_CPU_PROF'] ?? '';

interface Figures {
  /** Successful answers per second (answers with an error status left out). */
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the server (process and its children) per request, µs; NaN without /proc. */
  cpuUs: number;
}

/** User + system CPU seconds of a process and its descendants (Linux /proc), NaN elsewhere. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let ticks = Number(f[11]) + Number(f[12]); // utime, stime
    let children = 0;
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ')) {
        if (c.trim() !== '') children += cpuSeconds(Number(c));
      }
    }
    ticks /= 100; // USER_HZ
    return ticks + children;
  } catch {
    return NaN;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before answering ${url}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (m === null) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

function wrk(url: string, body: string, seconds: number, pid?: number): Figures {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  const script = join(dir, 'post.lua');
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[${body}]==]\n` +
      `done = function(summary, latency, requests)\n  io.write(string.format("ERRORS %d %d\\n", summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))\nend\n`,
  );
  const cpu0 = pid === undefined ? NaN : cpuSeconds(pid);
  const r = spawnSync('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', script, url], {
    encoding: 'utf8',
  });
  const cpu1 = pid === undefined ? NaN : cpuSeconds(pid);
  rmSync(dir, { recursive: true, force: true });
  const out = r.stdout ?? '';
  const answered = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = ms(/\s50%\s+(\S+)/.exec(out)?.[1] ?? '');
  const p99 = ms(/\s99%\s+(\S+)/.exec(out)?.[1] ?? '');
  const e = /ERRORS (\d+) (\d+)/.exec(out);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  // Only successful answers count: a refusal (503 at capacity) is quick, and counting it would
  // make an overloaded variant look fast.
  const refused = e === null ? 0 : Number(e[1]);
  const rps = (answered * Math.max(0, requests - refused)) / requests;
  return {
    rps,
    p50,
    p99,
    errors: e === null ? NaN : Number(e[1]) + Number(e[2]),
    cpuUs: ((cpu1 - cpu0) / requests) * 1e6,
  };
}

interface Variant {
  key: VariantKey;
  name: string;
  start(port: number): ChildProcess;
}

export async function run(): Promise<void> {
  if (spawnSync('wrk', ['--version']).error !== undefined) {
    console.log('wrk is not installed (apt-get install wrk); nothing measured');
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'bench-serving-'));
  const csv = join(work, 'train.csv');
  const rows = flightsCsv(csv, TRAIN_ROWS);
  console.log(
    `training the model on ${rows} seeded flights (trestle GBDT; the reference trains its own on the same CSV)…`,
  );
  const modelDir = join(work, 'model');
  const model = await buildBenchModel(csv, modelDir);
  console.log(`  ${model.description}`);

  if (PROF_DIR !== '') mkdirSync(PROF_DIR, { recursive: true });
  const profArgs = PROF_DIR === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${PROF_DIR}`];
  // A real control plane for the logging variant.
  const cpPort = await freePort();
  const home = join(work, 'home');
  const cp = spawn(
    process.execPath,
    [...profArgs, '--import', 'tsx', join(root, 'packages/cli/src/main.ts'), 'server', '--port', String(cpPort)],
    {
      env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
      stdio: 'ignore',
    },
  );
  const cpUrl = `http://127.0.0.1:${cpPort}`;

  const serve = (extra: string[]) => (port: number) =>
    spawn(
      process.execPath,
      [
        ...profArgs,
        '--import',
        'tsx',
        join(root, 'packages/cli/src/main.ts'),
        'serve',
        modelDir,
        '--port',
        String(port),
        ...extra,
      ],
      {
        env: { ...process.env, TRESTLE_HOME: home, TRESTLE_TRACKING_URI: '' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  const python = !ONLY.has('reference')
    ? { status: 0 }
    : spawnSync('/usr/bin/python3', ['-c', 'import fastapi, uvicorn, sklearn, pandas']);
  const variants: Variant[] = [];
  if (python.status === 0) {
    variants.push({
      key: 'reference',
      name: 'reference: sklearn + FastAPI + uvicorn',
      start: (port) =>
        spawn('/usr/bin/python3', [join(here, 'serving_reference.py'), csv, String(port), model.trainer], {
          // One OpenMP thread: single-row predictions gain nothing from a pool, which only spins.
          env: { ...process.env, OMP_NUM_THREADS: '1' },
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
    });
  } else {
    console.log(
      'reference skipped: /usr/bin/python3 lacks fastapi, uvicorn, sklearn or pandas (Debian python3-fastapi python3-uvicorn python3-sklearn python3-pandas)',
    );
  }
  variants.push(
    { key: 'batching-on', name: 'trestle serve builtin, batching on', start: serve(['--no-logging']) },
    {
      key: 'batching-off',
      name: 'trestle serve builtin, batching off',
      start: serve(['--no-logging', '--no-batching']),
    },
    { key: 'onnx', name: 'trestle serve onnx, batching on', start: serve(['--no-logging', '--flavor', 'onnx']) },
    { key: 'logging-on', name: 'trestle serve builtin, logging on', start: serve(['--control-plane', cpUrl]) },
    { key: 'workers', name: 'trestle serve builtin, 2 workers', start: serve(['--no-logging', '--workers', '2']) },
  );

  const bodies = [1, 100]
    .filter((n) => REQUEST_ROWS.has(String(n) as '1' | '100'))
    .map((n) => ({
      n,
      body: JSON.stringify(Array.from({ length: n }, (_, i) => model.sampleRow(i))),
    }));
  const results: { variant: string; rowsPerRequest: number; figures: Figures }[] = [];
  try {
    await waitFor(`${cpUrl}/health`, cp);
    for (const v of variants.filter((x) => ONLY.has(x.key))) {
      const port = await freePort();
      const child = v.start(port);
      try {
        await waitFor(`http://127.0.0.1:${port}/health`, child);
        for (const { n, body } of bodies) {
          wrk(`http://127.0.0.1:${port}/predict`, body, 2); // warm-up
          const figures = wrk(`http://127.0.0.1:${port}/predict`, body, SECONDS, child.pid);
          results.push({ variant: v.name, rowsPerRequest: n, figures });
          console.log(
            `${v.name.padEnd(42)} ${String(n).padStart(3)} rows  ${figures.rps.toFixed(0).padStart(7)} req/s  p50 ${figures.p50.toFixed(2)} ms  p99 ${figures.p99.toFixed(2)} ms  ${figures.cpuUs.toFixed(0)} µs CPU/req  load ${loadavg()[0]!.toFixed(2)}${figures.errors > 0 ? `  errors ${figures.errors}` : ''}`,
          );
        }
      } catch (err) {
        console.log(`${v.name}: not measured (${(err as Error).message})`);
      } finally {
        await stop(child);
      }
    }
  } finally {
    await stop(cp);
    rmSync(work, { recursive: true, force: true });
  }

  console.log(
    '\nvariant                                     rows/req    req/s     rows/s   p50 ms   p99 ms  CPU µs/req   × reference req/s',
  );
  for (const r of results) {
    const ref = results.find((x) => x.variant.startsWith('reference') && x.rowsPerRequest === r.rowsPerRequest);
    const ratio = ref === undefined ? '' : (r.figures.rps / ref.figures.rps).toFixed(1) + '×';
    console.log(
      `${r.variant.padEnd(44)}${String(r.rowsPerRequest).padStart(8)} ${r.figures.rps.toFixed(0).padStart(8)} ${(r.figures.rps * r.rowsPerRequest).toFixed(0).padStart(10)} ${r.figures.p50.toFixed(2).padStart(8)} ${r.figures.p99.toFixed(2).padStart(8)} ${r.figures.cpuUs.toFixed(0).padStart(11)}   ${ratio}`,
    );
  }
  const get = (variant: string, n: number) =>
    results.find((r) => r.variant === variant && r.rowsPerRequest === n)?.figures;
  const on = get('trestle serve builtin, batching on', 1);
  const logged = get('trestle serve builtin, logging on', 1);
  const ref = results.find((r) => r.variant.startsWith('reference') && r.rowsPerRequest === 1)?.figures;
  console.log('\ngoals');
  if (on !== undefined && ref !== undefined) {
    console.log(
      `  single rows: ${(on.rps / ref.rps).toFixed(1)}× the reference's req/s (goal ≥ 20×), p99 ${on.p99.toFixed(2)} ms (goal ≤ 10 ms)`,
    );
  }
  if (on !== undefined && logged !== undefined) {
    console.log(
      `  inference logging costs ${((1 - logged.rps / on.rps) * 100).toFixed(1)}% of single-row throughput (goal ≤ 10%); ` +
        `server CPU per request ${on.cpuUs.toFixed(0)} → ${logged.cpuUs.toFixed(0)} µs (+${((logged.cpuUs / on.cpuUs - 1) * 100).toFixed(1)}%)`,
    );
  }
}
