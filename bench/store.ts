/**
 * Metadata store benchmark (`npm run bench -- store`): on a temporary SQLite file, then on a
 * fresh PostgreSQL database (skipped with a note when unreachable):
 *
 *  a. metric ingest with logBatch in batches of 1,000, against a bare insert of the same rows
 *     into an equivalent table (better-sqlite3 prepared statement / one pg unnest insert per
 *     1,000 rows), one transaction per 1,000 points;
 *  b. one metric with 1,000,000 points: full history read and a ~1,000-point downsample;
 *  c. 10,000 runs with a few params and metrics: a filtered, metric-ordered search, first 100.
 *
 * Then PostgreSQL against SQLite (time ratios; goal ≤ 1.5× on ingest and history), and the
 * PostgreSQL ingest once more with `synchronous_commit = off`: SQLite's `synchronous = NORMAL`
 * does not wait for the disk at each commit while PostgreSQL does by default, and that figure
 * shows how much of the gap the wait is.
 *
 * Prints figures and goals; never asserts (benchmarks do not fail CI on a slow machine).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MetadataStore, Metric } from '@trestle/core';
import { openMetadataStore } from '../packages/store/src/metadata/index.js';
import { BATCH, KEYS_PER_BATCH, trainingBatch } from './support/workloads.js';
import {
  createTestDatabase,
  postgresUnavailable,
  testPostgresUri,
} from '../packages/store/src/metadata/postgres-test-database.js';

/**
 * `TRESTLE_BENCH_SCALE` (0 < s ≤ 1, default 1) shrinks every size, to check that the benchmark
 * runs (a smaller size's figures do not answer the goals, and the table says so).
 */
const SCALE = Math.min(1, Math.max(0.0001, Number(process.env['TRESTLE_BENCH_SCALE'] ?? 1) || 1));
const scaled = (n: number, min = 1): number => Math.max(min, Math.round(n * SCALE));

const INGEST_POINTS = scaled(200_000, 2_000);
const INGEST_ROUNDS = 3;
const LONG_METRIC_POINTS = scaled(1_000_000, 2_000);
const SEARCH_RUNS = scaled(10_000, 100);

/** One printed figure. */
interface Figure {
  /** Set on the figures compared across engines. */
  id?: 'ingest' | 'long-ingest' | 'history' | 'downsample';
  name: string;
  value: number;
  unit: string;
  goal?: string;
  met?: boolean;
}

/** Inserts `rows` (run_id, key, step, timestamp, value, is_nan) the bare way, one transaction per call. */
type BareInsert = (rows: (string | number)[][]) => Promise<void>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

