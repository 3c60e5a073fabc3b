import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METADATA_MIGRATIONS } from '../packages/store/src/metadata/index.js';
import {
  createTestDatabase,
  postgresTests,
  type TestDatabase,
} from '../packages/store/src/metadata/postgres-test-database.js';
import { spawnServer, type ServerExit, type ServerProcess } from './support/server-process.js';

/**
 * The server is stateless: all state lives in the metadata and artifact stores, so two
 * `trestle server` processes on one PostgreSQL database (and one artifact folder) behave as one.
 * Both start at once on a fresh, unmigrated database; then several clients write concurrently
 * through both, and every read through one server sees what was written through the other.
 */

const postgres = await postgresTests('the two-servers PostgreSQL test');
const skip = !postgres.run;

/** No request may take longer than this: a deadlock or a lost wake-up shows up as a timeout. */
const REQUEST_TIMEOUT_MS = 20_000;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** Every answer received, by server, to check that none was a 5xx. */
const answered: { server: string; path: string; status: number; body: string }[] = [];

async function call(server: ServerProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  answered.push({ server: server.url, path, status: res.status, body: res.status >= 500 ? text : '' });
  return { status: res.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const mlflow = (server: ServerProcess, rpc: string, body: unknown): Promise<Answer> =>
  call(server, 'POST', `/api/2.0/mlflow/${rpc}`, body);
const mlflowGet = (server: ServerProcess, rpc: string, query: Record<string, string>): Promise<Answer> =>
  call(server, 'GET', `/api/2.0/mlflow/${rpc}?${new URLSearchParams(query).toString()}`);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The body of a 200, or a failed expectation naming the call. */
function ok(answer: Answer, what: string): Record<string, unknown> {
  expect(answer.status, `${what}: ${JSON.stringify(answer.body)}`).toBe(200);
  return answer.body;
}

interface MlflowMetric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
interface MlflowRun {
  info: { run_id: string; experiment_id: string };
  data: {
    metrics?: MlflowMetric[];
    params?: { key: string; value: string }[];
    tags?: { key: string; value: string }[];
  };
}

async function createRun(server: ServerProcess, experimentId: string, name: string): Promise<string> {
  const body = ok(
    await mlflow(server, 'runs/create', { experiment_id: experimentId, run_name: name, start_time: Date.now() }),
    'runs/create',
  );
  return (body['run'] as MlflowRun).info.run_id;
}

async function getRun(server: ServerProcess, runId: string): Promise<MlflowRun> {
  return ok(await mlflowGet(server, 'runs/get', { run_id: runId }), 'runs/get')['run'] as MlflowRun;
}

async function createExperiment(server: ServerProcess, name: string): Promise<string> {
  return ok(await mlflow(server, 'experiments/create', { name }), 'experiments/create')['experiment_id'] as string;
}

describe.skipIf(skip)(
  `two trestle servers on one PostgreSQL database${skip ? ' (skipped: PostgreSQL is not reachable)' : ''}`,
  () => {
    let database: TestDatabase | undefined;
    let artifacts: string | undefined;
    let a: ServerProcess;
    let b: ServerProcess;
    let servers: ServerProcess[] = [];

    beforeAll(async () => {
      postgres.assertReachable();
      database = await createTestDatabase(postgres.baseUri);
      artifacts = await mkdtemp(join(tmpdir(), 'trestle-two-servers-'));
      const env = { TRESTLE_DB: database.uri, TRESTLE_ARTIFACTS: artifacts };
      // Both at once, before the schema exists: both migrate the same fresh database concurrently.
      const started = await Promise.allSettled([spawnServer({ env }), spawnServer({ env })]);
      servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      [a, b] = servers as [ServerProcess, ServerProcess];
    }, 120_000);

    afterAll(async () => {
      // SIGTERM: each must finish its requests, close its stores and exit 0 by itself.
      const exits: ServerExit[] = await Promise.all(servers.map((s) => s.stop(15_000)));
      await database?.drop();
      if (artifacts !== undefined) await rm(artifacts, { recursive: true, force: true });
      exits.forEach((exit, i) => {
        // Unexpected errors (a 5xx, a failed shutdown) are logged at level error or fatal.
        expect(exit, `server ${i} did not shut down cleanly; output:\n${servers[i]!.output().slice(-4000)}`).toEqual({
          code: 0,
          signal: null,
          killed: false,
          loggedErrors: [],
        });
      });
    }, 60_000);

    it('both migrated the fresh database at once: one schema, one Default experiment, seen by both', async () => {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: database!.uri });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>('SELECT name FROM trestle_migrations ORDER BY name');
        // Every migration applied once (the name is the table's key), by whichever server got the lock.
        expect(rows.map((r) => r.name)).toEqual([...METADATA_MIGRATIONS].sort());
        const defaults = await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM experiments WHERE name = 'Default'`,
        );
        expect(Number(defaults.rows[0]!.n)).toBe(1);
      } finally {
        await client.end();
      }
      for (const server of [a, b]) {
        const body = ok(
          await mlflowGet(server, 'experiments/get-by-name', { experiment_name: 'Default' }),
          'get-by-name',
        );
        expect((body['experiment'] as { experiment_id: string }).experiment_id).toBe('0');
      }
    });

    it('8 writers × 50 log-batch calls × 100 points to one run, interleaved across both: every point, once; latest is the max step', async () => {
      const WRITERS = 8;
      const BATCHES = 50;
      const STEPS_PER_BATCH = 50; // × 2 keys = 100 points a batch
      const KEYS = ['acc', 'loss'];
      const value = (key: string, step: number): number => (key === 'loss' ? 1 / (1 + step) : step / 1000);
      const experimentId = await createExperiment(a, 'two-servers-metrics');
      const runId = await createRun(b, experimentId, 'shared');

      const started = performance.now();
      await Promise.all(
        Array.from({ length: WRITERS }, async (_, w) => {
          for (let batch = 0; batch < BATCHES; batch++) {
            // Writers advance together, so a batch with lower steps often commits after one with
            // higher steps: latest_metrics must keep the highest.
            const first = (batch * WRITERS + w) * STEPS_PER_BATCH;
            const metrics: MlflowMetric[] = [];
            for (let step = first; step < first + STEPS_PER_BATCH; step++) {
              for (const key of KEYS)
                metrics.push({ key, value: value(key, step), timestamp: 1_700_000_000_000 + step, step });
            }
            const server = (w + batch) % 2 === 0 ? a : b;
            ok(await mlflow(server, 'runs/log-batch', { run_id: runId, metrics }), `log-batch w${w} b${batch}`);
          }
        }),
      );
      const elapsed = performance.now() - started;
      const total = WRITERS * BATCHES * STEPS_PER_BATCH;
      console.log(
        `two servers: ${WRITERS * BATCHES} log-batch calls, ${total * KEYS.length} points in ${elapsed.toFixed(0)} ms`,
      );

      for (const [key, reader] of [
        [KEYS[0]!, a],
        [KEYS[1]!, b],
      ] as const) {
        const body = ok(
          await mlflowGet(reader, 'metrics/get-history', { run_id: runId, metric_key: key }),
          'get-history',
        );
        const points = body['metrics'] as MlflowMetric[];
        expect(points).toHaveLength(total);
        const steps = new Set(points.map((p) => p.step));
        expect(steps.size).toBe(total);
        expect(Math.min(...steps)).toBe(0);
        expect(Math.max(...steps)).toBe(total - 1);
        for (const p of points) {
          if (p.value !== value(key, p.step) || p.timestamp !== 1_700_000_000_000 + p.step) {
            expect(p, 'a point came back changed').toEqual({
              key,
              value: value(key, p.step),
              timestamp: 1_700_000_000_000 + p.step,
              step: p.step,
            });
          }
        }
      }
      for (const reader of [a, b]) {
        const latest = (await getRun(reader, runId)).data.metrics ?? [];
        expect(latest.sort((x, y) => (x.key < y.key ? -1 : 1))).toEqual(
          KEYS.map((key) => ({
            key,
            value: value(key, total - 1),
            timestamp: 1_700_000_000_000 + total - 1,
            step: total - 1,
          })),
        );
      }
      // The rollups behind downsampled histories stayed consistent too: the ends are there.
      const sampled = ok(
        await mlflowGet(a, 'metrics/get-history-bulk-interval', {
          run_ids: runId,
          metric_key: 'loss',
          max_results: '500',
        }),
        'get-history-bulk-interval',
      )['metrics'] as MlflowMetric[];
      const sampledSteps = sampled.map((p) => p.step);
      expect(sampledSteps).toContain(0);
      expect(sampledSteps).toContain(total - 1);
      expect(new Set(sampledSteps).size).toBe(sampledSteps.length);
    }, 120_000);

    it('params: the same value from both servers is accepted; different values at once, exactly one wins', async () => {
      const runId = await createRun(a, '0', 'params');
      const KEYS = 20;
      const keys = Array.from({ length: KEYS }, (_, i) => `p${String(i).padStart(2, '0')}`);

      // Same key, same value, from both at once: both OK (MLflow's rule: logging a param again is fine).
      const same = await Promise.all(
        keys.flatMap((key) =>
          [a, b].map((server) => mlflow(server, 'runs/log-parameter', { run_id: runId, key, value: 'same' })),
        ),
      );
      expect(same.map((r) => r.status)).toEqual(same.map(() => 200));

      // MLflow dialect: different values at once → one 200, one INVALID_PARAMETER_VALUE (400).
      const mlflowRace = await Promise.all(
        keys.map(async (key) => {
          const [fromA, fromB] = await Promise.all([
            mlflow(a, 'runs/log-parameter', { run_id: runId, key: `m-${key}`, value: 'from-a' }),
            mlflow(b, 'runs/log-parameter', { run_id: runId, key: `m-${key}`, value: 'from-b' }),
          ]);
          return { key: `m-${key}`, fromA, fromB };
        }),
      );
      // REST v1: the same race through the batch endpoint → one 204, one CONFLICT (409).
      const v1Race = await Promise.all(
        keys.map(async (key) => {
          const batch = (server: ServerProcess, value: string) =>
            call(server, 'POST', `/api/v1/runs/${runId}/batch`, { params: [{ key: `v-${key}`, value }] });
          const [fromA, fromB] = await Promise.all([batch(a, 'from-a'), batch(b, 'from-b')]);
          return { key: `v-${key}`, fromA, fromB };
        }),
      );

      const stored = new Map(((await getRun(b, runId)).data.params ?? []).map((p) => [p.key, p.value]));
      for (const key of keys) expect(stored.get(key)).toBe('same');
      for (const { key, fromA, fromB } of mlflowRace) {
        const statuses = [fromA.status, fromB.status].sort();
        expect(statuses, `${key}: ${JSON.stringify([fromA.body, fromB.body])}`).toEqual([200, 400]);
        const loser = fromA.status === 400 ? fromA : fromB;
        expect(loser.body['error_code']).toBe('INVALID_PARAMETER_VALUE');
        expect(stored.get(key)).toBe(fromA.status === 200 ? 'from-a' : 'from-b');
      }
      for (const { key, fromA, fromB } of v1Race) {
        const statuses = [fromA.status, fromB.status].sort();
        expect(statuses, `${key}: ${JSON.stringify([fromA.body, fromB.body])}`).toEqual([204, 409]);
        const loser = fromA.status === 409 ? fromA : fromB;
        expect((loser.body['error'] as { code: string }).code).toBe('CONFLICT');
        expect(stored.get(key)).toBe(fromA.status === 204 ? 'from-a' : 'from-b');
      }
    }, 60_000);

    it('tags: one key set at once through both servers by many writers: every call OK, one value kept, one row', async () => {
      const runId = await createRun(b, '0', 'tags');
      const WRITERS = 24;
      const answers = await Promise.all(
        Array.from({ length: WRITERS }, (_, w) =>
          mlflow(w % 2 === 0 ? a : b, 'runs/set-tag', { run_id: runId, key: 'owner', value: `writer-${w}` }),
        ),
      );
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      const [fromA, fromB] = await Promise.all([getRun(a, runId), getRun(b, runId)]);
      const owners = (fromA.data.tags ?? []).filter((t) => t.key === 'owner');
      expect(owners).toHaveLength(1);
      expect(owners[0]!.value).toMatch(/^writer-\d+$/);
      expect((fromB.data.tags ?? []).filter((t) => t.key === 'owner')).toEqual(owners);
    });

    it('experiments with the same name created at once on both: exactly one wins, the other is told it exists', async () => {
      const NAMES = 15;
      const mlflowRace = await Promise.all(
        Array.from({ length: NAMES }, async (_, i) => {
          const name = `race-mlflow-${i}`;
          const answers = await Promise.all([a, b].map((server) => mlflow(server, 'experiments/create', { name })));
          return { name, answers };
        }),
      );
      const v1Race = await Promise.all(
        Array.from({ length: NAMES }, async (_, i) => {
          const name = `race-v1-${i}`;
          const answers = await Promise.all(
            [a, b].map((server) => call(server, 'POST', '/api/v1/experiments', { name })),
          );
          return { name, answers };
        }),
      );

      for (const { name, answers } of mlflowRace) {
        expect(answers.map((r) => r.status).sort(), `${name}: ${JSON.stringify(answers.map((r) => r.body))}`).toEqual([
          200, 400,
        ]);
        const winner = answers.find((r) => r.status === 200)!;
        expect(answers.find((r) => r.status === 400)!.body['error_code']).toBe('RESOURCE_ALREADY_EXISTS');
        for (const server of [a, b]) {
          const found = ok(
            await mlflowGet(server, 'experiments/get-by-name', { experiment_name: name }),
            'get-by-name',
          );
          expect((found['experiment'] as { experiment_id: string }).experiment_id).toBe(winner.body['experiment_id']);
        }
      }
      for (const { name, answers } of v1Race) {
        expect(answers.map((r) => r.status).sort(), `${name}: ${JSON.stringify(answers.map((r) => r.body))}`).toEqual([
          201, 409,
        ]);
        expect((answers.find((r) => r.status === 409)!.body['error'] as { code: string }).code).toBe('ALREADY_EXISTS');
      }
      const listed = ok(
        await mlflow(b, 'experiments/search', { max_results: 1000, filter: "name LIKE 'race-%'" }),
        'experiments/search',
      );
      expect((listed['experiments'] as unknown[]).length).toBe(2 * NAMES);
    }, 60_000);

    it('runs created and tagged concurrently through both: each write is visible through the other server at once', async () => {
      const CLIENTS = 6;
      const RUNS_PER_CLIENT = 15;
      const experimentId = await createExperiment(b, 'two-servers-runs');
      const created = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, c) => {
          const ids: string[] = [];
          for (let i = 0; i < RUNS_PER_CLIENT; i++) {
            const [writer, reader] = (c + i) % 2 === 0 ? [a, b] : [b, a];
            const runId = await createRun(writer, experimentId, `c${c}-r${i}`);
            // Read-your-writes across servers: the run and then its tag, at once, through the other one.
            expect((await getRun(reader, runId)).info.run_id).toBe(runId);
            ok(await mlflow(reader, 'runs/set-tag', { run_id: runId, key: 'client', value: String(c) }), 'set-tag');
            ok(await mlflow(writer, 'runs/set-tag', { run_id: runId, key: 'shared', value: `r${i}` }), 'set-tag');
            ok(
              await mlflow(reader, 'runs/log-metric', {
                run_id: runId,
                key: 'm',
                value: i,
                timestamp: Date.now(),
                step: i,
              }),
              'log-metric',
            );
            const seen = await getRun(writer, runId);
            const tags = new Map((seen.data.tags ?? []).map((t) => [t.key, t.value]));
            expect(tags.get('client')).toBe(String(c));
            expect(tags.get('shared')).toBe(`r${i}`);
            expect(tags.get('mlflow.runName')).toBe(`c${c}-r${i}`);
            expect(seen.data.metrics).toEqual([expect.objectContaining({ key: 'm', value: i, step: i })]);
            ids.push(runId);
          }
          return ids;
        }),
      );
      const all = created.flat();
      expect(new Set(all).size).toBe(CLIENTS * RUNS_PER_CLIENT);
      for (const server of [a, b]) {
        const body = ok(
          await mlflow(server, 'runs/search', { experiment_ids: [experimentId], max_results: 1000 }),
          'runs/search',
        );
        const runs = body['runs'] as MlflowRun[];
        expect(runs.map((r) => r.info.run_id).sort()).toEqual([...all].sort());
        const tagged = ok(
          await mlflow(server, 'runs/search', {
            experiment_ids: [experimentId],
            filter: "tags.client = '3'",
            max_results: 1000,
          }),
          'runs/search',
        )['runs'] as MlflowRun[];
        expect(tagged).toHaveLength(RUNS_PER_CLIENT);
      }
    }, 60_000);

    it('artifacts: uploaded through one server, listed and downloaded byte for byte through the other; racing uploads never mix', async () => {
      const runId = await createRun(a, '0', 'artifacts');
      const root = `0/${runId}/artifacts`;
      const url = (server: ServerProcess, path: string) =>
        `${server.url}/api/2.0/mlflow-artifacts/artifacts/${root}/${path}`;
      const put = async (server: ServerProcess, path: string, bytes: Uint8Array) => {
        const res = await fetch(url(server, path), {
          method: 'PUT',
          body: bytes,
          headers: { 'content-type': 'application/octet-stream' },
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        answered.push({ server: server.url, path, status: res.status, body: '' });
        expect(res.status, await res.text()).toBe(200);
      };
      const get = async (server: ServerProcess, path: string) => {
        const res = await fetch(url(server, path), { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        answered.push({ server: server.url, path, status: res.status, body: '' });
        expect(res.status).toBe(200);
        return sha256(new Uint8Array(await res.arrayBuffer()));
      };
      const files = Array.from({ length: 6 }, (_, i) => ({
        path: `data/part-${i}.bin`,
        bytes: randomBytes(256 * 1024 + i),
      }));
      await Promise.all(files.map((f, i) => put(i % 2 === 0 ? a : b, f.path, f.bytes)));
      for (const [i, f] of files.entries()) expect(await get(i % 2 === 0 ? b : a, f.path)).toBe(sha256(f.bytes));
      const listing = await call(
        b,
        'GET',
        `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${root}/data`)}`,
      );
      const listed = ok(listing, 'artifact list')['files'] as { path: string }[];
      expect(listed.map((e) => e.path).sort()).toEqual(files.map((f) => f.path.slice('data/'.length)).sort());

      // The same path from both at once: the file is one upload or the other, whole.
      const one = randomBytes(2 * 1024 * 1024);
      const other = randomBytes(2 * 1024 * 1024);
      await Promise.all([put(a, 'model.bin', one), put(b, 'model.bin', other)]);
      expect([sha256(one), sha256(other)]).toContain(await get(a, 'model.bin'));
      expect(await get(b, 'model.bin')).toBe(await get(a, 'model.bin'));
    });

    it('answered no request with a 5xx', () => {
      expect(answered.length).toBeGreaterThan(500);
      expect(answered.filter((r) => r.status >= 500)).toEqual([]);
    });
  },
);
