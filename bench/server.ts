/**
 * Tracking server benchmark (`npm run bench -- server`): HTTP on loopback against a real Trestle
 * server in a child process (so the load generator does not share its event loop), through the
 * MLflow REST endpoints the reference measured, with keep-alive connections (one per client):
 *
 *  a. `runs/log-batch` of 1,000 points, one client, then 4 concurrent clients (a run each);
 *  b. `runs/log-metric`, one point a call, one client (and 4 clients);
 *  c. `runs/create`, one client (and 4 clients);
 *  d. `runs/search` of all 1,000 runs of an experiment (3 params, 3 metrics, 3 tags each), max_results 1000;
 *  e. `metrics/get-history` of a 100,000-point metric;
 *  f. the bare store: `logBatch` of the same 1,000-point batches, in process, no HTTP;
 *  g. SQLite only: `/health` latency (p50, p99, max) while a write waits for another process
 *     that holds the database's write lock (the issue's goal: every answer within 100 ms).
 *
 * Beside the log-metric rate it measures a bare `GET /health` rate (one client) and prints the
 * ratio, a figure less swayed by other work on the machine than the rate itself; and Trestle's
 * own single-point write (`POST /api/v1/runs/{id}/batch` with one metric).
 *
 * On a temporary SQLite file, then on a fresh PostgreSQL database (skipped with a note when
 * unreachable). Prints each figure with its goal, MLflow 2.17.2's figure on SQLite and the ratio.
 * Never asserts. Throughputs are the median of a few timed rounds after a warm-up; latencies the
 * median of several calls, from the request sent to the last byte of the answer.
 *
 * `TRESTLE_BENCH_CPU_PROF=DIR` runs the server child with `--cpu-prof` into DIR;
 * `TRESTLE_BENCH_QUIET=1` runs it without request logs (`trestle server` logs every request);
 * `TRESTLE_BENCH_ONLY=log-metric,health-locked` runs only those parts (of log-batch, log-metric,
 * create, search, history, health-locked) and `TRESTLE_BENCH_ENGINES=sqlite` only that engine.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MetadataStore, Metric } from '@trestle/core';
import { openMetadataStore } from '../packages/store/src/metadata/index.js';
import { BATCH, trainingBatch } from './support/workloads.js';
import {
  createTestDatabase,
  postgresUnavailable,
  testPostgresUri,
} from '../packages/store/src/metadata/postgres-test-database.js';
import { spawnServer, type ServerProcess } from '../test/support/server-process.js';
import { holdWriteLock } from '../test/support/sqlite-lock.js';
import { chosen } from './support/chosen.js';

/**
 * `TRESTLE_BENCH_SCALE` (0 < s ≤ 1, default 1) shrinks every size, to check that the benchmark
 * runs (a smaller size's figures do not answer the goals, and the table says so).
 */
const SCALE = Math.min(1, Math.max(0.0001, Number(process.env['TRESTLE_BENCH_SCALE'] ?? 1) || 1));
const scaled = (n: number, min = 1): number => Math.max(min, Math.round(n * SCALE));

const CLIENTS = 4;
/** Each timed throughput round stops after this long (or its call cap, whichever comes first). */
const ROUND_MS = scaled(2000, 200);
const ROUNDS = scaled(5, 2);
const SEARCH_RUNS = scaled(1000, 50);
const HISTORY_POINTS = scaled(100_000, 2_000);
/** How long the other process holds the write lock in each of LOCK_HOLDS holds, and the pause between /health probes. */
const LOCK_HOLD_MS = scaled(2000, 500);
const LOCK_HOLDS = scaled(3, 1);
const PROBE_PAUSE_MS = 5;

const SECTIONS = ['log-batch', 'log-metric', 'create', 'search', 'history', 'health-locked'] as const;
type Section = (typeof SECTIONS)[number];
const ENGINES = ['sqlite', 'postgres'] as const;

const ONLY = chosen<Section>('TRESTLE_BENCH_ONLY', SECTIONS);
const ENGINES_RUN = chosen('TRESTLE_BENCH_ENGINES', ENGINES);