async function medianMs(times: number, fn: () => Promise<unknown>, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push(await timeMs(fn));
  return median(out);
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function ingest(store: MetadataStore, bare: BareInsert, figures: Figure[], note = ''): Promise<void> {
  const batches = INGEST_POINTS / BATCH;
  const storeRates: number[] = [];
  const bareRates: number[] = [];
  // Warm both paths up (JIT, caches), then alternate rounds so drift hits both alike.
  const warm = await store.createRun({ experimentId: '0', runName: 'bench-warmup' });
  for (let b = 0; b < 20; b++) {
    await store.logBatch(warm.info.runId, { metrics: trainingBatch(b) });
    await bare(trainingBatch(b).map((m) => ['warmup'.padEnd(32, '0'), m.key, m.step, m.timestamp, m.value, 0]));
  }
  for (let round = 0; round < INGEST_ROUNDS; round++) {
    const run = await store.createRun({ experimentId: '0', runName: `bench-ingest-${round}` });
    const data = Array.from({ length: batches }, (_, b) => trainingBatch(b));
    const storeMs = await timeMs(async () => {
      for (const metrics of data) await store.logBatch(run.info.runId, { metrics });
    });
    const bareRunId = `bare${round}`.padEnd(32, '0');
    const rows = data.map((batch) => batch.map((m) => [bareRunId, m.key, m.step, m.timestamp, m.value, 0]));
    const bareMs = await timeMs(async () => {
      for (const batch of rows) await bare(batch);
    });
    storeRates.push(INGEST_POINTS / (storeMs / 1000));
    bareRates.push(INGEST_POINTS / (bareMs / 1000));
  }
  const storeRate = median(storeRates);
  const bareRate = median(bareRates);
  figures.push(
    {
      id: 'ingest',
      name: `ingest: logBatch of ${BATCH} (${KEYS_PER_BATCH} keys), ${INGEST_POINTS / 1000}k points${note}`,
      value: storeRate,
      unit: 'points/s',
    },
    { name: `ingest: bare insert of the same rows${note}`, value: bareRate, unit: 'points/s' },
    {
      name: `ingest: store / bare${note}`,
      value: storeRate / bareRate,
      unit: 'ratio',
      goal: '≥ 0.6',
      met: storeRate / bareRate >= 0.6,
    },
  );
}

async function longMetricIngest(store: MetadataStore, figures: Figure[]): Promise<string> {
  const run = await store.createRun({ experimentId: '0', runName: 'bench-long-metric' });
  const ingestMs = await timeMs(async () => {
    for (let start = 0; start < LONG_METRIC_POINTS; start += BATCH) {
      const metrics: Metric[] = [];
      for (let step = start; step < start + BATCH; step++) {
        metrics.push({
          key: 'loss',
          value: 1 / (1 + step / 1000) + (step === 654_321 ? 10 : 0),
          step,
          timestamp: 1_700_000_000_000 + step,
        });
      }
      await store.logBatch(run.info.runId, { metrics });
    }
  });
  figures.push({
    id: 'long-ingest',
    name: `long metric: ingest ${LONG_METRIC_POINTS.toLocaleString('en')} points (one key)`,
    value: LONG_METRIC_POINTS / (ingestMs / 1000),
    unit: 'points/s',
  });
  return run.info.runId;
}

async function longMetricReads(store: MetadataStore, runId: string, figures: Figure[], note = ''): Promise<void> {
  let fullCount = 0;
  const fullMs = await medianMs(
    5,
    async () => {
      fullCount = (await store.getMetricHistory(runId, 'loss')).items.length;
    },
    1,
  );
  figures.push({
    id: 'history',
    name: `long metric: full history read (${fullCount.toLocaleString('en')} points, one call)${note}`,
    value: fullMs,
    unit: 'ms',
    goal: '≤ 400',
    met: fullMs <= 400,
  });

  let sampled: Metric[] = [];
  const downMs = await medianMs(20, async () => {
    sampled = await store.getMetricHistoryDownsampled(runId, 'loss', { points: 1000 });
  });
  const spikeKept = sampled.some((m) => m.step === 654_321);
  figures.push({
    id: 'downsample',
    name: `long metric: downsampled to ${sampled.length} points (spike ${spikeKept ? 'kept' : 'LOST'})${note}`,
    value: downMs,
    unit: 'ms',
    goal: '≤ 30',
    met: downMs <= 30,
  });
}

async function searchSetup(store: MetadataStore, figures: Figure[], concurrency: number): Promise<string> {
  const exp = await store.createExperiment({ name: `bench-search-${Date.now()}` });
  const models = ['lr', 'gbt', 'rf', 'svm'];
  const setupMs = await timeMs(() =>
    pool(
      Array.from({ length: SEARCH_RUNS }, (_, i) => i),
      concurrency,
      async (i) => {
        const run = await store.createRun({ experimentId: exp.experimentId, startTime: 1_700_000_000_000 + i });
        await store.logBatch(run.info.runId, {
          params: [
            { key: 'model', value: models[i % models.length]! },
            { key: 'l2', value: String((i % 10) / 10) },
            { key: 'seed', value: String(i) },
          ],
          metrics: [
            { key: 'acc', value: Math.random(), step: 0, timestamp: 1 },
            { key: 'loss', value: Math.random(), step: 0, timestamp: 1 },
            { key: 'f1', value: Math.random(), step: 0, timestamp: 1 },
          ],
        });
      },
    ),
  );
  figures.push({
    name: `search: create ${SEARCH_RUNS.toLocaleString('en')} runs with 3 params + 3 metrics`,
    value: setupMs / 1000,
    unit: 's',
  });
  return exp.experimentId;
}

async function search(store: MetadataStore, experimentId: string, figures: Figure[], note = ''): Promise<void> {
  let found = 0;
  const searchMs = await medianMs(20, async () => {
    const page = await store.searchRuns({
      experimentIds: [experimentId],
      filter: `metrics.acc > 0.5 AND params.model = 'lr'`,
      orderBy: ['metrics.acc DESC'],
      maxResults: 100,
    });
    found = page.items.length;
  });
  figures.push({
    name: `search: metric + param filter, ordered by metric, first ${found}${note}`,
    value: searchMs,
    unit: 'ms',
    goal: '≤ 30',
    met: searchMs <= 30,
  });
}

function format(f: Figure): string {
  if (Number.isNaN(f.value)) return '';
  const v =
    f.unit === 'ratio'
      ? f.value.toFixed(2)
      : f.value >= 100
        ? Math.round(f.value).toLocaleString('en')
        : f.value.toFixed(1);
  return `${v} ${f.unit === 'ratio' ? '' : f.unit}`.trim();
}

function printTable(engine: string, figures: Figure[]): void {
  const rows = figures.map((f) => [
    f.name,
    format(f),
    f.goal ?? '',
    f.met === undefined ? '' : f.met ? 'met' : 'MISSED',
  ]);
  const header = ['figure', engine, 'goal', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}

async function sqliteBench(): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'trestle-bench-'));
  const figures: Figure[] = [];
  const { default: Database } = await import('better-sqlite3');
  const store = await openMetadataStore(join(dir, 'trestle.db'), { artifactRoot: join(dir, 'artifacts') });
  const bareDb = new Database(join(dir, 'bare.db'));
  try {
    bareDb.pragma('journal_mode = WAL');
    bareDb.pragma('synchronous = NORMAL');
    bareDb.exec(`CREATE TABLE metrics (run_id text NOT NULL, key text NOT NULL, step bigint NOT NULL, "timestamp" bigint NOT NULL,
      value double precision NOT NULL, is_nan smallint NOT NULL DEFAULT 0,
      PRIMARY KEY (run_id, key, step, "timestamp", value, is_nan)) WITHOUT ROWID`);
    const insert = bareDb.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)');
    const insertAll = bareDb.transaction((rows: (string | number)[][]) => {
      for (const r of rows) insert.run(r);
    });
    console.log('SQLite: ingest …');
    await ingest(store, (rows) => Promise.resolve(insertAll(rows)), figures);
    console.log(`SQLite: ${LONG_METRIC_POINTS.toLocaleString('en')}-point metric …`);
    await longMetricReads(store, await longMetricIngest(store, figures), figures);
    console.log(`SQLite: ${SEARCH_RUNS.toLocaleString('en')} runs …`);
    await search(store, await searchSetup(store, figures, 1), figures);
  } finally {
    bareDb.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

async function postgresBench(): Promise<Figure[] | string> {
  const base = testPostgresUri();
  const unavailable = await postgresUnavailable(base);
  if (unavailable !== undefined) return unavailable;
  const database = await createTestDatabase(base);
  const figures: Figure[] = [];
  const { default: pg } = await import('pg');
  const store = await openMetadataStore(database.uri, { artifactRoot: '/srv/trestle/artifacts' });
  const client = new pg.Client({ connectionString: database.uri });
  let asyncStore: MetadataStore | undefined;
  try {
    await client.connect();
    await client.query(`CREATE TABLE bare_metrics (run_id text NOT NULL, key text NOT NULL, step bigint NOT NULL, "timestamp" bigint NOT NULL,
      value double precision NOT NULL, is_nan smallint NOT NULL DEFAULT 0,
      PRIMARY KEY (run_id, key, step, "timestamp", value, is_nan))`);
    const bare: BareInsert = async (rows) => {
      const columns = [0, 1, 2, 3, 4, 5].map((i) => rows.map((r) => r[i]));
      await client.query('BEGIN');
      await client.query(
        'INSERT INTO bare_metrics SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::float8[], $6::int2[])',
        columns,
      );
      await client.query('COMMIT');
    };
    console.log('PostgreSQL: ingest …');
    await ingest(store, bare, figures);
    console.log(`PostgreSQL: ${LONG_METRIC_POINTS.toLocaleString('en')}-point metric …`);
    const longRun = await longMetricIngest(store, figures);
    console.log(`PostgreSQL: ${SEARCH_RUNS.toLocaleString('en')} runs …`);
    const experimentId = await searchSetup(store, figures, 8);
    // Measured twice: as loaded, and after VACUUM ANALYZE, which autovacuum does shortly after
    // a bulk load on a default server (planner statistics, visibility map for index-only scans).
    const autovacuum = (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum ?? '?';
    await longMetricReads(store, longRun, figures, ' [as loaded]');
    await search(store, experimentId, figures, ' [as loaded]');
    await client.query('VACUUM ANALYZE');
    await longMetricReads(store, longRun, figures, ' [after VACUUM ANALYZE]');
    await search(store, experimentId, figures, ' [after VACUUM ANALYZE]');
    figures.push({ name: `(server autovacuum = ${autovacuum})`, value: NaN, unit: '' });

    console.log('PostgreSQL: ingest with synchronous_commit = off …');
    const noWait = `${database.uri}?options=${encodeURIComponent('-c synchronous_commit=off')}`;
    asyncStore = await openMetadataStore(noWait, { artifactRoot: '/srv/trestle/artifacts' });
    await client.query('SET synchronous_commit = off');
    await ingest(asyncStore, bare, figures, ' [synchronous_commit = off]');
  } finally {
    await client.end().catch(() => undefined);
    await asyncStore?.close();
    await store.close();
    await database.drop();
  }
  return figures;
}

/**
 * How many times PostgreSQL's time is SQLite's for each figure both have (a rate's inverse
 * ratio), PostgreSQL's variants (as loaded, after VACUUM, …) each on a row.
 */
function compare(sqlite: Figure[], postgres: Figure[]): Figure[] {
  const goals: Partial<Record<NonNullable<Figure['id']>, number>> = { ingest: 1.5, history: 1.5 };
  return postgres.flatMap((p) => {
    const s = sqlite.find((f) => f.id !== undefined && f.id === p.id);
    if (s === undefined || p.id === undefined) return [];
    const ratio = p.unit === 'points/s' ? s.value / p.value : p.value / s.value;
    const goal = goals[p.id];
    return [
      {
        name: `${p.name}: PostgreSQL time / SQLite time`,
        value: ratio,
        unit: 'ratio',
        ...(goal === undefined ? {} : { goal: `≤ ${goal}`, met: ratio <= goal }),
      },
    ];
  });
}

/** Runs the benchmark and prints its tables. */
export async function run(): Promise<void> {
  const started = performance.now();
  if (SCALE < 1)
    console.log(
      `TRESTLE_BENCH_SCALE=${SCALE}: A SMALLER SIZE than the goals name (${INGEST_POINTS.toLocaleString('en')} points ingested, ${LONG_METRIC_POINTS.toLocaleString('en')}-point metric, ${SEARCH_RUNS.toLocaleString('en')} runs): these figures do not answer them.`,
    );
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  const loadBefore = load();
  const sqliteFigures = await sqliteBench();
  printTable('SQLite', sqliteFigures);
  const pgFigures = await postgresBench();
  if (typeof pgFigures === 'string')
    console.log(`\nPostgreSQL: skipped — ${pgFigures} (set TRESTLE_TEST_PG to a server to include it)`);
  else {
    printTable('PostgreSQL', pgFigures);
    printTable('PostgreSQL / SQLite', compare(sqliteFigures, pgFigures));
  }
  console.log(
    `\nbare = ${'better-sqlite3 prepared INSERT per row / pg one unnest INSERT per batch'}, one transaction per ${BATCH} points; medians; total ${((performance.now() - started) / 1000).toFixed(0)} s; load average (1, 5, 15 min) ${loadBefore} at the start, ${load()} at the end, ${cpus().length} cores`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