/** The issue's reference: MLflow 2.17.2's tracking server on SQLite, on a machine of this kind. */
const MLFLOW = {
  logBatch: 8_100,
  logMetric: 117,
  createRun: 48,
  search: 740,
  history: 4_700,
} as const;

/** One printed figure. */
interface Figure {
  name: string;
  value: number;
  unit: 'points/s' | 'calls/s' | 'runs/s' | 'ms' | 'ratio' | 'probes';
  /** The goal, e.g. `≥ 300,000`, and whether the figure meets it. */
  goal?: { text: string; met: boolean };
  /** MLflow's figure for the same measurement. */
  mlflow?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const atLeast = (value: number, goal: number) => ({ text: `≥ ${goal.toLocaleString('en')}`, met: value >= goal });
const atMost = (value: number, goal: number) => ({ text: `≤ ${goal.toLocaleString('en')}`, met: value <= goal });

/** The q-quantile (0…1) of `xs`, nearest rank. */
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

// ---------------------------------------------------------------- HTTP client

interface Answer {
  status: number;
  body: string;
}

/** One client: one keep-alive connection, one request at a time. */
class Client {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #host: string;
  readonly #port: number;

  constructor(baseUrl: string) {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port);
  }

  send(method: 'GET' | 'POST', path: string, body?: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.#host,
          port: this.#port,
          method,
          path,
          agent: this.#agent,
          headers:
            body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** POSTs an MLflow RPC and returns its parsed answer; throws on anything but 200. */
  async mlflow<T = Record<string, unknown>>(rpc: string, body: string | object): Promise<T> {
    const res = await this.send(
      'POST',
      `/api/2.0/mlflow/${rpc}`,
      typeof body === 'string' ? body : JSON.stringify(body),
    );
    if (res.status !== 200) throw new Error(`${rpc} answered ${res.status}: ${res.body.slice(0, 500)}`);
    return JSON.parse(res.body) as T;
  }

  close(): void {
    this.#agent.destroy();
  }
}

// ---------------------------------------------------------------- workloads

/** Most log-batch calls one client makes in a round (about 50 MB of request bodies, built before timing). */
const BATCHES_PER_CLIENT = 800;

/** The `metrics` JSON of batches 0…BATCHES_PER_CLIENT-1, serialized before any timing so the timed loops only concatenate. */
let batchJson: string[] = [];
function metricsJson(b: number): string {
  return batchJson[b % BATCHES_PER_CLIENT]!;
}

/**
 * Runs one loop per client at once until `ROUND_MS` has passed or each made `capPerClient`
 * calls; `call(client, i)` makes the i-th call of its loop and returns the work it did (points,
 * calls). Returns work per second.
 */
async function timedRound(
  clients: Client[],
  capPerClient: number,
  call: (client: number, i: number) => Promise<number>,
): Promise<number> {
  let done = 0;
  const started = performance.now();
  const deadline = started + ROUND_MS;
  await Promise.all(
    clients.map(async (_, c) => {
      for (let i = 0; i < capPerClient && performance.now() < deadline; i++) {
        // Not `done += await …`: that reads `done` before the await and loses the other clients' work.
        const work = await call(c, i);
        done += work;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Median rate of ROUNDS rounds after a warm-up of `warmup` calls per client. */
async function throughput(
  clients: Client[],
  capPerClient: number,
  warmup: number,
  setup: (round: number) => Promise<(client: number, i: number) => Promise<number>>,
): Promise<number> {
  const warm = await setup(-1);
  await Promise.all(
    clients.map(async (_, c) => {
      for (let i = 0; i < warmup; i++) await warm(c, i);
    }),
  );
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) rates.push(await timedRound(clients, capPerClient, await setup(round)));
  return median(rates);
}

/** Median latency in ms of `times` calls after `warmup` untimed ones. */
async function latency(times: number, warmup: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return median(out);
}

async function createRun(client: Client, experimentId: string, name: string): Promise<string> {
  const { run } = await client.mlflow<{ run: { info: { run_id: string } } }>('runs/create', {
    experiment_id: experimentId,
    run_name: name,
    start_time: Date.now(),
  });
  return run.info.run_id;
}

/** Rates of `runs/log-batch` with 1,000-point batches: one client, then CLIENTS at once (a run each). */
async function logBatch(clients: Client[], experimentId: string): Promise<{ one: number; many: number }> {
  const setup = (n: number) => async (round: number) => {
    const runs = await Promise.all(
      Array.from({ length: n }, (_, c) => createRun(clients[c]!, experimentId, `log-batch-${n}-${round}-${c}`)),
    );
    return async (c: number, i: number) => {
      await clients[c]!.mlflow('runs/log-batch', `{"run_id":"${runs[c]}","metrics":${metricsJson(i)}}`);
      return BATCH;
    };
  };
  if (batchJson.length === 0)
    batchJson = Array.from({ length: BATCHES_PER_CLIENT }, (_, b) => JSON.stringify(trainingBatch(b)));
  const one = await throughput(clients.slice(0, 1), BATCHES_PER_CLIENT, 20, setup(1));
  const many = await throughput(clients, BATCHES_PER_CLIENT, 10, setup(clients.length));
  return { one, many };
}

/** Rates of `runs/log-metric`, one point a call. */
async function logMetric(clients: Client[], experimentId: string): Promise<{ one: PairedRate; many: number }> {
  const setup = (n: number) => async (round: number) => {
    const runs = await Promise.all(
      Array.from({ length: n }, (_, c) => createRun(clients[c]!, experimentId, `log-metric-${n}-${round}-${c}`)),
    );
    return async (c: number, i: number) => {
      await clients[c]!.mlflow(
        'runs/log-metric',
        `{"run_id":"${runs[c]}","key":"loss","value":${1 / (1 + i)},"timestamp":${1_700_000_000_000 + i},"step":${i}}`,
      );
      return 1;
    };
  };
  const one = await pairedWithHealth(clients[0]!, setup(1));
  const many = await throughput(clients, 50_000, 100, setup(clients.length));
  return { one, many };
}

/** Rate of Trestle's own single-point write, `POST /api/v1/runs/{id}/batch` with one metric, one client. */
async function logMetricV1(client: Client, experimentId: string): Promise<PairedRate> {
  const setup = async (round: number) => {
    const runId = await createRun(client, experimentId, `log-metric-v1-${round}`);
    const path = `/api/v1/runs/${runId}/batch`;
    return async (_: number, i: number) => {
      const res = await client.send(
        'POST',
        path,
        `{"metrics":[{"key":"loss","value":${1 / (1 + i)},"timestamp":${1_700_000_000_000 + i},"step":${i}}]}`,
      );
      if (res.status !== 204) throw new Error(`v1 batch answered ${res.status}: ${res.body.slice(0, 500)}`);
      return 1;
    };
  };
  return pairedWithHealth(client, setup);
}

/** One rate measured in rounds alternating with bare `GET /health` rounds; medians, and the median of the per-round ratios. */
interface PairedRate {
  rate: number;
  health: number;
  ratio: number;
}

/**
 * Rates of one client's calls (`setup(round)` gives the call) in ROUNDS rounds, each right
 * after a round of bare `GET /health` calls (the HTTP floor a small write stands on) on the
 * same connection, so that each ratio compares figures measured under the same load.
 */
async function pairedWithHealth(
  client: Client,
  setup: (round: number) => Promise<(client: number, i: number) => Promise<number>>,
): Promise<PairedRate> {
  const health = async () => {
    const res = await client.send('GET', '/health');
    if (res.status !== 200) throw new Error(`/health answered ${res.status}`);
    return 1;
  };
  const warm = await setup(-1);
  for (let i = 0; i < 300; i++) {
    await health();
    await warm(0, i);
  }
  const rates: number[] = [];
  const floors: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const floor = await timedRound([client], 50_000, health);
    const rate = await timedRound([client], 50_000, await setup(round));
    rates.push(rate);
    floors.push(floor);
    ratios.push(rate / floor);
  }
  return { rate: median(rates), health: median(floors), ratio: median(ratios) };
}

/**
 * `/health` latencies (ms) while a log-metric call waits for the write lock another process
 * holds: LOCK_HOLDS holds of LOCK_HOLD_MS, probed one after another with a short pause.
 * Also returns how long the waiting writes took (each should be about the hold).
 */
async function healthWhileLocked(
  clients: Client[],
  experimentId: string,
  file: string,
): Promise<{ latencies: number[]; writeMs: number[] }> {
  const [writer, prober] = [clients[0]!, clients[1]!];
  const runId = await createRun(writer, experimentId, 'health-locked');
  await prober.send('GET', '/health');
  const latencies: number[] = [];
  const writeMs: number[] = [];
  for (let hold = 0; hold < LOCK_HOLDS; hold++) {
    const { released } = await holdWriteLock(file, LOCK_HOLD_MS);
    const lockedAt = performance.now();
    const write = writer.mlflow(
      'runs/log-metric',
      `{"run_id":"${runId}","key":"waits","value":${hold},"timestamp":${Date.now()},"step":${hold}}`,
    );
    let writing = true;
    void write.finally(() => (writing = false)).catch(() => undefined);
    while (writing) {
      const t = performance.now();
      const res = await prober.send('GET', '/health');
      if (res.status !== 200) throw new Error(`/health answered ${res.status} while the lock was held`);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, PROBE_PAUSE_MS));
    }
    await write;
    writeMs.push(performance.now() - lockedAt);
    await released;
  }
  return { latencies, writeMs };
}

/** Rates of `runs/create`. */
async function createRuns(clients: Client[], experimentId: string): Promise<{ one: number; many: number }> {
  const setup = (n: number) => (round: number) =>
    Promise.resolve(async (c: number, i: number) => {
      await clients[c]!.mlflow(
        'runs/create',
        `{"experiment_id":"${experimentId}","run_name":"create-${n}-${round}-${c}-${i}","start_time":${Date.now()}}`,
      );
      return 1;
    });
  const one = await throughput(clients.slice(0, 1), 50_000, 300, setup(1));
  const many = await throughput(clients, 50_000, 100, setup(clients.length));
  return { one, many };
}

/** Median latency of `runs/search` returning all SEARCH_RUNS runs of an experiment. */
async function searchRuns(clients: Client[]): Promise<{ ms: number; found: number }> {
  const { experiment_id: experimentId } = await clients[0]!.mlflow<{ experiment_id: string }>('experiments/create', {
    name: `bench-search-${Date.now()}`,
  });
  const models = ['lr', 'gbt', 'rf', 'svm'];
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      while (next < SEARCH_RUNS) {
        const i = next++;
        const runId = await createRun(client, experimentId, `search-${i}`);
        await client.mlflow('runs/log-batch', {
          run_id: runId,
          params: [
            { key: 'model', value: models[i % models.length]! },
            { key: 'l2', value: String((i % 10) / 10) },
            { key: 'seed', value: String(i) },
          ],
          metrics: ['acc', 'loss', 'f1'].map((key) => ({
            key,
            value: Math.random(),
            timestamp: 1_700_000_000_000,
            step: 0,
          })),
          tags: [
            { key: 'team', value: 'growth' },
            { key: 'mlflow.source.type', value: 'LOCAL' },
          ],
        });
      }
    }),
  );
  const body = JSON.stringify({ experiment_ids: [experimentId], max_results: 1000 });
  let last = '';
  const ms = await latency(15, 3, async () => {
    const res = await clients[0]!.send('POST', '/api/2.0/mlflow/runs/search', body);
    if (res.status !== 200) throw new Error(`runs/search answered ${res.status}: ${res.body.slice(0, 300)}`);
    last = res.body;
  });
  return { ms, found: (JSON.parse(last) as { runs?: unknown[] }).runs?.length ?? 0 };
}

/** Median latency of `metrics/get-history` of one HISTORY_POINTS-point metric. */
async function history(client: Client, experimentId: string): Promise<{ ms: number; found: number }> {
  const runId = await createRun(client, experimentId, 'long-history');
  for (let start = 0; start < HISTORY_POINTS; start += BATCH) {
    const metrics: Metric[] = [];
    for (let step = start; step < start + BATCH; step++) {
      metrics.push({ key: 'loss', value: 1 / (1 + step / 1000), step, timestamp: 1_700_000_000_000 + step });
    }
    await client.mlflow('runs/log-batch', { run_id: runId, metrics });
  }
  const path = `/api/2.0/mlflow/metrics/get-history?run_id=${runId}&metric_key=loss`;
  let last = '';
  const ms = await latency(9, 2, async () => {
    const res = await client.send('GET', path);
    if (res.status !== 200) throw new Error(`get-history answered ${res.status}: ${res.body.slice(0, 300)}`);
    last = res.body;
  });
  const found = (JSON.parse(last) as { metrics?: unknown[] }).metrics?.length ?? 0;
  return { ms, found };
}

/**
 * The bare store: `logBatch` of 1,000-point batches like the HTTP ones, in process, no HTTP.
 * Each batch is built before its call and only the calls are timed.
 */
async function bareIngest(store: MetadataStore): Promise<number> {
  const warm = await store.createRun({ experimentId: '0', runName: 'bare-warmup' });
  for (let b = 0; b < 100; b++) await store.logBatch(warm.info.runId, { metrics: trainingBatch(b) });
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const run = await store.createRun({ experimentId: '0', runName: `bare-${round}` });
    let points = 0;
    let busy = 0;
    for (let b = 0; b < BATCHES_PER_CLIENT && busy < ROUND_MS; b++) {
      const metrics = trainingBatch(b);
      const t = performance.now();
      await store.logBatch(run.info.runId, { metrics });
      busy += performance.now() - t;
      points += metrics.length;
    }
    rates.push(points / (busy / 1000));
  }
  return median(rates);
}

// ---------------------------------------------------------------- one engine

/** How the last server child was started, for the footer. */
let serverEntry: ServerProcess['entry'] | undefined;

async function benchEngine(
  engine: string,
  env: Record<string, string>,
  bare: number | undefined,
  sqliteFile?: string,
): Promise<Figure[]> {
  const profDir = process.env['TRESTLE_BENCH_CPU_PROF'];
  if (profDir !== undefined && profDir !== '') mkdirSync(profDir, { recursive: true });
  const server: ServerProcess = await spawnServer({
    env,
    quiet: process.env['TRESTLE_BENCH_QUIET'] === '1',
    ...(profDir === undefined || profDir === '' ? {} : { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] }),
  });
  serverEntry = server.entry;
  const clients = Array.from({ length: CLIENTS }, () => new Client(server.url));
  const figures: Figure[] = [];
  try {
    const { experiment_id: experimentId } = await clients[0]!.mlflow<{ experiment_id: string }>('experiments/create', {
      name: `bench-${Date.now()}`,
    });

    if (ONLY.has('log-batch') && bare !== undefined) {
      console.log(`${engine}: log-batch …`);
      const batch = await logBatch(clients, experimentId);
      figures.push(
        { name: 'log-batch of 1,000 points, 1 client', value: batch.one, unit: 'points/s', mlflow: MLFLOW.logBatch },
        {
          name: `log-batch of 1,000 points, ${CLIENTS} clients`,
          value: batch.many,
          unit: 'points/s',
          goal: atLeast(batch.many, 300_000),
          mlflow: MLFLOW.logBatch,
        },
        { name: 'bare store logBatch of 1,000 points, in process, 1 writer', value: bare, unit: 'points/s' },
        { name: 'log-batch over HTTP / bare store, 1 client', value: batch.one / bare, unit: 'ratio' },
        { name: `log-batch over HTTP / bare store, ${CLIENTS} clients`, value: batch.many / bare, unit: 'ratio' },
      );
    }

    if (ONLY.has('log-metric')) {
      console.log(`${engine}: log-metric …`);
      const metric = await logMetric(clients, experimentId);
      const v1 = await logMetricV1(clients[0]!, experimentId);
      figures.push(
        {
          name: 'log-metric (1 point a call), 1 client',
          value: metric.one.rate,
          unit: 'calls/s',
          goal: atLeast(metric.one.rate, 5_000),
          mlflow: MLFLOW.logMetric,
        },
        {
          name: `log-metric (1 point a call), ${CLIENTS} clients`,
          value: metric.many,
          unit: 'calls/s',
          mlflow: MLFLOW.logMetric,
        },
        { name: 'v1 runs/{id}/batch of 1 point, 1 client', value: v1.rate, unit: 'calls/s' },
        { name: 'bare GET /health, 1 client (the HTTP floor)', value: metric.one.health, unit: 'calls/s' },
        { name: 'log-metric / bare GET /health (rounds alternated), 1 client', value: metric.one.ratio, unit: 'ratio' },
        { name: 'v1 batch of 1 point / bare GET /health (rounds alternated)', value: v1.ratio, unit: 'ratio' },
      );
    }

    if (ONLY.has('health-locked') && sqliteFile !== undefined) {
      console.log(`${engine}: /health while a write waits for another process's lock …`);
      const { latencies, writeMs } = await healthWhileLocked(clients, experimentId, sqliteFile);
      const max = Math.max(...latencies);
      figures.push(
        {
          name: `/health while a write waits for the lock: probes (${LOCK_HOLDS} holds of ${LOCK_HOLD_MS} ms)`,
          value: latencies.length,
          unit: 'probes',
        },
        { name: '/health while a write waits for the lock: p50', value: quantile(latencies, 0.5), unit: 'ms' },
        { name: '/health while a write waits for the lock: p99', value: quantile(latencies, 0.99), unit: 'ms' },
        {
          name: '/health while a write waits for the lock: max',
          value: max,
          unit: 'ms',
          goal: atMost(max, 100),
        },
        { name: 'the waiting log-metric call, median (≈ the hold)', value: median(writeMs), unit: 'ms' },
      );
    }

    if (ONLY.has('create')) {
      console.log(`${engine}: runs/create …`);
      const created = await createRuns(clients, experimentId);
      figures.push(
        {
          name: 'runs/create, 1 client',
          value: created.one,
          unit: 'runs/s',
          goal: atLeast(created.one, 3_000),
          mlflow: MLFLOW.createRun,
        },
        { name: `runs/create, ${CLIENTS} clients`, value: created.many, unit: 'runs/s', mlflow: MLFLOW.createRun },
      );
    }

    if (ONLY.has('search')) {
      console.log(`${engine}: ${SEARCH_RUNS.toLocaleString('en')} runs to search …`);
      const search = await searchRuns(clients);
      figures.push({
        name: `runs/search, all ${search.found.toLocaleString('en')} runs of an experiment`,
        value: search.ms,
        unit: 'ms',
        goal: atMost(search.ms, 25),
        mlflow: MLFLOW.search,
      });
    }

    if (ONLY.has('history')) {
      console.log(`${engine}: ${HISTORY_POINTS.toLocaleString('en')}-point history …`);
      const hist = await history(clients[0]!, experimentId);
      figures.push({
        name: `metrics/get-history of ${hist.found.toLocaleString('en')} points`,
        value: hist.ms,
        unit: 'ms',
        goal: atMost(hist.ms, 60),
        mlflow: MLFLOW.history,
      });
    }
  } finally {
    for (const c of clients) c.close();
    const exit = await server.stop();
    if (exit.code !== 0)
      console.log(`${engine}: the server child exited with ${JSON.stringify(exit)}:\n${server.output().slice(-3000)}`);
  }
  return figures;
}

/** The bare store ingest rate on `uri`, measured in process with the store closed after. */
async function bareIngestOn(engine: string, uri: string, dir: string): Promise<number> {
  console.log(`${engine}: bare store …`);
  const store = await openMetadataStore(uri, { artifactRoot: join(dir, 'artifacts') });
  try {
    return await bareIngest(store);
  } finally {
    await store.close();
  }
}

async function sqliteBench(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-bench-server-'));
  try {
    const bare = ONLY.has('log-batch') ? await bareIngestOn('SQLite', join(dir, 'bare.db'), dir) : undefined;
    return await benchEngine(
      'SQLite',
      { TRESTLE_DB: join(dir, 'trestle.db'), TRESTLE_ARTIFACTS: join(dir, 'artifacts') },
      bare,
      join(dir, 'trestle.db'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function postgresBench(): Promise<Figure[] | string> {
  const base = testPostgresUri();
  const unavailable = await postgresUnavailable(base);
  if (unavailable !== undefined) return unavailable;
  const database = await createTestDatabase(base);
  const dir = mkdtempSync(join(tmpdir(), 'trestle-bench-server-'));
  try {
    const bare = ONLY.has('log-batch') ? await bareIngestOn('PostgreSQL', database.uri, dir) : undefined;
    return await benchEngine(
      'PostgreSQL',
      { TRESTLE_DB: database.uri, TRESTLE_ARTIFACTS: join(dir, 'artifacts') },
      bare,
    );
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- output

function format(value: number, unit: Figure['unit']): string {
  if (unit === 'ratio') return value.toFixed(2);
  if (unit === 'probes') return `${value} probes`;
  const v = value >= 100 ? Math.round(value).toLocaleString('en') : value.toFixed(1);
  return `${v} ${unit}`;
}

/** How many times better than MLflow: more throughput, or less latency. */
function versusMlflow(f: Figure): string {
  if (f.mlflow === undefined) return '';
  const times = f.unit === 'ms' ? f.mlflow / f.value : f.value / f.mlflow;
  return `${times >= 10 ? Math.round(times).toLocaleString('en') : times.toFixed(1)}×`;
}

function printTable(engine: string, figures: Figure[]): void {
  const rows = figures.map((f) => [
    f.name,
    format(f.value, f.unit),
    f.goal?.text ?? '',
    f.goal === undefined ? '' : f.goal.met ? 'met' : 'MISSED',
    f.mlflow === undefined ? '' : format(f.mlflow, f.unit),
    versusMlflow(f),
  ]);
  const header = ['figure', `trestle server, ${engine}`, 'goal', '', 'MLflow 2.17.2, SQLite', 'vs MLflow'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const right = new Set([1, 4, 5]);
  const line = (r: string[]) =>
    r
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}

/** Runs the benchmark and prints its tables. */
export async function run(): Promise<void> {
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  if (SCALE < 1)
    console.log(
      `TRESTLE_BENCH_SCALE=${SCALE}: A SMALLER SIZE than the goals name (${ROUNDS} rounds of ${ROUND_MS} ms, ${SEARCH_RUNS} runs searched, ${HISTORY_POINTS.toLocaleString('en')}-point history): these figures do not answer them.`,
    );
  if (ENGINES_RUN.has('sqlite')) printTable('SQLite', await sqliteBench());
  const pgFigures = ENGINES_RUN.has('postgres') ? await postgresBench() : undefined;
  if (pgFigures === undefined) console.log('\nPostgreSQL: not chosen (TRESTLE_BENCH_ENGINES)');
  else if (typeof pgFigures === 'string')
    console.log(`\nPostgreSQL: skipped — ${pgFigures} (set TRESTLE_TEST_PG to a server to include it)`);
  else printTable('PostgreSQL', pgFigures);
  console.log(
    [
      '',
      `HTTP on loopback to a server child process (${serverEntry === 'cli' ? '`trestle server`' : 'startServer, as `trestle server`'}, ${process.env['TRESTLE_BENCH_QUIET'] === '1' ? 'request logs off' : 'request logs on, as by default'}, stdout to a file), one keep-alive connection per client;`,
      `throughputs: median of ${ROUNDS} rounds of ≤ ${ROUND_MS / 1000} s after a warm-up; latencies: median, request sent → last byte received.`,
      'Goals were set for SQLite; vs MLflow = times MLflow 2.17.2 on SQLite (throughput ratio, or its latency / ours).',
      `${cpus().length} cores; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end (other work on the machine skews every figure).`,
      `total ${((performance.now() - started) / 1000).toFixed(0)} s`,
    ].join('\n'),
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
